import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../infra/clock.js';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { isAlreadyExists } from '../../infra/s3-client/s3-client-errors.js';
import { formatRepositoryLocation, type BackupRepositoryLocation } from './backup-repository.js';
import { findPgTool, runToEnd } from './pg-client-tools.js';
import { restoreToPointInTime } from './point-in-time-restore.js';
import type { RequiredSegmentRange } from './recovery-wal-plan.js';
import type { RepositoryKey } from './repository-key.js';
import { lastLines, postgresOsUser, type ScratchCluster, startScratchCluster } from './scratch-cluster.js';
import { stopSpoolWorkers } from './spool-worker-lock.js';

/**
 * `holdfast pg drill`: proof that the newest backup restores — the policy's "full rebuild testing
 * validates end-to-end recoverability from immutable backups", run as often as a job runs.
 *
 * The drill restores the newest backup with all archived WAL into a scratch directory (through
 * the same `restoreToPointInTime` a real restore uses, WAL plan and checksums included), starts it
 * on a free loopback port with archiving off, waits until it has left recovery, and checks it:
 * `pg_amcheck` over every database (index and heap consistency) and the operator's SQL probes
 * (each must return true). It measures RTO (drill start to a usable, promoted server) and RPO
 * (how old the newest restored transaction was when the drill started), tears the scratch copy
 * down, and writes an evidence record: what, when, outcome, RTO/RPO, every check, and the
 * objects and checksums used. The record is stored create-only in the repository
 * (`PREFIX/evidence/drills/<id>.json`, under the bucket's default retention), so the history of
 * drills cannot be rewritten, and is returned for the caller to print.
 */

export interface DrillProbe {
  readonly name: string;
  /** SQL returning one row with one boolean column; true passes. */
  readonly sql: string;
  /** The database to run it in (default postgres). */
  readonly database?: string;
}

export interface RestoreDrillOptions {
  readonly client: S3Client;
  readonly location: BackupRepositoryLocation;
  readonly endpoint: string;
  readonly env: NodeJS.ProcessEnv;
  readonly restoreCommand: (spool: string) => string;
  /**
   * Starts fetching the recovery's WAL into `spool` once the copy is unpacked, before the
   * scratch server starts (`startRecoveryPrefetch` of the CLI); optional, an optimisation.
   */
  readonly startPrefetch?: (spool: string, firstSegment: string, segmentBytes: number, env: NodeJS.ProcessEnv) => void | Promise<void>;
  readonly probes: readonly DrillProbe[];
  readonly backupId?: string | undefined;
  readonly encryption?: RepositoryKey | undefined;
  /** Where the scratch directory is made (default the system temp directory). */
  readonly scratchRoot?: string;
  /**
   * An existing empty directory to use as the scratch directory instead of making one under
   * `scratchRoot` (a caller that must know its name before it exists: the job drill's journal).
   * It is emptied, not removed, afterwards.
   */
  readonly scratchDirectory?: string;
  /** Bound on start-up plus recovery (default 30 min). */
  readonly recoveryTimeoutMs?: number;
  /** Store the evidence record in the repository (default true). */
  readonly storeEvidence?: boolean;
  readonly clock?: Clock;
  readonly onStep?: (step: string) => void;
  /**
   * Stops the drill between its steps and while it waits for recovery (a job drill over its
   * time budget); the scratch copy is torn down as on any other failure.
   */
  readonly signal?: AbortSignal;
}

export type DrillCheckOutcome = 'passed' | 'failed';

export interface DrillCheck {
  readonly name: string;
  readonly outcome: DrillCheckOutcome;
  readonly detail: string;
}

export interface DrillRecord {
  readonly format: 'holdfast-restore-drill';
  readonly version: 1;
  readonly id: string;
  readonly kind: 'postgresql';
  readonly repository: string;
  readonly host: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: 'passed' | 'failed';
  /** Why the drill failed, in one sentence; absent when it passed. */
  readonly reason?: string;
  readonly backup: { readonly id: string; readonly stopTime: string; readonly timeline: number; readonly stopLsn: string } | null;
  /** Seconds from the drill's start to a promoted server accepting queries. */
  readonly rtoSeconds: number | null;
  /** How old the newest restored transaction was when the drill started. */
  readonly rpoSeconds: number | null;
  readonly newestRestoredTransactionAt: string | null;
  readonly checks: readonly DrillCheck[];
  readonly objects: readonly { readonly key: string; readonly sha256: string }[];
  readonly walReplayed: readonly RequiredSegmentRange[];
  /** Where the record is stored, when it is. */
  readonly evidenceKey?: string;
}

