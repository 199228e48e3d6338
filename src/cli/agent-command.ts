import { mkdirSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AgentConfigError, loadAgentConfig } from '../backup/jobs/agent-config.js';
import { AgentPrunerKeyError, prunerCredentialsFromEnvironment } from '../backup/jobs/agent-pruner-key.js';
import { agentHistoryPath, startBackupAgent } from '../backup/jobs/backup-agent.js';
import { JobRunner } from '../backup/jobs/job-runner.js';
import { JobScheduler } from '../backup/jobs/job-scheduler.js';
import { SqliteJobRunHistory } from '../backup/jobs/sqlite-job-run-history.js';
import { systemClock } from '../infra/clock.js';
import { findExecutable } from '../infra/fs/find-executable.js';
import { S3Client } from '../infra/s3-client/s3-client.js';
import { S3ClientConfigError, s3ClientOptionsFromEnvironment } from '../infra/s3-client/s3-client-environment.js';
import { S3CredentialsError } from '../infra/s3-client/s3-credentials.js';
import { lockDataDir } from '../server/data-dir-lock.js';
import { runView, statusView } from '../server/backup-jobs-service.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { describeJob, describeRun, type JobView, type RunView } from './jobs-command.js';

const USAGE = `Usage:
  holdfast agent --config FILE --data DIR
      Runs the backup jobs of FILE on their schedules, in the foreground until SIGTERM, writing to
      the vault over S3 with the backup-writer key from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
      (or AWS_PROFILE). The history is DIR/jobs.sqlite. Failures are ALERT: lines on stderr.
  holdfast agent jobs list --config FILE --data DIR [--json]
  holdfast agent jobs history [JOB] --data DIR [--limit N] [--json]

FILE: {"endpoint": "https://vault.internal:9470", "jobs": [ … the server's job syntax … ]}.
The agent holds no admin rights, and with the writer key alone it can add backups, never delete
them. To apply the jobs' "retention" after each successful run, give it a second key, of a
service identity with the pruner role, in HOLDFAST_PRUNER_ACCESS_KEY_ID and
HOLDFAST_PRUNER_SECRET_ACCESS_KEY (never in FILE); without one it warns once per such job.
Exit codes: 0 done (or stopped by SIGTERM), 1 failure, 2 usage or configuration error.
`;

/** How often the agent's scheduler looks at the clock: start times are this precise. */
const AGENT_TICK_MS = 5_000;

export async function runAgentCommand(args: string[]): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { config: { type: 'string' }, data: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (values.data === undefined) return usage('--data DIR is required: the directory for the agent\'s job history.');
  const dataDir = isAbsolute(values.data) ? values.data : resolve(values.data);
  const json = values.json === true;
  const [area, action, ...rest] = positionals;
  try {
    if (area === undefined) {
      if (values.config === undefined) return usage('--config FILE is required.');
      return await runAgent(values.config, dataDir);
    }
    if (area !== 'jobs') return usage(`Unknown agent command "${area}".`);
    if (action === 'history') {
      if (rest.length > 1) return usage('history takes at most one job name.');
      const limit = values.limit ?? '20';
      if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1) return usage(`--limit takes a whole number, not "${limit}".`);
      const history = new SqliteJobRunHistory(agentHistoryPath(dataDir));
      try {
        const runs = history.list({ ...(rest[0] === undefined ? {} : { job: rest[0] }), limit: Number(limit) }).map(runView) as RunView[];
        process.stdout.write(json ? `${JSON.stringify({ runs }, null, 2)}\n` : `${runs.length === 0 ? 'No runs yet.' : runs.map(describeRun).join('\n')}\n`);
      } finally {
        history.close();
      }
      return EXIT_OK;
    }
    if (action === 'list') {
      if (rest.length > 0) return usage('list takes no arguments.');
      if (values.config === undefined) return usage('jobs list needs --config FILE (the jobs are defined there).');
      const config = loadAgentConfig(values.config, { env: process.env, nowMs: systemClock.nowMs() });
      const history = new SqliteJobRunHistory(agentHistoryPath(dataDir));
      try {
        // The scheduler's own status logic, without starting it (nothing runs, no client is needed).
        const runner = new JobRunner({ jobs: config.jobs, history, clock: systemClock, client: () => { throw new Error('holdfast agent jobs list does not run jobs'); }, env: {}, events: { finished: () => undefined } });
        const scheduler = new JobScheduler(runner, history, systemClock, { overdue: () => undefined, skipped: () => undefined });
        const jobs = scheduler.statuses().map(statusView) as unknown as JobView[];
        process.stdout.write(json ? `${JSON.stringify({ jobs }, null, 2)}\n` : `${jobs.map(describeJob).join('\n')}\n`);
      } finally {
        history.close();
      }
      return EXIT_OK;
    }
    return usage(action === undefined ? 'Name an action: jobs list or jobs history.' : `Unknown agent jobs action "${action}".`);
  } catch (error) {
    if (error instanceof AgentConfigError || error instanceof AgentPrunerKeyError || error instanceof S3ClientConfigError || error instanceof S3CredentialsError) {
      process.stderr.write(`holdfast agent: ${error.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`holdfast agent: ${(error as Error).message}\n`);
    return EXIT_FAILURE;
  }
}

function usage(message: string): number {
  process.stderr.write(`holdfast agent: ${message}\n${USAGE}`);
  return EXIT_USAGE;
}

async function runAgent(configFile: string, dataDir: string): Promise<number> {
  const config = loadAgentConfig(configFile, { env: process.env, nowMs: systemClock.nowMs(), toolInstalled: (tool) => findExecutable(tool, process.env['PATH']) !== undefined });
  const options = s3ClientOptionsFromEnvironment(config.endpoint, process.env);
  const prunerCredentials = prunerCredentialsFromEnvironment(process.env, options.credentials.accessKeyId);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const release = await lockDataDir(dataDir);
  const client = new S3Client(options);
  const pruneClient = prunerCredentials === undefined ? undefined : new S3Client({ ...options, credentials: prunerCredentials });
  const log = {
    info: (message: string) => process.stdout.write(`holdfast agent: ${message}\n`),
    error: (message: string) => process.stderr.write(`holdfast agent: ${message}\n`),
  };
  const agent = startBackupAgent({ jobs: config.jobs, dataDir, client, ...(pruneClient === undefined ? {} : { pruneClient }), clock: systemClock, env: process.env, tickMs: AGENT_TICK_MS, log });
  const pruning = prunerCredentials === undefined ? '' : `, pruning by retention as access key ${prunerCredentials.accessKeyId}`;
  log.info(`running ${config.jobs.length} job(s) against ${config.endpoint} as access key ${options.credentials.accessKeyId} (${options.credentials.source})${pruning}; history in ${agentHistoryPath(dataDir)}`);
  for (const status of agent.statuses()) log.info(`job ${status.job.name}: "${status.job.schedule.text}" ${status.job.timeZone}, next run ${new Date(status.nextRunMs).toISOString()}`);
  // The scheduler's timer is unref'd (inside the server the listener keeps the process up): here this does.
  const keepAlive = setInterval(() => undefined, 3600_000);
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal} received; stopping (a run in progress is recorded interrupted)`);
      clearInterval(keepAlive);
      agent
        .close()
        .then(() => {
          client.close();
          pruneClient?.close();
          return release();
        })
        .then(
          () => resolveExit(EXIT_OK),
          (error: unknown) => {
            log.error(`stopping failed: ${(error as Error).message}`);
            resolveExit(EXIT_FAILURE);
          },
        );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
