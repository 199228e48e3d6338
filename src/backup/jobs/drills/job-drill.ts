import { hostname } from 'node:os';
import type { BackupJob } from '../job-config.js';
import { readRunManifest } from '../job-restore.js';
import type { JobRun } from '../job-run.js';
import type { JobRunManifest } from '../job-run-manifest.js';
import { drillDirectoryRun } from './directory-drill.js';
import type { DrillInProgress } from './drill-journal.js';
import { type DrillCheck, drillReason, type DrillObject, type JobDrillRecord, seconds } from './drill-record.js';
import { type KindDrillContext, type KindDrillResult, message } from './kind-drill.js';
import { drillMariadbRun } from './mariadb-drill.js';
import { drillMongodumpRun } from './mongodump-drill.js';
import { requireMongoDrillTools } from './mongo-scratch-database.js';
import { drillPgDumpRun } from './pg-dump-drill.js';
import { drillPgBaseBackup } from './pg-job-drill.js';

export interface JobDrillContext extends KindDrillContext {
  readonly trigger: 'schedule' | 'manual';
  /** The vault's S3 endpoint and the wal-fetch restore_command, for pg-base-backup drills. */
  readonly endpoint: string;
  readonly restoreCommand: (spool: string) => string;
  /** Starts prefetching the scratch cluster's WAL into `spool` before it starts (see runRestoreDrill). */
  readonly startPrefetch?: ((spool: string, firstSegment: string, segmentBytes: number, env: NodeJS.ProcessEnv) => void) | undefined;
  /** PEM certificates the restore_command's wal-fetch must trust (the vault's own, when it serves https with a self-signed certificate). */
  readonly caBundle?: string | undefined;
  /** Tears down every scratch target tracked so far: the budget's backstop for a drill that does not stop on its own. */
  readonly tearDownTracked: () => Promise<readonly string[]>;
  /** How long a drill stopped over its budget gets to stop and clean up on its own (default 30 s). */
  readonly stopGraceMs?: number;
}

/** The abort reason of a drill the server stops because it is shutting down: recorded `interrupted`, never a pass. */
export class DrillShutdown extends Error {
  constructor() {
    super('the server shut down during the drill');
    this.name = 'DrillShutdown';
  }
}

/** The abort reason of a drill over its time budget. */
export class DrillOverTimeBudget extends Error {
  constructor(readonly budgetMs: number) {
    super(`still running after its time budget of ${budgetMs / 60_000} min (drill.timeBudgetMinutes)`);
    this.name = 'DrillOverTimeBudget';
  }
}

/**
 * One restore drill of a job: its newest successful run (`run`; undefined when it has none)
 * restored into an isolated scratch target by the drill of its source kind, checked, measured
 * and torn down, summed up in an evidence record. Never throws for a problem of the backup or
 * the scratch target: that is a failed drill, with the reason in the record.
 *
 * When `context.signal` aborts (the runner saw the time budget run out, or the server is shutting
 * down), the kind drill stops its tools and tears its target down; the tracked targets are torn
 * down again for it (after the grace if it has not stopped by then). The record fails with the
 * reason "over time budget", or is `interrupted` by a shutdown.
 */
