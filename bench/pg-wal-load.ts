import { readdir, readFile } from 'node:fs/promises';
import { type BenchCluster, PG_BIN, segmentOf, waitUntil } from './pg-cluster.js';
import { CpuMeter, type CpuUse, type OsUser, run } from './pg-host.js';

/**
 * WAL archiving under pgbench load: one archive_command, one pgbench run, PostgreSQL's own
 * bookkeeping as the measure. A segment is waiting to be archived while its `.ready` file is in
 * pg_wal/archive_status; PostgreSQL removes it only when archive_command has exited 0 for it, so
 * the count is the archiving lag in segments for synchronous and asynchronous archivers alike
 * (an async archive_command still exits 0 only once its worker has stored the segment).
 */

export interface ArchiverVariant {
  readonly id: string;
  readonly label: string;
  readonly archiveCommand: string;
}

export interface WalLoadResult {
  readonly id: string;
  readonly label: string;
  readonly archiveCommand: string;
  readonly seconds: number;
  /** pgbench's tps (without initial connection time). */
  readonly tps: number | undefined;
  /** Segments PostgreSQL completed during the pgbench run (LSN at the end minus at the start). */
  readonly segmentsGenerated: number;
  /** Segments archive_command completed from the start until the backlog was empty. */
  readonly segmentsArchived: number;
  /** segmentsArchived over the time from the start until the backlog was empty. */
  readonly archivedPerSecond: number;
  readonly generatedPerSecond: number;
  /** The most `.ready` segments seen (sampled every 200 ms). */
  readonly maxLagSegments: number;
  readonly lagAtEndSegments: number;
  /** From pgbench's end until no `.ready` was left. */
  readonly drainMs: number | undefined;
  /** archive_command failures (pg_stat_archiver.failed_count) during the measurement. */
  readonly failures: number;
  readonly cpu: CpuUse;
  /** The archiver's own limit: a backlog of segments written with archiving paused, then drained. */
  readonly backlog: BacklogDrain | undefined;
}

export interface BacklogDrain {
  readonly segments: number;
  readonly drainMs: number;
  readonly perSecond: number;
  readonly cpu: CpuUse;
}

export interface WalLoadOptions {
  readonly seconds: number;
  readonly clients: number;
  readonly threads: number;
  readonly user: OsUser | undefined;
  readonly vaultPid: number;
  readonly drainTimeoutMs: number;
  /** Segments of backlog for the drain measurement (0: skip it). */
  readonly backlogSegments: number;
}

interface ArchiverStats {
  archived: number;
  failed: number;
  lsn: string;
}

const SAMPLE_EVERY_MS = 200;

