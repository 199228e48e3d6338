import type { Clock } from '../../../infra/clock.js';
import type { S3Client } from '../../../infra/s3-client/s3-client.js';
import { newBackupId } from '../../pg/backup-id.js';
import { nextRun } from '../cron-next-run.js';
import type { BackupJob } from '../job-config.js';
import type { JobRunHistory } from '../job-run.js';
import { JobRunRefused } from '../job-runner.js';
import type { DrillJournal } from './drill-journal.js';
import type { JobDrillRecord } from './drill-record.js';
import { DrillOverTimeBudget, DrillShutdown, interruptedDrillRecord, type JobDrillContext, runJobDrill } from './job-drill.js';
import { message } from './kind-drill.js';
import { type ScratchTarget, tearDownScratchTarget } from './scratch-target.js';

export interface DrillRunnerOptions {
  readonly jobs: readonly BackupJob[];
  readonly history: JobRunHistory;
  readonly clock: Clock;
  /** Reads the backups (the runner's key may read what it wrote). */
  readonly client: () => S3Client;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly endpoint: () => string;
  /** PEM certificates the endpoint's https is checked against (the vault's self-signed one), for the scratch cluster's wal-fetch. */
  readonly caBundle?: string | undefined;
  /** pg-base-backup: the scratch cluster's restore_command (wal-fetch from the job's repository). */
  readonly restoreCommand: (job: BackupJob, spool: string) => string;
  /** pg-base-backup: starts the scratch cluster's WAL prefetch once the copy is unpacked. */
  readonly startPrefetch?: (job: BackupJob, spool: string, firstSegment: string, segmentBytes: number, env: NodeJS.ProcessEnv) => void;
  /** Drills in progress and their scratch targets, kept durably (a crash leaves them for `recoverInterrupted`). */
  readonly journal: DrillJournal;
  /** Every finished drill; the server keeps the evidence, counts it and alerts on failure. */
  readonly finished: (job: DrilledJob, record: JobDrillRecord) => Promise<void> | void;
  /** A scheduled drill that did not start (the job's previous drill still runs). */
  readonly skipped?: (job: BackupJob, reason: string) => void;
  /** Scheduled drills whose time passed while no process was watching (found by `catchUpMissed` at start-up). */
  readonly missed?: (job: BackupJob, missed: MissedDrills) => void;
  readonly onStep?: (job: string, step: string) => void;
  /** How long a drill stopped at its budget gets to stop on its own (default 30 s). */
  readonly stopGraceMs?: number;
  /** The drill itself (tests give a stand-in to test scheduling alone). */
  readonly drill?: (job: BackupJob, run: ReturnType<JobRunHistory['lastSuccess']>, context: JobDrillContext) => Promise<JobDrillRecord>;
}

/** What `finished` needs of a job; a drill interrupted by a crash may belong to a job since removed from the config. */
export type DrilledJob = Pick<BackupJob, 'name' | 'alertRoutes'> & { readonly destination: Pick<BackupJob['destination'], 'bucket'> };

/** The scheduled drill times of a job that passed with no drill, found at start-up. */
export interface MissedDrills {
  /** The first and the newest missed time, and how many there were (counted up to MAX_COUNTED_MISSES). */
  readonly firstDueMs: number;
  readonly lastDueMs: number;
  readonly count: number;
  /** Since when nothing was drilled: the newest drill record of the job, or when its schedule was first watched here. */
  readonly sinceMs: number;
  /** The catch-up drill started for them (undefined: it could not start, see `skipped`). */
  readonly catchUpId: string | undefined;
}

export interface DrillStatus {
  readonly job: string;
  /** When the next scheduled drill is due; undefined: drills of this job run only when asked. */
  readonly nextDrillMs: number | undefined;
  readonly running: { readonly id: string; readonly startedMs: number; readonly budgetMs: number } | undefined;
  /** The newest scheduled drill that did not start, and why. */
  readonly lastSkipped: { readonly dueMs: number; readonly reason: string } | undefined;
  readonly skippedCount: number;
  /** What the last start-up found missed, if anything. */
  readonly lastMissed: MissedDrills | undefined;
}

