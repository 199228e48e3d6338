import { parseArgs } from 'node:util';

export const PHASES = ['backup', 'restore', 'wal'] as const;
export type Phase = (typeof PHASES)[number];

export interface PgBenchOptions {
  readonly quick: boolean;
  readonly json: boolean;
  /** pgbench -i -s: 70 ≈ 1.05 GB of data directory. */
  readonly scale: number;
  /** pgbench -T of each archiving measurement. */
  readonly walSeconds: number;
  readonly clients: number;
  readonly threads: number;
  /** pgbench -T before and after the restore target (the WAL a restore replays). */
  readonly writesAroundTargetSeconds: number;
  /** Segments written with archiving paused, then drained by each archiver (its ceiling). */
  readonly backlogSegments: number;
  readonly phases: readonly Phase[];
  /** The run is stopped (and flagged) past this. */
  readonly budgetMs: number;
}

export const USAGE = `usage: npm run bench:pg -- [--quick] [--scale N] [--wal-seconds N] [--phases LIST] [--json]
  --quick          smoke run: pgbench scale 5 (≈ 100 MB), 15 s per archiving measurement,
                   a backlog of 8 segments (default 32) for each archiver's ceiling
  --scale N        pgbench -i -s N (default 70 ≈ 1.05 GB)
  --wal-seconds N  pgbench -T for each archive_command measured (default 60)
  --phases LIST    only some of backup,restore,wal (restore needs backup; for profiling)
  --budget-minutes N  stop (and flag the run) after N minutes (default 40)
  --json           print machine-readable results instead of the Markdown tables
Runs as root (clusters and tools then run as the postgres OS user) or as a user that can run
PostgreSQL. Needs PostgreSQL 15 binaries (HOLDFAST_BENCH_PG_BIN, default /usr/lib/postgresql/15/bin),
pgbench and pgBackRest (HOLDFAST_BENCH_PGBACKREST, default /usr/bin/pgbackrest).
HOLDFAST_BENCH_NODE_FLAGS adds node flags to the vault (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).`;

export function parsePgBenchOptions(argv: readonly string[]): PgBenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      scale: { type: 'string' },
      'wal-seconds': { type: 'string' },
      phases: { type: 'string', default: PHASES.join(',') },
      'budget-minutes': { type: 'string', default: '40' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const phases = values.phases.split(',').map((name) => name.trim());
  for (const name of phases) {
    if (!(PHASES as readonly string[]).includes(name)) throw new Error(`--phases: unknown phase "${name}"; use a comma-separated list of ${PHASES.join(', ')}`);
  }
  if (phases.includes('restore') && !phases.includes('backup')) throw new Error('--phases: restore needs backup (it restores the backups just taken)');
  return Object.freeze({
    quick: values.quick,
    json: values.json,
    scale: positive('scale', values.scale) ?? (values.quick ? 5 : 70),
    walSeconds: positive('wal-seconds', values['wal-seconds']) ?? (values.quick ? 15 : 60),
    clients: 4,
    threads: 2,
    writesAroundTargetSeconds: values.quick ? 2 : 5,
    backlogSegments: values.quick ? 8 : 32,
    phases: phases as Phase[],
    budgetMs: (positive('budget-minutes', values['budget-minutes']) ?? 40) * 60_000,
  });
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`--${name}: give a whole number from 1, not "${value}"`);
  return n;
}
