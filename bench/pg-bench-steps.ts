import { chown, mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { HoldfastTool, PgBackRestTool, BackupMeasure, RestoreMeasure } from './pg-backup-tools.js';
import type { PgBenchOptions } from './pg-bench-options.js';
import { type BenchCluster, PG_BIN, startRestored, waitUntil } from './pg-cluster.js';
import { CpuMeter, type OsUser, removeTree, run } from './pg-host.js';
import { type BackupRow, HOLDFAST_DEFAULT_RESTORE, type RestoreRow, type RowKind } from './pg-report.js';
import type { BenchVault } from './pg-vault.js';
import { switchAndWaitArchived } from './pg-wal-load.js';

/** The backup and restore steps of `bench:pg`, each timed on its own, floors first. */

export interface StepContext {
  readonly source: BenchCluster;
  readonly holdfast: HoldfastTool;
  readonly pgbackrest: PgBackRestTool;
  readonly vault: BenchVault;
  readonly user: OsUser | undefined;
  readonly scratch: string;
  readonly dataDirBytes: number;
  readonly options: PgBenchOptions;
  readonly progress: (message: string) => void;
  readonly failures: string[];
}

export interface BackupsMeasured {
  readonly rows: BackupRow[];
  /** The pgBackRest backup set the restores use (its newest). */
  readonly pgbackrestSet: string | undefined;
}

const FLOOR_TIMEOUT_MS = 30 * 60_000;
const PATH_ENV = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };

function floorArchive(ctx: StepContext): string {
  return join(ctx.scratch, 'floor-base.tar.gz');
}

export async function measureBackups(ctx: StepContext): Promise<BackupsMeasured> {
  const rows: BackupRow[] = [];
  const { source } = ctx;
  const floor = async (label: string, pipeline: string, args: readonly string[], stored: (stdout: string) => Promise<number | undefined>) =>
    step(ctx, rows, 'floor', label, async () => {
      const result = await run(pipeline, args, { env: PATH_ENV, user: ctx.user, cwd: ctx.scratch, shell: true, timeoutMs: FLOOR_TIMEOUT_MS, okCodes: [0] });
      return { wallMs: result.wallMs, toolCpuSeconds: result.cpuSeconds, storedBytes: await stored(result.stdout), id: label };
    });
  // GNU tar skips reading files it writes to /dev/null, so every floor writes to a pipe. Exit 1
  // ("file changed as we read it") cannot happen: the cluster is idle and checkpointed.
  await floor('floor: `tar` of the data directory → pipe', 'tar -C "$1" --exclude=./pg_wal -cf - . | wc -c', [source.dataDir], async () => undefined);
  await floor('floor: `tar | gzip -1` → pipe (one core)', 'tar -C "$1" --exclude=./pg_wal -cf - . | gzip -1 | wc -c', [source.dataDir], async (out) => Number(out.trim()));
  await floor(
    'floor: `pg_basebackup -Ft | gzip -1` → local file',
    `"${PG_BIN}/pg_basebackup" -h 127.0.0.1 -p "$1" -U postgres -D - -F tar -X none --checkpoint=fast | gzip -1 > "$2"`,
    [String(source.port), floorArchive(ctx)],
    async () => (await stat(floorArchive(ctx))).size,
  );
  await step(ctx, rows, 'holdfast', 'Holdfast', () => ctx.holdfast.backup(source));
  let pgbackrestSet: string | undefined;
  for (const processMax of [1, 2]) {
    const measured = await step(ctx, rows, 'pgbackrest', `pgBackRest process-max=${processMax}`, () => ctx.pgbackrest.backup(processMax));
    if (measured !== undefined) pgbackrestSet = measured.id;
  }
  // A second Holdfast backup, right after pgBackRest's: each tool then restores from a backup
  // taken minutes before the target and replays the same WAL (before, Holdfast's older backup
  // also replayed the WAL of pgBackRest's two backups). It is a second sample of the backup too.
  await step(ctx, rows, 'holdfast', 'Holdfast (again, after pgBackRest)', () => ctx.holdfast.backup(source));
  return { rows, pgbackrestSet };
}