export function drillEvidenceKey(prefix: string, id: string): string {
  return `${prefix === '' ? '' : `${prefix}/`}evidence/drills/${id}.json`;
}

export async function runRestoreDrill(options: RestoreDrillOptions): Promise<DrillRecord> {
  const clock = options.clock ?? systemClock;
  const startedMs = clock.nowMs();
  const id = `${new Date(startedMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')}-${randomBytes(3).toString('hex')}`;
  const step = options.onStep ?? (() => undefined);
  const checks: DrillCheck[] = [];
  let backup: DrillRecord['backup'] = null;
  let objects: DrillRecord['objects'] = [];
  let walReplayed: readonly RequiredSegmentRange[] = [];
  let rtoSeconds: number | null = null;
  let rpoSeconds: number | null = null;
  let newestRestored: string | null = null;
  let reason: string | undefined;
  const scratch = options.scratchDirectory ?? (await mkdtemp(join(options.scratchRoot ?? tmpdir(), 'holdfast-drill-')));
  let cluster: ScratchCluster | undefined;
  const stopIfAborted = (during: string) => {
    if (options.signal?.aborted !== true) return;
    const why = options.signal.reason instanceof Error ? options.signal.reason.message : 'the drill was stopped';
    reason = `${why} (during ${during})`;
    checks.push({ name: during, outcome: 'failed', detail: why });
    throw new DrillStop();
  };
  try {
    const user = postgresOsUser();
    if (user !== undefined) await chown(scratch, user.uid, user.gid);
    const spool = join(scratch, 'spool');
    await mkdir(spool, { mode: 0o700 });
    if (user !== undefined) await chown(spool, user.uid, user.gid);

    step('restoring the newest backup with all archived WAL');
    let restored;
    try {
      restored = await restoreToPointInTime({
        client: options.client,
        location: options.location,
        into: join(scratch, 'data'),
        target: { kind: 'latest' },
        targetTimeline: 'latest',
        targetAction: 'promote',
        targetInclusive: true,
        backupId: options.backupId,
        restoreCommand: options.restoreCommand(spool),
        env: options.env,
        sync: false,
        clock,
        encryption: options.encryption,
        signal: options.signal,
      });
    } catch (error) {
      // Stopped by the budget or a shutdown: said so, not "the restore failed".
      stopIfAborted('restore');
      reason = `the restore failed: ${(error as Error).message}`;
      checks.push({ name: 'restore', outcome: 'failed', detail: (error as Error).message });
      throw new DrillStop();
    }
    backup = { id: restored.backup.id, stopTime: restored.backup.stopTime, timeline: restored.backup.timeline, stopLsn: restored.backup.stopLsn };
    objects = restored.backup.parts.map((p) => ({ key: p.key, sha256: p.sha256 }));
    walReplayed = restored.plan.required;
    checks.push({ name: 'restore', outcome: 'passed', detail: `backup ${restored.backup.id}: ${restored.extracted.files} files, ${restored.extracted.bytes} bytes, checked by ${restored.fileCheck}` });
    const firstSegment = restored.plan.required[0]?.firstSegment;
    if (options.startPrefetch !== undefined && firstSegment !== undefined) {
      await Promise.resolve(options.startPrefetch(spool, firstSegment, restored.backup.walSegmentSize, options.env)).catch(() => undefined); // the first wal-fetch starts it otherwise
    }

    stopIfAborted('recovery');
    step('starting the restored cluster and replaying WAL');
    const timeoutMs = options.recoveryTimeoutMs ?? 30 * 60_000;
    try {
      cluster = await startScratchCluster({ dataDir: join(scratch, 'data'), socketDirectory: scratch, env: options.env, startTimeoutMs: timeoutMs });
      const deadline = clock.nowMs() + timeoutMs;
      while ((await cluster.query('SELECT pg_is_in_recovery()'))[0] !== 'f') {
        if (options.signal?.aborted === true) break;
        if (cluster.exited()) throw new Error(`the server stopped during recovery: ${lastLines(cluster.output())}`);
        if (clock.nowMs() > deadline) throw new Error(`recovery did not finish within ${Math.round(timeoutMs / 1000)} s: ${lastLines(cluster.output())}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } catch (error) {
      reason = `the restored cluster did not become usable: ${(error as Error).message}`;
      checks.push({ name: 'recovery', outcome: 'failed', detail: (error as Error).message });
      throw new DrillStop();
    }
    stopIfAborted('recovery');
    rtoSeconds = round((clock.nowMs() - startedMs) / 1000);
    const [timeline, replayed] = await Promise.all([
      cluster.query('SELECT timeline_id FROM pg_control_checkpoint()'),
      cluster.query("SELECT coalesce(to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')"),
    ]);
    newestRestored = replayed[0] === undefined || replayed[0] === '' ? backup.stopTime : replayed[0];
    rpoSeconds = round(Math.max(0, (startedMs - Date.parse(newestRestored)) / 1000));
    checks.push({ name: 'recovery', outcome: 'passed', detail: `promoted on timeline ${timeline[0] ?? '?'} after replaying WAL to ${newestRestored}` });

    step('checking: pg_amcheck and the probes');
    stopIfAborted('pg_amcheck');
    checks.push(await amcheck(cluster, options.env));
    for (const probe of options.probes) {
      stopIfAborted(`probe ${probe.name}`);
      checks.push(await runProbe(cluster, probe));
    }
    const failed = checks.filter((c) => c.outcome === 'failed');
    if (failed.length > 0) reason = `${failed.map((c) => c.name).join(', ')} failed: ${failed[0]!.detail}`;
  } catch (error) {
    if (!(error instanceof DrillStop)) throw error;
  } finally {
    step('tearing the scratch copy down');
    await cluster?.stop();
    // The prefetch worker recovery started outlives the cluster by its idle time.
    await stopSpoolWorkers(join(scratch, 'spool'));
    if (options.scratchDirectory === undefined) await rm(scratch, { recursive: true, force: true, maxRetries: 5 });
    else for (const entry of await readdir(scratch).catch(() => [])) await rm(join(scratch, entry), { recursive: true, force: true, maxRetries: 5 });
  }

  const finishedMs = clock.nowMs();
  const record: DrillRecord = {
    format: 'holdfast-restore-drill',
    version: 1,
    id,
    kind: 'postgresql',
    repository: formatRepositoryLocation(options.location),
    host: hostname(),
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    outcome: reason === undefined ? 'passed' : 'failed',
    ...(reason === undefined ? {} : { reason }),
    backup,
    rtoSeconds,
    rpoSeconds,
    newestRestoredTransactionAt: newestRestored,
    checks,
    objects,
    walReplayed,
  };
  if (options.storeEvidence === false) return record;
  const evidenceKey = drillEvidenceKey(options.location.prefix, id);
  const stored = { ...record, evidenceKey };
  try {
    await options.client.putObject({
      bucket: options.location.bucket,
      key: evidenceKey,
      body: { kind: 'bytes', bytes: Buffer.from(`${JSON.stringify(stored, null, 2)}\n`, 'utf8') },
      createOnly: true,
      contentType: 'application/json',
      metadata: { 'holdfast-evidence': 'restore-drill', 'holdfast-drill-outcome': record.outcome },
    });
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  return stored;
}

/** Ends the drill early with `reason` set; not an error of the drill itself. */
class DrillStop extends Error {}

async function amcheck(cluster: ScratchCluster, env: NodeJS.ProcessEnv): Promise<DrillCheck> {
  let tool: string;
  try {
    tool = findPgTool('pg_amcheck', env);
  } catch {
    return { name: 'pg_amcheck', outcome: 'failed', detail: 'pg_amcheck is not installed (postgresql-client-15); the drill cannot check the restored data' };
  }
  const result = await runToEnd(tool, ['--all', '--install-missing', '-h', '127.0.0.1', '-p', String(cluster.port), '-U', 'postgres', '-w'], env, 60 * 60_000);
  if (result.code === 0) return { name: 'pg_amcheck', outcome: 'passed', detail: 'every database: heap and B-tree indexes consistent' };
  return { name: 'pg_amcheck', outcome: 'failed', detail: lastLines(`${result.stdout}\n${result.stderr}`, 6) || `exit ${result.code ?? result.signal}` };
}

async function runProbe(cluster: ScratchCluster, probe: DrillProbe): Promise<DrillCheck> {
  const name = `probe ${probe.name}`;
  try {
    const rows = await cluster.query(probe.sql, probe.database);
    if (rows.length === 1 && rows[0] === 't') return { name, outcome: 'passed', detail: 'returned true' };
    return { name, outcome: 'failed', detail: `returned ${rows.length === 0 ? 'no rows' : JSON.stringify(rows.slice(0, 3))}, not a single true` };
  } catch (error) {
    return { name, outcome: 'failed', detail: (error as Error).message };
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