export async function setArchiveCommand(cluster: BenchCluster, command: string): Promise<void> {
  await cluster.query(`ALTER SYSTEM SET archive_command = '${command.replaceAll("'", "''")}'`);
  await cluster.query('SELECT pg_reload_conf()');
  // The archiver rereads the file on its SIGHUP; a new backend shows the value once the postmaster has.
  await waitUntil('the new archive_command to be loaded', async () => (await cluster.query<{ archive_command: string }>('SHOW archive_command'))[0]?.archive_command === command, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
}

/** Switches to a new segment and waits until the archiver has stored the one just closed. */
export async function switchAndWaitArchived(cluster: BenchCluster, timeoutMs = 120_000): Promise<string> {
  const [row] = await cluster.query<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name');
  const closed = row!.name;
  await waitUntil(
    `${closed} to be archived\n${cluster.output().slice(-2000)}`,
    async () => {
      const [stat] = await cluster.query<{ last: string | null }>('SELECT last_archived_wal AS last FROM pg_stat_archiver');
      return stat?.last != null && stat.last >= closed && (await cluster.readySegments()) === 0;
    },
    timeoutMs,
  );
  return closed;
}

export async function measureArchiving(cluster: BenchCluster, variant: ArchiverVariant, options: WalLoadOptions): Promise<WalLoadResult> {
  await setArchiveCommand(cluster, variant.archiveCommand);
  // Every variant starts right after a checkpoint, so each pays the same full-page-write burst.
  await cluster.query('CHECKPOINT');
  await waitUntil('an empty archive backlog before the run', async () => (await cluster.readySegments()) === 0, options.drainTimeoutMs);
  const before = await stats(cluster);
  const meter = await CpuMeter.start(options.vaultPid);
  const started = performance.now();
  let maxLag = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxLag = Math.max(maxLag, await cluster.readySegments());
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    }
  })();
  let tps: number | undefined;
  let lagAtEnd: number;
  let atEnd: ArchiverStats;
  let loadMs: number;
  try {
    const bench = await run(
      PG_BIN + '/pgbench',
      ['-h', cluster.base, '-p', String(cluster.port), '-U', 'postgres', '-n', '-c', String(options.clients), '-j', String(options.threads), '-T', String(options.seconds), 'postgres'],
      { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' }, user: options.user, cwd: cluster.base, timeoutMs: (options.seconds + 120) * 1000 },
    );
    loadMs = performance.now() - started;
    const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(bench.stdout);
    tps = match?.[1] === undefined ? undefined : Number(match[1]);
    lagAtEnd = await cluster.readySegments();
    maxLag = Math.max(maxLag, lagAtEnd);
    atEnd = await stats(cluster);
  } finally {
    sampling = false;
    await sampler;
  }
  let drainMs: number | undefined;
  try {
    await waitUntil('the archive backlog to drain', async () => (await cluster.readySegments()) === 0, options.drainTimeoutMs, 100);
    drainMs = performance.now() - started - loadMs;
  } catch {
    drainMs = undefined;
  }
  const totalMs = performance.now() - started;
  const cpu = await meter.read();
  const after = await stats(cluster);
  const backlog = options.backlogSegments > 0 && drainMs !== undefined ? await drainBacklog(cluster, variant, options) : undefined;
  const segmentsGenerated = segmentOf(atEnd.lsn) - segmentOf(before.lsn);
  const segmentsArchived = after.archived - before.archived;
  return {
    id: variant.id,
    label: variant.label,
    archiveCommand: variant.archiveCommand,
    seconds: options.seconds,
    tps,
    segmentsGenerated,
    segmentsArchived,
    archivedPerSecond: segmentsArchived / (totalMs / 1000),
    generatedPerSecond: segmentsGenerated / (loadMs / 1000),
    maxLagSegments: maxLag,
    lagAtEndSegments: lagAtEnd,
    drainMs,
    failures: after.failed - before.failed,
    cpu,
    backlog,
  };
}

/**
 * Pauses archiving (an empty archive_command: PostgreSQL keeps the segments and their `.ready`
 * files), writes `backlogSegments` segments with bulk inserts of random text (about as
 * compressible as pgbench's WAL), then sets the archiver and times how fast the backlog empties:
 * the archiver's ceiling, which pgbench's default load does not reach on this machine.
 */
async function drainBacklog(cluster: BenchCluster, variant: ArchiverVariant, options: WalLoadOptions): Promise<BacklogDrain> {
  await setArchiveCommand(cluster, '');
  // An asynchronous archiver's worker scans archive_status on its own and would push the backlog
  // while it is being written; wait until the one left from the load has gone idle and exited.
  await waitUntil('the asynchronous archive workers to exit', async () => !(await archiveWorkerRunning()), 60_000, 250);
  await cluster.query('CREATE TABLE IF NOT EXISTS bench_wal_filler (id bigint, payload text)');
  const start = segmentOf((await stats(cluster)).lsn);
  while (segmentOf((await stats(cluster)).lsn) - start < options.backlogSegments) {
    await cluster.query("INSERT INTO bench_wal_filler SELECT g, md5(random()::text) || md5(random()::text) FROM generate_series(1, 50000) g");
  }
  await cluster.query('SELECT pg_switch_wal()');
  await cluster.query('TRUNCATE bench_wal_filler');
  const segments = await cluster.readySegments();
  const meter = await CpuMeter.start(options.vaultPid);
  const started = performance.now();
  await setArchiveCommand(cluster, variant.archiveCommand);
  await waitUntil(`a backlog of ${segments} segments to drain`, async () => (await cluster.readySegments()) === 0, options.drainTimeoutMs, 50);
  const drainMs = performance.now() - started;
  return { segments, drainMs, perSecond: segments / (drainMs / 1000), cpu: await meter.read() };
}

async function stats(cluster: BenchCluster): Promise<ArchiverStats> {
  const [row] = await cluster.query<{ archived: string; failed: string; lsn: string }>(
    'SELECT archived_count::text AS archived, failed_count::text AS failed, pg_current_wal_lsn()::text AS lsn FROM pg_stat_archiver',
  );
  return { archived: Number(row!.archived), failed: Number(row!.failed), lsn: row!.lsn };
}

/** Holdfast's `wal-push-worker` or pgBackRest's `archive-push:async` process, from /proc. */
async function archiveWorkerRunning(): Promise<boolean> {
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('wal-push-worker') || cmdline.includes('archive-push:async')) return true;
  }
  return false;
}