async function step(ctx: StepContext, rows: BackupRow[], kind: RowKind, label: string, measure: () => Promise<BackupMeasure>): Promise<BackupMeasure | undefined> {
  ctx.progress(`backup: ${label} …`);
  const meter = await CpuMeter.start(ctx.vault.pid);
  try {
    const measured = await measure();
    const cpu = await meter.read();
    const mbPerSecond = ctx.dataDirBytes / 1e6 / (measured.wallMs / 1000);
    rows.push({ kind, label, wallMs: measured.wallMs, mbPerSecond, storedBytes: measured.storedBytes, toolCpuSeconds: measured.toolCpuSeconds, cpu });
    ctx.progress(`backup: ${label} → ${(measured.wallMs / 1000).toFixed(1)} s, ${mbPerSecond.toFixed(0)} MB/s, stored ${measured.storedBytes === undefined ? '—' : `${(measured.storedBytes / 1e6).toFixed(0)} MB`}`);
    return measured;
  } catch (error) {
    ctx.failures.push(`backup ${label}: ${describe(error)}`);
    ctx.progress(`backup: ${label} failed: ${describe(error).split('\n')[0] ?? ''}`);
    return undefined;
  }
}

/**
 * Writes before and after a recovery target a few seconds past the last backup, with a marker
 * row on each side, and waits until both repositories hold the WAL past it.
 */
export async function prepareRestoreTarget(ctx: StepContext): Promise<string> {
  const { source, options } = ctx;
  const pgbench = () =>
    run(join(PG_BIN, 'pgbench'), ['-h', source.base, '-p', String(source.port), '-U', 'postgres', '-n', '-c', String(options.clients), '-j', String(options.threads), '-T', String(options.writesAroundTargetSeconds), 'postgres'], {
      env: PATH_ENV,
      user: ctx.user,
      cwd: ctx.scratch,
      timeoutMs: 120_000,
    });
  await source.query('CREATE TABLE bench_marks (id int PRIMARY KEY, note text NOT NULL)');
  await pgbench();
  await source.query("INSERT INTO bench_marks VALUES (1, 'before the target')");
  await sleep(300);
  const [row] = await source.query<{ at: string }>("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS at");
  await sleep(300);
  await source.query("INSERT INTO bench_marks VALUES (2, 'after the target')");
  await pgbench();
  await switchAndWaitArchived(source);
  ctx.progress(`restore target ${row!.at}: writes on both sides archived by both tools`);
  return row!.at;
}

