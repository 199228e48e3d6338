import { parseArgs } from 'node:util';

export interface BenchOptions {
  readonly quick: boolean;
  readonly json: boolean;
  /** Size of the large object. */
  readonly largeBytes: number;
  /** Measured window of each 4 KiB point (after the warm-up). */
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Keys presigned for each 4 KiB PUT point: the point ends early if a server is faster than that. */
  readonly smallPutKeys: number;
  readonly concurrencies: readonly number[];
  /** The whole run is stopped (and flagged) past this. */
  readonly budgetMs: number;
  /** Which columns to measure; all of them unless narrowed for a profile. */
  readonly columns: readonly ColumnName[];
  /** Which rows to measure; all of them unless narrowed for a profile. */
  readonly rows: 'all' | 'large' | 'small';
}

export const COLUMN_NAMES = ['ceiling', 'holdfast', 's3rver', 'raw'] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];

const MiB = 1024 * 1024;

export const USAGE = `usage: npm run bench:s3 -- [--quick] [--json]
  --quick   smoke run: 256 MiB large object, 2 s per 4 KiB point
  --json    print machine-readable results instead of the Markdown table
  --columns LIST   only these of ceiling,holdfast,s3rver,raw (for profiling; the table needs all)
  --rows large|small   only the large-object or only the 4 KiB rows (for profiling)
Environment: HOLDFAST_BENCH_NODE_FLAGS adds node flags to the Holdfast server (e.g. --cpu-prof).`;

export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      columns: { type: 'string', default: COLUMN_NAMES.join(',') },
      rows: { type: 'string', default: 'all' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const columns = values.columns.split(',').map((name) => name.trim());
  for (const name of columns) {
    if (!(COLUMN_NAMES as readonly string[]).includes(name)) {
      throw new Error(`--columns: unknown column "${name}"; use a comma-separated list of ${COLUMN_NAMES.join(', ')}`);
    }
  }
  const rows = values.rows;
  if (rows !== 'all' && rows !== 'large' && rows !== 'small') throw new Error(`--rows: use large, small or all, not "${rows}"`);
  const common = {
    json: values.json,
    concurrencies: [1, 16, 64],
    budgetMs: 5 * 60_000,
    columns: columns as ColumnName[],
    rows,
  } as const;
  return Object.freeze(
    values.quick
      ? { ...common, quick: true, largeBytes: 256 * MiB, durationMs: 2_000, warmupMs: 200, smallPutKeys: 25_000 }
      : { ...common, quick: false, largeBytes: 1024 * MiB, durationMs: 5_000, warmupMs: 300, smallPutKeys: 80_000 },
  );
}