const KEPT_STEP_LISTS = 20;
/** Missed times counted per job at one start-up (an every-minute schedule down for a month stops here). */
const MAX_COUNTED_MISSES = 10_000;
const MAX_STEPS = 200;

interface ActiveDrill {
  readonly id: string;
  readonly job: BackupJob;
  readonly startedMs: number;
  readonly abort: AbortController;
  /** When the drill left the queue (its budget counts from here); undefined while queued. */
  beganMs: number | undefined;
  /** What the drill is doing now. */
  step: string;
  done: Promise<JobDrillRecord> | undefined;
}

/**
 * Runs restore drills, one at a time (a drill loads a database or starts a PostgreSQL cluster:
 * two at once would only slow each other), on request (`holdfast drill run`) or when a job's
 * `drill.schedule` says. A job is never drilled twice at once: a scheduled time that comes while
 * the job's previous drill still runs is skipped, reported and counted.
 *
 * `tick()` works against the injected clock, as JobScheduler does for runs: it stops drills past
 * their time budget (`drill.timeBudgetMinutes`, counted from when the drill left the queue) and
 * starts the scheduled drills that are due. Drills missed while the server was down are found by
 * `catchUpMissed()` at start-up: reported (each missed time counted) and caught up with one
 * drill right away. Every drill is in the journal from before it starts until its record is kept, with
 * each scratch target before it is created; `recoverInterrupted()` (at start-up) turns what a
 * crash left there into `interrupted` records and tears the targets down.
 */
