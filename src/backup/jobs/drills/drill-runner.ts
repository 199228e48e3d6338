import type { Clock } from '../../../infra/clock.js';
import type { S3Client } from '../../../infra/s3-client/s3-client.js';
import { newBackupId } from '../../pg/backup-id.js';
import { nextRun } from '../cron-next-run.js';
import type { BackupJob } from '../job-config.js';
import type { JobRunHistory } from '../job-run.js';
import { JobRunRefused } from '../job-runner.js';
import type { JobDrillRecord } from './drill-record.js';
import { runJobDrill } from './job-drill.js';

export interface DrillRunnerOptions {
  readonly jobs: readonly BackupJob[];
  readonly history: JobRunHistory;
  readonly clock: Clock;
  /** Reads the backups (the runner's key may read what it wrote). */
  readonly client: () => S3Client;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly endpoint: () => string;
  /** pg-base-backup: the scratch cluster's restore_command (wal-fetch from the job's repository). */
  readonly restoreCommand: (job: BackupJob, spool: string) => string;
  /** Every finished drill; the server keeps the evidence, counts it and alerts on failure. */
  readonly finished: (job: BackupJob, record: JobDrillRecord) => Promise<void> | void;
  readonly onStep?: (job: string, step: string) => void;
}

interface ActiveDrill {
  readonly id: string;
  readonly job: string;
  readonly startedMs: number;
  readonly done: Promise<JobDrillRecord>;
}

/**
 * Runs restore drills, one at a time (a drill loads a database or starts a PostgreSQL cluster:
 * two at once would only slow each other), on request (`holdfast drill run`) or when a job's
 * `drill.schedule` says. A job is never drilled twice at once. `tick()` starts the scheduled
 * drills that are due against the injected clock, as JobScheduler does for runs; a drill missed
 * while the server was down is not caught up.
 */
export class DrillRunner {
  readonly #options: DrillRunnerOptions;
  readonly #jobs: ReadonlyMap<string, BackupJob>;
  readonly #active = new Map<string, ActiveDrill>();
  readonly #next = new Map<string, number>();
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

  /** The drill in progress with this id, if any. */
  active(id: string): { id: string; job: string; startedMs: number } | undefined {
    for (const drill of this.#active.values()) if (drill.id === id) return { id: drill.id, job: drill.job, startedMs: drill.startedMs };
    return undefined;
  }

  start(name: string, trigger: 'schedule' | 'manual'): { id: string; startedMs: number; done: Promise<JobDrillRecord> } {
    const job = this.#jobs.get(name);
    if (job === undefined) throw new JobRunRefused('no-such-job', `There is no backup job named "${name}".`);
    if (this.#closed) throw new Error('the drill runner is closed');
    const running = this.#active.get(name);
    if (running !== undefined) throw new JobRunRefused('already-running', `A drill of job "${name}" is already in progress (drill ${running.id}).`);
    const startedMs = this.#options.clock.nowMs();
    const id = newBackupId(startedMs);
    const done = this.#queue.then(() => this.#run(job, id, trigger));
    this.#queue = done.catch(() => undefined);
    const active: ActiveDrill = { id, job: name, startedMs, done };
    this.#active.set(name, active);
    void done.finally(() => {
      if (this.#active.get(name) === active) this.#active.delete(name);
    }).catch(() => undefined);
    return { id, startedMs, done };
  }

  /** Starts the scheduled drills that are due. */
  tick(): void {
    const now = this.#options.clock.nowMs();
    for (const [name, due] of this.#next) {
      if (now < due) continue;
      const job = this.#jobs.get(name)!;
      this.#next.set(name, nextRun(job.drill.schedule!, now, job.drill.timeZone));
      try {
        this.start(name, 'schedule');
      } catch (error) {
        if (!(error instanceof JobRunRefused)) throw error;
      }
    }
  }

  async idle(): Promise<void> {
    while (this.#active.size > 0) await Promise.all([...this.#active.values()].map((a) => a.done.catch(() => undefined)));
  }

  /** Lets the drills in progress finish (each tears its scratch target down) and starts no more. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
  }

  async #run(job: BackupJob, id: string, trigger: 'schedule' | 'manual'): Promise<JobDrillRecord> {
    // The drill's clock starts when it leaves the queue: RTO is the restore's, not the wait's.
    const startedMs = this.#options.clock.nowMs();
    const run = this.#options.history.lastSuccess(job.name);
    const record = await runJobDrill(job, run, {
      client: this.#options.client(),
      clock: this.#options.clock,
      env: this.#options.env,
      id,
      startedMs,
      trigger,
      endpoint: this.#options.endpoint(),
      restoreCommand: (spool) => this.#options.restoreCommand(job, spool),
      onStep: (step) => this.#options.onStep?.(job.name, step),
    });
    await this.#options.finished(job, record);
    return record;
  }
}
