import { join } from 'node:path';
import type { Clock } from '../../infra/clock.js';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import type { BackupJob } from './job-config.js';
import type { JobRun } from './job-run.js';
import { JobRunner } from './job-runner.js';
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
 * supervises the agent (systemd, a log shipper). It holds no pruner key, so it never prunes:
 * retention of agent-written runs is the vault-side pruner's job.
 */
export function startBackupAgent(options: BackupAgentOptions): BackupAgent {
  const { log, clock } = options;
  const history = new SqliteJobRunHistory(agentHistoryPath(options.dataDir));
  for (const run of history.interruptLeftovers(clock.nowMs(), 'the agent stopped while the run was in progress (crash, kill or power loss); no manifest was written by this run')) {
    log.error(`ALERT: backup job ${run.job}: run ${run.id} was left running by the previous agent process; recorded as interrupted`);
  }
  const runner = new JobRunner({
    jobs: options.jobs,
    history,
    clock,
    client: () => options.client,
    env: options.env,
    events: {
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