export class DrillRunner {
  readonly #options: DrillRunnerOptions;
  readonly #jobs: ReadonlyMap<string, BackupJob>;
  readonly #active = new Map<string, ActiveDrill>();
  readonly #next = new Map<string, number>();
  readonly #skipped = new Map<string, { dueMs: number; reason: string; count: number }>();
  readonly #missed = new Map<string, MissedDrills>();
  /** The steps of the drills in progress and of the last few finished, by drill id, for `holdfast drill run` to show. */
  readonly #steps = new Map<string, string[]>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: DrillRunnerOptions) {
    this.#options = options;
    this.#jobs = new Map(options.jobs.map((job) => [job.name, job]));
    const now = options.clock.nowMs();
    for (const job of options.jobs) if (job.drill.schedule !== undefined) this.#next.set(job.name, nextRun(job.drill.schedule, now, job.drill.timeZone));
  }

  /** When each scheduled drill runs next. */
  nextDrills(): ReadonlyMap<string, number> {
    return this.#next;
  }

  statuses(): DrillStatus[] {
    return this.#options.jobs.map((job) => {
      const active = this.#active.get(job.name);
      const skipped = this.#skipped.get(job.name);
      return Object.freeze({
        job: job.name,
        nextDrillMs: this.#next.get(job.name),
        running: active === undefined ? undefined : { id: active.id, startedMs: active.startedMs, budgetMs: job.drill.timeBudgetMs },
        lastSkipped: skipped === undefined ? undefined : { dueMs: skipped.dueMs, reason: skipped.reason },
        skippedCount: skipped?.count ?? 0,
        lastMissed: this.#missed.get(job.name),
      });
    });
  }

  /** The drill in progress with this id, if any, and its current step. */
  active(id: string): { id: string; job: string; startedMs: number; step: string } | undefined {
    for (const drill of this.#active.values()) if (drill.id === id) return { id: drill.id, job: drill.job.name, startedMs: drill.startedMs, step: drill.step };
    return undefined;
  }

  /**
   * Every step of a drill in progress or recently finished, in order (a client polling now and
   * then misses none); undefined for a drill long gone or unknown.
   */
  steps(id: string): readonly string[] | undefined {
    return this.#steps.get(id);
  }

  #recordStep(id: string, step: string): void {
    let steps = this.#steps.get(id);
    if (steps === undefined) {
      steps = [];
      this.#steps.set(id, steps);
      // Keep the newest KEPT_STEP_LISTS drills (a Map iterates in insertion order).
      for (const old of this.#steps.keys()) if (this.#steps.size > KEPT_STEP_LISTS) this.#steps.delete(old);
    }
    if (steps.length < MAX_STEPS) steps.push(step);
  }

  /**
   * Tears down the scratch targets of drills a previous process left in the journal and records
   * each drill `interrupted` (through `finished`: evidence, metrics, alert). Call once, before
   * the first drill starts. Returns the records.
   */
  async recoverInterrupted(): Promise<JobDrillRecord[]> {
    const records: JobDrillRecord[] = [];
    for (const leftover of await this.#options.journal.leftovers()) {
      const notes = await this.#tearDown(leftover.targets);
      const configured = this.#jobs.get(leftover.job);
      const job: DrilledJob = configured ?? { name: leftover.job, alertRoutes: undefined, destination: { bucket: '' } };
      const record = interruptedDrillRecord(job.name, configured?.source.kind ?? 'unknown (no longer configured)', leftover, notes, this.#options.clock.nowMs());
      await this.#options.finished(job, record);
      await this.#options.journal.end(leftover.id);
      records.push(record);
    }
    return records;
  }

  /**
   * At start-up (after `recoverInterrupted`): for each job with a drill schedule, the scheduled
   * times that passed since its newest drill that reached an outcome started — or, if none did, since its schedule was
   * first watched here (kept in the job history, so a first start finds nothing missed) — are
   * missed drills. Each job with any is reported through `missed` and drilled once, now: a
   * demanding operator wants the proof the schedule promised as soon as the server is back, and
   * one drill proves the newest backup as well as three would; the missed times stay in the
   * report, the metric and the alert.
   */
  catchUpMissed(): Map<string, MissedDrills> {
    const now = this.#options.clock.nowMs();
    const found = new Map<string, MissedDrills>();
    for (const job of this.#options.jobs) {
      const schedule = job.drill.schedule;
      if (schedule === undefined) continue;
      const watchedSince = this.#options.history.firstSeenMs(`drill-schedule:${job.name}`, now);
      const sinceMs = Math.max(watchedSince, this.#lastCompletedDrillMs(job.name) ?? -Infinity);
      const firstDueMs = nextRun(schedule, sinceMs, job.drill.timeZone);
      if (firstDueMs > now) continue;
      let lastDueMs = firstDueMs;
      let count = 1;
      for (let due = nextRun(schedule, firstDueMs, job.drill.timeZone); due <= now && count < MAX_COUNTED_MISSES; due = nextRun(schedule, due, job.drill.timeZone)) {
        lastDueMs = due;
        count++;
      }
      let catchUpId: string | undefined;
      try {
        catchUpId = this.start(job.name, 'schedule').id;
      } catch (error) {
        if (!(error instanceof JobRunRefused)) throw error;
        this.#options.skipped?.(job, error.message);
      }
      const missed: MissedDrills = Object.freeze({ firstDueMs, lastDueMs, count, sinceMs, catchUpId });
      this.#missed.set(job.name, missed);
      found.set(job.name, missed);
      this.#options.missed?.(job, missed);
    }
    return found;
  }

  /**
   * When the newest drill of the job that ran to an outcome started. An interrupted drill proved
   * nothing: the scheduled time it was serving is still owed (and recoverInterrupted has just
   * recorded it, so its record is the newest).
   */
  #lastCompletedDrillMs(job: string): number | undefined {
    const kept = this.#options.history.listEvidence({ kind: 'drills', job, limit: 50 }).find((e) => e.outcome !== 'interrupted');
    if (kept === undefined) return undefined;
    const startedAt = Date.parse((JSON.parse(kept.record) as { startedAt?: string }).startedAt ?? '');
    return Number.isNaN(startedAt) ? kept.recordedMs : startedAt;
  }

  start(name: string, trigger: 'schedule' | 'manual'): { id: string; startedMs: number; done: Promise<JobDrillRecord> } {
    const job = this.#jobs.get(name);
    if (job === undefined) throw new JobRunRefused('no-such-job', `There is no backup job named "${name}".`);
    if (this.#closed) throw new Error('the drill runner is closed');
    const running = this.#active.get(name);
    if (running !== undefined) throw new JobRunRefused('already-running', `A drill of job "${name}" is already in progress (drill ${running.id}, started ${new Date(running.startedMs).toISOString()}).`);
    const startedMs = this.#options.clock.nowMs();
    const id = newBackupId(startedMs);
    const active: ActiveDrill = { id, job, startedMs, abort: new AbortController(), beganMs: undefined, step: 'queued behind another drill', done: undefined };
    const done = this.#queue.then(() => this.#run(active, trigger));
    active.done = done;
    this.#queue = done.catch(() => undefined);
    this.#active.set(name, active);
    void done
      .finally(() => {
        if (this.#active.get(name) === active) this.#active.delete(name);
      })
      .catch(() => undefined);
    return { id, startedMs, done };
  }

  /** Stops the drills past their time budget, then starts the scheduled drills that are due. */
  tick(): void {
    if (this.#closed) return;
    const now = this.#options.clock.nowMs();
    for (const active of this.#active.values()) {
      const budget = active.job.drill.timeBudgetMs;
      if (active.beganMs !== undefined && !active.abort.signal.aborted && now - active.beganMs > budget) active.abort.abort(new DrillOverTimeBudget(budget));
    }
    for (const [name, due] of this.#next) {
      if (now < due) continue;
      const job = this.#jobs.get(name)!;
      this.#next.set(name, nextRun(job.drill.schedule!, now, job.drill.timeZone));
      try {
        this.start(name, 'schedule');
      } catch (error) {
        if (!(error instanceof JobRunRefused)) throw error;
        const count = (this.#skipped.get(name)?.count ?? 0) + 1;
        this.#skipped.set(name, { dueMs: due, reason: error.message, count });
        this.#options.skipped?.(job, error.message);
      }
    }
  }

  async idle(): Promise<void> {
    while (this.#active.size > 0) await Promise.all([...this.#active.values()].map((a) => a.done?.catch(() => undefined) ?? Promise.resolve()));
  }

  /**
   * Starts no more drills and stops those in progress (each tears its scratch target down and is
   * recorded `interrupted`): a shutdown must not wait out a two-hour drill, and a drill cut off
   * without its record would only be found at the next start.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const active of this.#active.values()) if (!active.abort.signal.aborted) active.abort.abort(new DrillShutdown());
    await this.idle();
  }

  async #run(active: ActiveDrill, trigger: 'schedule' | 'manual'): Promise<JobDrillRecord> {
    const { job, id } = active;
    // The drill's clock starts when it leaves the queue: RTO and the budget are the drill's, not the wait's.
    const startedMs = this.#options.clock.nowMs();
    active.beganMs = startedMs;
    active.step = 'starting';
    this.#recordStep(id, 'starting');
    await this.#options.journal.begin({ id, job: job.name, trigger, startedMs });
    const targets: ScratchTarget[] = [];
    const run = this.#options.history.lastSuccess(job.name);
    const drill = this.#options.drill ?? runJobDrill;
    const record = await drill(job, run, {
      client: this.#options.client(),
      clock: this.#options.clock,
      env: this.#options.env,
      id,
      startedMs,
      trigger,
      endpoint: this.#options.endpoint(),
      restoreCommand: (spool) => this.#options.restoreCommand(job, spool),
      startPrefetch: this.#options.startPrefetch === undefined ? undefined : (spool, first, bytes, env) => this.#options.startPrefetch?.(job, spool, first, bytes, env),
      caBundle: this.#options.caBundle,
      onStep: (step) => {
        active.step = step;
        this.#recordStep(id, step);
        this.#options.onStep?.(job.name, step);
      },
      signal: active.abort.signal,
      track: async (target) => {
        await this.#options.journal.addTarget(id, target);
        targets.push(target);
      },
      tearDownTracked: () => this.#tearDown(targets),
      ...(this.#options.stopGraceMs === undefined ? {} : { stopGraceMs: this.#options.stopGraceMs }),
    });
    await this.#options.finished(job, record);
    await this.#options.journal.end(id);
    return record;
  }

  /** Tears each target down; what happened to each, a failure included (it must not stop the others). */
  async #tearDown(targets: readonly ScratchTarget[]): Promise<string[]> {
    const notes: string[] = [];
    for (const target of targets) {
      try {
        notes.push(await tearDownScratchTarget(target, { env: this.#options.env }));
      } catch (error) {
        notes.push(`could not tear down ${target.kind} (${message(error)}); remove it by hand`);
      }
    }
    return notes;
  }
}
