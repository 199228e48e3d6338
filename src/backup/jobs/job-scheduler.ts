import type { Clock } from '../../infra/clock.js';
import { nextRun } from './cron-next-run.js';
import type { BackupJob } from './job-config.js';
import type { JobRun, JobRunHistory } from './job-run.js';
import { JobRunRefused, type JobRunner } from './job-runner.js';

export interface JobStatus {
  readonly job: BackupJob;
  readonly nextRunMs: number;
  readonly running: { readonly id: string; readonly startedMs: number } | undefined;
  readonly lastRun: JobRun | undefined;
  readonly lastSuccessMs: number | undefined;
  /** Since when the dead man's switch counts: the last success, or when the job was first configured here. */
  readonly sinceMs: number;
  readonly overdue: boolean;
}

export interface JobSchedulerEvents {
  /** A job has not succeeded within its expected interval (raised once until it succeeds again). */
  overdue(status: JobStatus): void;
  /** A scheduled run could not start (the previous one still runs). */
  skipped(job: BackupJob, reason: string): void;
}

/**
 * Starts each job's runs when its schedule says, and watches that they succeed.
 *
 * `tick()` does all the work against the injected clock: starts the jobs that are due, stops
 * runs past their time budget, and raises the dead man's switch for jobs without a success
 * within their expected interval — counted from the last success, or from when the job first
 * appeared in this vault's configuration, so a job that never ran alerts too. `start()` ticks on
 * a real timer; tests call `tick()` after moving a ManualClock.
 *
 * Runs missed while the process was down are not caught up at start (the next run is the next
 * scheduled time after start-up); a missed night shows as an overdue job instead.
 */
export class JobScheduler {
  readonly #runner: JobRunner;
  readonly #history: JobRunHistory;
  readonly #clock: Clock;
  readonly #events: JobSchedulerEvents;
  readonly #next = new Map<string, number>();
  readonly #firstSeen = new Map<string, number>();
  readonly #overdue = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;

  constructor(runner: JobRunner, history: JobRunHistory, clock: Clock, events: JobSchedulerEvents) {
    this.#runner = runner;
    this.#history = history;
    this.#clock = clock;
    this.#events = events;
    const now = clock.nowMs();
    for (const job of runner.jobs) {
      this.#next.set(job.name, nextRun(job.schedule, now, job.timeZone));
      this.#firstSeen.set(job.name, history.firstSeenMs(job.name, now));
    }
  }

  /** Ticks every `intervalMs` until stop(); the first tick right away. */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    const tick = () => void this.tick().catch(onError);
    tick();
    this.#timer = setInterval(tick, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
  }

  /** One pass; concurrent calls share it. Resolves once due runs are started (not finished). */
  tick(): Promise<void> {
    this.#ticking ??= Promise.resolve()
      .then(() => this.#tick())
      .finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  #tick(): void {
    const now = this.#clock.nowMs();
    this.#runner.checkBudgets();
    for (const job of this.#runner.jobs) {
      const due = this.#next.get(job.name)!;
      if (now < due) continue;
      this.#next.set(job.name, nextRun(job.schedule, now, job.timeZone));
      try {
        this.#runner.start(job.name, 'schedule');
      } catch (error) {
        if (!(error instanceof JobRunRefused)) throw error;
        this.#events.skipped(job, error.message);
      }
    }
    for (const status of this.statuses()) {
      if (status.overdue && !this.#overdue.has(status.job.name)) {
        this.#overdue.add(status.job.name);
        this.#events.overdue(status);
      } else if (!status.overdue) {
        this.#overdue.delete(status.job.name);
      }
    }
  }

  statuses(): JobStatus[] {
    const now = this.#clock.nowMs();
    return this.#runner.jobs.map((job) => {
      const lastSuccessMs = this.#history.lastSuccess(job.name)?.endedMs;
      const sinceMs = lastSuccessMs ?? this.#firstSeen.get(job.name)!;
      return Object.freeze({
        job,
        nextRunMs: this.#next.get(job.name)!,
        running: this.#runner.activeRun(job.name),
        lastRun: this.#history.list({ job: job.name, limit: 1 })[0],
        lastSuccessMs,
        sinceMs,
        overdue: now - sinceMs > job.expectedIntervalMs,
      });
    });
  }
}