export async function runJobDrill(job: BackupJob, run: JobRun | undefined, context: JobDrillContext): Promise<JobDrillRecord> {
  const startedMs = context.startedMs;
  let manifest: JobRunManifest | undefined;
  let lastStep = 'starting';
  const kindContext = {
    ...context,
    onStep: (step: string) => {
      lastStep = step;
      context.onStep(step);
    },
  };
  const work = (async (): Promise<KindDrillResult> => {
    if (run === undefined || run.manifestKey === undefined) {
      return { checks: [{ name: 'restore', outcome: 'failed', detail: `job ${job.name} has no successful run to restore` }], usableMs: undefined, newestRestorableMs: undefined, objects: [], target: 'none' };
    }
    try {
      if (job.source.kind === 'pg-base-backup') return await drillPgBaseBackup(job, run, job.drill, kindContext);
      // Before anything is read: a host without the MongoDB tools is told what to install.
      if (job.source.kind === 'mongodump') await requireMongoDrillTools(context.env);
      kindContext.onStep(`reading the manifest of run ${run.id}`);
      manifest = await readRunManifest(context.client, job.destination.bucket, run.manifestKey);
      switch (job.source.kind) {
        case 'mariadb-dump':
          return await drillMariadbRun(job.source, job.drill, job.destination.bucket, manifest, kindContext);
        case 'pg-dump':
          return await drillPgDumpRun(job.source, job.drill, job.destination.bucket, manifest, kindContext);
        case 'mongodump':
          return await drillMongodumpRun(job.source, job.destination.bucket, manifest, kindContext);
        case 'directory':
          return await drillDirectoryRun(job.drill, job.destination.bucket, manifest, kindContext);
        default:
          return unreachable(job.source);
      }
    } catch (error) {
      return { checks: [{ name: 'restore', outcome: 'failed', detail: message(error) }], usableMs: undefined, newestRestorableMs: undefined, objects: [], target: 'none' };
    }
  })();
  let result = await settle(work, context.signal);
  let stopped: { readonly shutdown: boolean; readonly check: DrillCheck } | undefined;
  // Undefined: the signal came first. A drill that finished before it is judged on its checks.
  if (result === undefined) {
    const stoppedDuring = lastStep;
    const grace = context.stopGraceMs ?? 30_000;
    result = await within(work, grace);
    // Always, even when the drill cleaned up itself (its own drop or rm may have failed quietly): idempotent.
    const notes = await context.tearDownTracked().catch((error: unknown) => [`tearing down failed: ${message(error)}`]);
    const teardown = notes.length === 0 ? 'it had no scratch target yet' : notes.join('; ');
    result ??= (await within(work, grace)) ?? { checks: [], usableMs: undefined, newestRestorableMs: undefined, objects: [], target: 'unknown (the drill did not stop within the grace)' };
    const why = context.signal.reason instanceof Error ? context.signal.reason.message : 'the drill was stopped';
    stopped = {
      shutdown: context.signal.reason instanceof DrillShutdown,
      check: { name: context.signal.reason instanceof DrillShutdown ? 'shutdown' : 'time budget', outcome: 'failed', detail: `${why}; stopped during "${stoppedDuring}", ${teardown}` },
    };
  }
  const finishedMs = context.clock.nowMs();
  const checks = stopped === undefined ? result.checks : [...result.checks, stopped.check];
  const reason = stopped === undefined ? drillReason(checks) : `${stopped.shutdown ? 'interrupted' : 'over time budget'}: ${stopped.check.detail}`;
  const objects: DrillObject[] = [...(manifest?.parts.map((p) => ({ key: p.key, sha256: p.sha256, size: p.size })) ?? []), ...result.objects];
  return {
    format: 'holdfast-evidence',
    version: 1,
    kind: 'drill',
    id: context.id,
    job: job.name,
    source: job.source.kind,
    trigger: context.trigger,
    host: hostname(),
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    outcome: reason === undefined ? 'passed' : stopped?.shutdown === true ? 'interrupted' : 'failed',
    ...(reason === undefined ? {} : { reason }),
    backup:
      run === undefined
        ? null
        : {
            runId: run.id,
            manifestKey: run.manifestKey ?? null,
            bucket: job.destination.bucket,
            takenAt: manifest?.startedAt ?? new Date(run.startedMs).toISOString(),
            ...(result.backupId === undefined ? {} : { pgBackupId: result.backupId }),
          },
    target: result.target,
    rtoSeconds: result.usableMs === undefined ? null : seconds(result.usableMs - startedMs),
    rpoSeconds: result.newestRestorableMs === undefined ? null : seconds(Math.max(0, startedMs - result.newestRestorableMs)),
    newestRestorableAt: result.newestRestorableMs === undefined ? null : new Date(result.newestRestorableMs).toISOString(),
    checks,
    objects,
  };
}

/**
 * The record of a drill a crash cut off, written at the next start-up once its scratch targets
 * were torn down (`teardown`: what was done to each). Never a pass, and it says so.
 */
export function interruptedDrillRecord(job: string, sourceKind: string, drill: DrillInProgress, teardown: readonly string[], nowMs: number): JobDrillRecord {
  const reason = 'interrupted: the server stopped while the drill was in progress (crash, kill or power loss); nothing was proven';
  return {
    format: 'holdfast-evidence',
    version: 1,
    kind: 'drill',
    id: drill.id,
    job,
    source: sourceKind,
    trigger: drill.trigger,
    host: hostname(),
    startedAt: new Date(drill.startedMs).toISOString(),
    finishedAt: new Date(nowMs).toISOString(),
    outcome: 'interrupted',
    reason,
    backup: null,
    target: teardown.length === 0 ? 'none (the drill had not created its scratch target yet)' : `torn down at start-up: ${teardown.join('; ')}`,
    rtoSeconds: null,
    rpoSeconds: null,
    newestRestorableAt: null,
    checks: [{ name: 'drill', outcome: 'failed', detail: reason }],
    objects: [],
  };
}

/** Every source kind has its drill (the compiler checks the switch covers them). */
function unreachable(source: never): never {
  throw new Error(`no restore drill for source ${JSON.stringify(source)}`);
}

/** The work's result, or undefined as soon as `signal` aborts first. */
function settle<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then((value) => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    });
  });
}

/** The work's result if it settles within `ms` (real time: the tools it stops run in real time), else undefined. */
function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([work, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}
