import type { Clock } from '../../infra/clock.js';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { newBackupId } from '../pg/backup-id.js';
import type { BackupJob } from './job-config.js';
import { concurrencyKey, executeJob, type ExecutionResult } from './job-execution.js';
import type { JobRun, JobRunHistory, JobRunTrigger } from './job-run.js';
import type { StoredObject } from './store-streamed-run.js';
import { pruneRepository } from '../pg/repository-pruning.js';
import { retentionPolicy } from '../pg/retention-plan.js';
import { pruneJobRuns } from './job-run-pruning.js';

/** What the runner reports; the server turns it into metrics and alerts. */
export interface JobRunEvents {
  /** Every finished run, whatever the outcome, with the objects it wrote (none unless it succeeded). */
  finished(job: BackupJob, run: JobRun, stored: readonly StoredObject[]): void;
  /** After a successful run of a job with `retention`: what the prune removed, or why it failed. */
  pruned?(job: BackupJob, outcome: JobPruneOutcome): void;
}

/** The prune after a successful run, summed up for logs, metrics and alerts. */
export type JobPruneOutcome =
  | { readonly ok: true; readonly removedRuns: readonly string[]; readonly keptLocked: readonly string[]; readonly deletedVersions: number; readonly deletedBytes: number }
  | { readonly ok: false; readonly error: string };

export interface JobRunnerOptions {
  readonly jobs: readonly BackupJob[];
  readonly history: JobRunHistory;
  readonly clock: Clock;
  /** The client that writes backups (writer credentials only). A function: the server knows its own URL late. */
  readonly client: () => S3Client;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly events: JobRunEvents;
  /** Bytes per stored object (tests use small parts). */
  readonly partBytes?: number;
  /**
   * The client that prunes old runs by the job's `retention` after each success: an identity with
   * the pruner role, kept apart from the writer (separation of duties). Without it nothing is pruned.
   */
  readonly pruneClient?: () => S3Client;
}

/** A run refused before it began (unknown job, one already running); the admin API answers 4xx. */
export class JobRunRefused extends Error {
  constructor(
    readonly reason: 'no-such-job' | 'already-running',
    message: string,
  ) {
    super(message);
    this.name = 'JobRunRefused';
  }
}

interface ActiveRun {
  readonly job: BackupJob;
  readonly id: string;
  readonly startedMs: number;
  readonly abort: AbortController;
  /** Set right after the run is queued. */
  done: Promise<JobRun> | undefined;
  stopReason: 'timed-out' | 'interrupted' | undefined;
}

const LOG_EXCERPT_CHARS = 4000;

/**
 * Runs backup jobs and records each run: `running` in the history before the source starts,
 * then exactly one outcome — succeeded (the manifest, the commit point, is stored), failed,
 * timed-out (the job's time budget ran out: the source tool is killed, no manifest is written)
 * or interrupted (the server stopped under it). A job never runs twice at once, and jobs on the
 * same source (one database server, one directory) wait for each other.
 *
 * Time budgets are checked by `checkBudgets`, which the scheduler calls on every tick with the
 * injected clock, so tests move time instead of waiting for it.
 */
export class JobRunner {
  readonly #options: JobRunnerOptions;
  readonly #jobs: ReadonlyMap<string, BackupJob>;
  readonly #active = new Map<string, ActiveRun>();
  /** Tail of the queue per source: the next run on it starts after this settles. */
  readonly #sourceQueues = new Map<string, Promise<unknown>>();
  #closed = false;

  constructor(options: JobRunnerOptions) {
    this.#options = options;
    this.#jobs = new Map(options.jobs.map((job) => [job.name, job]));
  }

  get jobs(): readonly BackupJob[] {
    return this.#options.jobs;
  }

  job(name: string): BackupJob | undefined {
    return this.#jobs.get(name);
  }

  /** The run of a job in progress, if any. */
  activeRun(job: string): { id: string; startedMs: number } | undefined {
    const active = this.#active.get(job);
    return active === undefined ? undefined : { id: active.id, startedMs: active.startedMs };
  }

