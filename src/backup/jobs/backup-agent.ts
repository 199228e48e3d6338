import { join } from 'node:path';
import type { Clock } from '../../infra/clock.js';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { jobsLeftUnpruned, PRUNER_KEY_ID_VARIABLE, PRUNER_SECRET_VARIABLE } from './agent-pruner-key.js';
import type { BackupJob } from './job-config.js';
import type { JobRun } from './job-run.js';
import { type JobPruneOutcome, JobRunner } from './job-runner.js';
import { JobScheduler, type JobStatus } from './job-scheduler.js';
import { SqliteJobRunHistory } from './sqlite-job-run-history.js';

/** The history file in the agent's data directory. */
export function agentHistoryPath(dataDir: string): string {
  return join(dataDir, 'jobs.sqlite');
}

export interface BackupAgentOptions {
  readonly jobs: readonly BackupJob[];
  readonly dataDir: string;
  /** Signs with the writer key only: the agent can add backups, never delete or shorten retention. */
  readonly client: S3Client;
  /**
   * Signs with a key of another identity, one with the pruner role: applies each job's
   * `retention` after a success. Without it nothing is deleted, and each job with a retention
   * is named once at start-up.
   */
  readonly pruneClient?: S3Client;
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly tickMs: number;
  readonly log: { info(message: string): void; error(message: string): void };
}

export interface BackupAgent {
  statuses(): JobStatus[];
  close(): Promise<void>;
}

/**
 * `holdfast agent`: the server's scheduler and runner (same classes, same outcomes and dead
 * man's switch) on another host, writing to the vault over S3 like any client. Its history is a
 * local SQLite file; failures and overdue jobs are `ALERT:` lines on stderr for whatever
 * supervises the agent (systemd, a log shipper). Given a pruner key besides the writer key, it
 * prunes each job's runs by its `retention` after a success, as the server does for its own jobs;
 * without one it never deletes anything, and says so once per job that has a retention.
 */
export function startBackupAgent(options: BackupAgentOptions): BackupAgent {
  const { log, clock } = options;
  const history = new SqliteJobRunHistory(agentHistoryPath(options.dataDir));
  for (const run of history.interruptLeftovers(clock.nowMs(), 'the agent stopped while the run was in progress (crash, kill or power loss); no manifest was written by this run')) {
    log.error(`ALERT: backup job ${run.job}: run ${run.id} was left running by the previous agent process; recorded as interrupted`);
  }
  if (options.pruneClient === undefined) {
    for (const job of jobsLeftUnpruned(options.jobs)) {
      log.error(`warning: runs of job ${job.name} will not be pruned by its retention: the agent holds a writer key only. Fix: give it the key of a service identity with the pruner role in ${PRUNER_KEY_ID_VARIABLE} and ${PRUNER_SECRET_VARIABLE}, or remove the job's retention.`);
    }
  }
  const pruneClient = options.pruneClient;
  const runner = new JobRunner({
    jobs: options.jobs,
    history,
    clock,
    client: () => options.client,
    ...(pruneClient === undefined ? {} : { pruneClient: () => pruneClient }),
    env: options.env,
    events: {
      pruned: (job, outcome) => {
        if (!outcome.ok) log.error(`ALERT: backup job ${job.name}: pruning by retention failed: ${outcome.error}`);
        else if (outcome.removedRuns.length + outcome.keptLocked.length > 0) log.info(describePrune(job, outcome));
      },
      finished: (job: BackupJob, run: JobRun) => {
        if (run.outcome === 'succeeded') log.info(`backup job ${job.name}: run ${run.id} succeeded (${run.objects} objects, ${run.bytes} bytes, ${run.manifestKey ?? ''})`);
        else log.error(`ALERT: backup job ${job.name}: run ${run.id} ${run.outcome}: ${run.error ?? ''}`);
      },
    },
  });
  const scheduler = new JobScheduler(runner, history, clock, {
    overdue: (status) => log.error(`ALERT: backup job ${status.job.name} has not succeeded within its expected interval of ${status.job.expectedIntervalMs / 3600_000} h (last success ${status.lastSuccessMs === undefined ? 'never' : new Date(status.lastSuccessMs).toISOString()})`),
    skipped: (job, reason) => log.error(`backup job ${job.name}: scheduled run skipped: ${reason}`),
  });
  scheduler.start(options.tickMs, (e) => log.error(`the scheduler failed: ${e instanceof Error ? e.message : String(e)}`));
  return {
    statuses: () => scheduler.statuses(),
    close: async () => {
      await scheduler.stop();
      await runner.close();
      history.close();
    },
  };
}

function describePrune(job: BackupJob, outcome: Extract<JobPruneOutcome, { ok: true }>): string {
  const locked = outcome.keptLocked.length === 0 ? '' : `; kept ${outcome.keptLocked.join(', ')}: past retention, still under Object Lock`;
  return `backup job ${job.name}: retention removed ${outcome.removedRuns.length} run(s)${outcome.removedRuns.length === 0 ? '' : ` (${outcome.removedRuns.join(', ')}; ${outcome.deletedVersions} versions, ${outcome.deletedBytes} bytes)`}${locked}`;
}
