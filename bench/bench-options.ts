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
  /**
   * How many times each 4 KiB point is measured per column, the columns taking turns round by
   * round; the table shows the median. The large rows and the generator ceiling run once.
   */
  readonly rounds: number;
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
/** Past this a full run takes over half an hour: a sign of a typo rather than a wish. */
const MAX_ROUNDS = 9;

export const USAGE = `usage: npm run bench:s3 -- [--quick] [--json] [--rounds N]
  --quick   smoke run: 256 MiB large object, 2 s per 4 KiB point, one round
  --json    print machine-readable results instead of the Markdown table
  --rounds N   measure each 4 KiB point N times per column, columns alternating (default 3, --quick 1)
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
      rounds: { type: 'string' },
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
  const rounds = values.rounds === undefined ? (values.quick ? 1 : 3) : parseRounds(values.rounds);
  const common = {
    json: values.json,
    concurrencies: [1, 16, 64],
    rounds,
    columns: columns as ColumnName[],
    rows,
  } as const;
  // One round of every column takes ≈ 4 minutes in a full run on a quiet 2-core VM; each further
  // round of the 4 KiB points (three columns × six points of 5 s, up to 80,000 keys presigned
  // before each PUT point) about 2.5 more, twice that on a loaded machine (presigning is CPU).
  return Object.freeze(
    values.quick
      ? { ...common, quick: true, budgetMs: (5 + 2 * (rounds - 1)) * 60_000, largeBytes: 256 * MiB, durationMs: 2_000, warmupMs: 200, smallPutKeys: 25_000 }
      : { ...common, quick: false, budgetMs: (6 + 4 * (rounds - 1)) * 60_000, largeBytes: 1024 * MiB, durationMs: 5_000, warmupMs: 300, smallPutKeys: 80_000 },
  );
}

function parseRounds(text: string): number {
  const rounds = Number(text);
  if (!/^\d+$/.test(text) || rounds < 1 || rounds > MAX_ROUNDS) {
    throw new Error(`--rounds: use a whole number from 1 to ${MAX_ROUNDS}, not "${text}"`);
  }
  return rounds;
}