  /**
   * Starts a run now; resolves as soon as it is recorded `running`, with its id and a promise of
   * the finished run (which never rejects).
   */
  start(name: string, trigger: JobRunTrigger): { id: string; done: Promise<JobRun> } {
    const job = this.#jobs.get(name);
    if (job === undefined) throw new JobRunRefused('no-such-job', `There is no backup job named "${name}".`);
    if (this.#closed) throw new Error('the job runner is closed');
    const running = this.#active.get(name);
    if (running !== undefined) throw new JobRunRefused('already-running', `Job "${name}" is already running (run ${running.id}, started ${new Date(running.startedMs).toISOString()}).`);
    const startedMs = this.#options.clock.nowMs();
    const id = newBackupId(startedMs);
    this.#options.history.start({ id, job: name, trigger, startedMs });
    const abort = new AbortController();
    const active: ActiveRun = { job, id, startedMs, abort, done: undefined, stopReason: undefined };
    const key = concurrencyKey(job);
    const previous = this.#sourceQueues.get(key) ?? Promise.resolve();
    const done = previous.then(() => this.#execute(active));
    this.#sourceQueues.set(key, done);
    void done.finally(() => {
      if (this.#sourceQueues.get(key) === done) this.#sourceQueues.delete(key);
    });
    active.done = done;
    this.#active.set(name, active);
    return { id, done };
  }

  /** Stops every run past its time budget. */
  checkBudgets(): void {
    const now = this.#options.clock.nowMs();
    for (const active of this.#active.values()) {
      if (active.stopReason === undefined && now - active.startedMs > active.job.timeBudgetMs) {
        active.stopReason = 'timed-out';
        active.abort.abort();
      }
    }
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    while (this.#active.size > 0) await Promise.all([...this.#active.values()].map((a) => a.done ?? Promise.resolve()));
  }

  /** Stops the runs in progress (recorded `interrupted`) and waits for them to be recorded. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const active of this.#active.values()) {
      active.stopReason ??= 'interrupted';
      active.abort.abort();
    }
    await this.idle();
  }

  async #execute(active: ActiveRun): Promise<JobRun> {
    const { job, id, startedMs } = active;
    let result: ExecutionResult | undefined;
    let failure: unknown;
    try {
      if (active.abort.signal.aborted) throw new Error('stopped before it began');
      result = await executeJob(job, {
        client: this.#options.client(),
        runId: id,
        startedMs,
        clock: this.#options.clock,
        env: this.#options.env,
        signal: active.abort.signal,
        partBytes: this.#options.partBytes,
        onStored: () => undefined,
      });
      // A budget that ran out while the manifest was being written: the run did complete.
    } catch (error) {
      failure = error;
    }
    const endedMs = this.#options.clock.nowMs();
    const budgetMinutes = Math.round(job.timeBudgetMs / 60_000);
    const outcome = result !== undefined ? 'succeeded' : (active.stopReason ?? 'failed');
    const reason =
      outcome === 'timed-out'
        ? `the run exceeded its time budget of ${budgetMinutes} min and was stopped; no manifest was written`
        : outcome === 'interrupted'
          ? 'the server stopped while the run was in progress; no manifest was written'
          : failure === undefined
            ? undefined
            : describe(failure);
    const notes = result !== undefined && !result.retained ? `WARNING: objects of run ${id} came back without Object Lock retention: give bucket ${job.destination.bucket} a default retention` : undefined;
    const excerpt = [result?.logExcerpt ?? (failure as { logExcerpt?: string } | undefined)?.logExcerpt, notes].filter((t) => t !== undefined && t !== '').join('\n');
    this.#options.history.finish(id, {
      outcome,
      endedMs,
      bytes: result?.bytes ?? 0,
      objects: result?.objects ?? 0,
      manifestKey: result?.manifestKey,
      error: reason,
      logExcerpt: excerpt === '' ? undefined : excerpt.slice(-LOG_EXCERPT_CHARS),
    });
    this.#active.delete(job.name);
    const run = this.#options.history.get(id)!;
    try {
      this.#options.events.finished(job, run, result?.stored ?? []);
    } catch {
      // Reporting must not turn a recorded run into an unhandled rejection.
    }
    if (run.outcome === 'succeeded') await this.#prune(job, run);
    return run;
  }

  /** Applies the job's retention after a success; never fails the run it follows. */
  async #prune(job: BackupJob, run: JobRun): Promise<void> {
    const client = this.#options.pruneClient?.();
    if (client === undefined || (job.retention.keepCount === undefined && job.retention.keepDays === undefined)) return;
    let outcome: JobPruneOutcome;
    try {
      const nowMs = this.#options.clock.nowMs();
      if (job.source.kind === 'pg-base-backup') {
        const result = await pruneRepository({ client, location: { bucket: job.destination.bucket, prefix: job.destination.prefix }, policy: retentionPolicy(job.retention.keepCount, job.retention.keepDays), dryRun: false, clock: this.#options.clock });
        const backups = result.units.filter((u) => u.kind === 'backup');
        outcome = {
          ok: true,
          removedRuns: backups.filter((u) => u.outcome === 'removed').map((u) => u.subject),
          keptLocked: backups.filter((u) => u.outcome === 'kept-locked').map((u) => u.subject),
          deletedVersions: result.deleted.versions,
          deletedBytes: result.deleted.bytes,
        };
      } else {
        const protectedRuns = new Map<string, 'newest-recorded-success' | 'running'>([[run.id, 'newest-recorded-success']]);
        const active = this.#active.get(job.name);
        if (active !== undefined) protectedRuns.set(active.id, 'running');
        const result = await pruneJobRuns({ client, job, nowMs, protectedRuns });
        outcome = { ok: true, removedRuns: result.removedRuns, keptLocked: result.keptLocked.map((k) => k.runId), deletedVersions: result.deletedVersions, deletedBytes: result.deletedBytes };
      }
    } catch (error) {
      outcome = { ok: false, error: describe(error) };
    }
    try {
      this.#options.events.pruned?.(job, outcome);
    } catch {
      // As above: reporting never breaks the runner.
    }
  }
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim().slice(0, 2000) || 'unknown error';
}