export async function measureRestores(ctx: StepContext, targetTime: string, pgbackrestSet: string | undefined): Promise<RestoreRow[]> {
  const rows: RestoreRow[] = [];
  let n = 0;
  const restoreBase = async () => {
    const base = join(ctx.scratch, `restore-${++n}`);
    await mkdir(join(base, 'data'), { recursive: true, mode: 0o700 });
    if (ctx.user !== undefined) {
      await chown(base, ctx.user.uid, ctx.user.gid);
      await chown(join(base, 'data'), ctx.user.uid, ctx.user.gid);
    }
    return base;
  };

  // The floor: the local archive from the backup floor, unpacked and flushed; no recovery.
  const floorBase = await restoreBase();
  await restoreStep(ctx, rows, 'floor', 'floor: `gzip -dc | tar x` of the local file + `sync`', async () => {
    const result = await run('gzip -dc "$1" | tar -xf - -C "$2" && sync -f "$2"', [floorArchive(ctx), join(floorBase, 'data')], { env: PATH_ENV, user: ctx.user, cwd: ctx.scratch, shell: true, timeoutMs: FLOOR_TIMEOUT_MS });
    return { restore: { wallMs: result.wallMs, toolCpuSeconds: result.cpuSeconds } };
  });
  await removeTree(floorBase);

  const recover = async (base: string, env: Record<string, string>) => {
    const started = performance.now();
    const copy = await startRestored(base, { user: ctx.user, env, startTimeoutMs: 10 * 60_000 });
    try {
      await waitUntil(
        `the restored copy to promote\n${copy.output().slice(-2000)}`,
        async () => (await copy.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering'))[0]?.recovering === false,
        10 * 60_000,
        50,
      );
      const recoveryMs = performance.now() - started;
      const marks = await copy.query<{ id: number }>('SELECT id FROM bench_marks ORDER BY id');
      // PostgreSQL logs each file restore_command delivered; every call is one process start.
      const walFetched = (copy.output().match(/restored log file "[0-9A-F]{24}" from archive/g) ?? []).length;
      const logs = process.env['HOLDFAST_BENCH_RECOVERY_LOGS'];
      if (logs !== undefined) await writeFile(join(logs, `recovery-${basename(base)}.log`), copy.output());
      return { recoveryMs, verified: marks.length === 1 && marks[0]?.id === 1, walFetched };
    } finally {
      await copy.stop();
    }
  };

  for (const prefetch of [false, true]) {
    const base = await restoreBase();
    const label = prefetch ? HOLDFAST_DEFAULT_RESTORE : 'Holdfast, restore_command with `--no-prefetch` (a download per call)';
    // --into may be an empty directory (Holdfast refuses a non-empty one).
    await restoreStep(ctx, rows, 'holdfast', label, async () => {
      const restore = await ctx.holdfast.restore(join(base, 'data'), targetTime, prefetch);
      return { restore, ...(await recover(base, ctx.holdfast.restoredEnv())) };
    });
    await removeTree(base);
  }
  if (pgbackrestSet === undefined) {
    ctx.failures.push('pgBackRest restores: no pgBackRest backup to restore');
    return rows;
  }
  for (const processMax of [1, 2]) {
    const base = await restoreBase();
    await restoreStep(ctx, rows, 'pgbackrest', `pgBackRest process-max=${processMax}`, async () => {
      const restore = await ctx.pgbackrest.restore(join(base, 'data'), targetTime, pgbackrestSet, processMax);
      return { restore, ...(await recover(base, ctx.pgbackrest.serverEnv())) };
    });
    await removeTree(base);
  }
  return rows;
}

interface RestoreOutcome {
  readonly restore: RestoreMeasure;
  readonly recoveryMs?: number;
  readonly verified?: boolean;
  readonly walFetched?: number;
}

async function restoreStep(ctx: StepContext, rows: RestoreRow[], kind: RowKind, label: string, measure: () => Promise<RestoreOutcome>): Promise<void> {
  ctx.progress(`restore: ${label} …`);
  const meter = await CpuMeter.start(ctx.vault.pid);
  try {
    const outcome = await measure();
    const cpu = await meter.read();
    const rtoMs = outcome.restore.wallMs + (outcome.recoveryMs ?? 0);
    rows.push({
      kind,
      label,
      restoreMs: outcome.restore.wallMs,
      recoveryMs: outcome.recoveryMs,
      rtoMs,
      toolCpuSeconds: outcome.restore.toolCpuSeconds,
      targetVerified: outcome.verified,
      walFetched: outcome.walFetched,
      cpu,
    });
    if (outcome.verified === false) ctx.failures.push(`restore ${label}: the copy does not hold exactly the marker written before the target`);
    ctx.progress(
      `restore: ${label} → restore ${(outcome.restore.wallMs / 1000).toFixed(1)} s` +
        (outcome.recoveryMs === undefined ? '' : ` + recovery ${(outcome.recoveryMs / 1000).toFixed(1)} s (${outcome.walFetched ?? '?'} WAL files fetched) = ${(rtoMs / 1000).toFixed(1)} s`),
    );
  } catch (error) {
    ctx.failures.push(`restore ${label}: ${describe(error)}`);
    ctx.progress(`restore: ${label} failed: ${describe(error).split('\n')[0] ?? ''}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
