import { isAbsolute, resolve } from 'node:path';
import { readRunManifest, restoreDirectoryRun, restoreMariadbRun, restoreMongodumpRun, restorePgDumpRun } from '../backup/jobs/job-restore.js';
import { S3Client } from '../infra/s3-client/s3-client.js';
import type { AdminClient } from './admin-client.js';
import { type Flags, runAdminApiCommand, stringFlag } from './admin-api-command.js';
import { UsageError } from './usage-error.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';

const USAGE = `Usage: holdfast jobs ACTION [ARGS] [--json] [connection options]

  list                         the configured backup jobs: schedule, next run, last run, overdue
  run JOB                      runs JOB now and waits for the outcome (exit 0 succeeded, 1 otherwise)
  history [JOB] [--limit N]    the newest runs (all jobs, or one)
  restore JOB [--run ID] --into TARGET
                               restores the newest successful run (or run ID):
                               mariadb-dump jobs of one database: TARGET is a database name, created
                                 if missing, on --db-host (127.0.0.1) --db-port (3306) --db-user USER,
                                 password from the variable named by --db-password-env
                               pg-dump jobs: TARGET is a database name, created if missing (must
                                 be empty otherwise), on --db-host (127.0.0.1) --db-port (5432)
                                 --db-user USER, via pg_restore --single-transaction
                               mongodump jobs: TARGET is the database a one-database dump is
                                 restored as, on --db-host (127.0.0.1) --db-port (27017)
                                 [--db-user USER --db-password-env VAR], via mongorestore
                               directory jobs: TARGET is a new or empty directory
                               (pg-base-backup jobs restore with \`holdfast pg restore\`)

Jobs are declared in the server's config file (\`jobs\`, see README). list and history need a
read role (auditor, admin); run needs admin; restore reads the objects with your key (restore-reader).
Connection options as for \`holdfast admin\` (--endpoint, --credentials, --profile, --ca-bundle).
Exit codes: 0 done, 1 failure (or the run did not succeed), 2 usage, 3 refused by the server.
`;

const POLL_MS = 1000;

export interface RunView {
  id: string;
  job: string;
  trigger: string;
  outcome: string;
  startedAt: string;
  endedAt: string | null;
  durationSeconds: number | null;
  bytes: number;
  objects: number;
  manifestKey: string | null;
  error: string | null;
  logExcerpt: string | null;
}

export interface JobView {
  name: string;
  source: string;
  schedule: string;
  timeZone: string;
  destination: { bucket: string; prefix: string };
  databases: 'all' | string[] | null;
  nextRunAt?: string;
  lastRun?: RunView | null;
  lastSuccessAt?: string | null;
  overdue?: boolean;
  running?: { id: string } | null;
}

const JOBS_OPTIONS = {
  limit: { type: 'string' },
  run: { type: 'string' },
  into: { type: 'string' },
  'db-host': { type: 'string' },
  'db-port': { type: 'string' },
  'db-user': { type: 'string' },
  'db-password-env': { type: 'string' },
} as const;

export function runJobsCommand(args: string[]): Promise<number> {
  return runAdminApiCommand('jobs', USAGE, args, JOBS_OPTIONS, async ({ action, args: rest, flags, json, client: connect, print }) => {
    switch (action) {
      case 'list': {
        expectArgs(rest, 0, 'list');
        const result = (await connect().call('GET', 'jobs')) as { jobs: JobView[] };
        print(result, result.jobs.length === 0 ? 'No backup jobs are configured.' : result.jobs.map(describeJob).join('\n'));
        return EXIT_OK;
      }
      case 'history': {
        if (rest.length > 1) throw new UsageError('history takes at most one job name.');
        const limit = stringFlag(flags, 'limit') ?? '20';
        if (!/^\d{1,4}$/.test(limit)) throw new UsageError(`--limit takes a whole number, not "${limit}".`);
        const result = (await connect().call('GET', 'job-runs', undefined, { limit, ...(rest[0] === undefined ? {} : { job: rest[0] }) })) as { runs: RunView[] };
        print(result, result.runs.length === 0 ? 'No runs yet.' : result.runs.map(describeRun).join('\n'));
        return EXIT_OK;
      }
      case 'run': {
        const [name] = expectArgs(rest, 1, 'run JOB');
        const client = connect();
        const started = (await client.call('POST', `jobs/${encodeURIComponent(name!)}/runs`)) as { run: RunView };
        if (!json) process.stderr.write(`holdfast jobs: run ${started.run.id} of ${name} started\n`);
        const run = await waitForOutcome(client, started.run.id);
        print({ run }, describeRun(run) + (run.logExcerpt === null ? '' : `\n${run.logExcerpt}`));
        return run.outcome === 'succeeded' ? EXIT_OK : EXIT_FAILURE;
      }
      case 'restore': {
        const [name] = expectArgs(rest, 1, 'restore JOB --into TARGET');
        const into = stringFlag(flags, 'into');
        if (into === undefined) throw new UsageError('restore needs --into: a database name (mariadb-dump, pg-dump) or an empty directory (directory).');
        const result = await restore(connect(), name!, stringFlag(flags, 'run'), into, flags);
        print(result, `restored run ${result.run} of ${name} into ${result.into}: ${result.bytes} bytes${result.files === undefined ? '' : `, ${result.files} files`}`);
        return EXIT_OK;
      }
      default:
        throw new UsageError(action === undefined ? 'Name an action: list, run, history or restore.' : `Unknown jobs action "${action}".`);
    }
  });
}

function expectArgs(rest: readonly string[], count: number, usage: string): string[] {
  if (rest.length !== count) throw new UsageError(`Usage: holdfast jobs ${usage}`);
  return [...rest];
}

async function waitForOutcome(client: AdminClient, id: string): Promise<RunView> {
  for (;;) {
    const { run } = (await client.call('GET', `job-runs/${encodeURIComponent(id)}`)) as { run: RunView };
    if (run.outcome !== 'running') return run;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function restore(
  admin: AdminClient,
  name: string,
  runId: string | undefined,
  into: string,
  options: Flags,
): Promise<{ run: string; into: string; bytes: number; files?: number }> {
  const db = { host: stringFlag(options, 'db-host'), port: stringFlag(options, 'db-port'), user: stringFlag(options, 'db-user'), passwordEnv: stringFlag(options, 'db-password-env') };
  const { jobs } = (await admin.call('GET', 'jobs')) as { jobs: JobView[] };
  const job = jobs.find((j) => j.name === name);
  if (job === undefined) throw new UsageError(`The server has no backup job named "${name}".`);
  let run: RunView | undefined;
  if (runId !== undefined) {
    run = ((await admin.call('GET', `job-runs/${encodeURIComponent(runId)}`)) as { run: RunView }).run;
    if (run.job !== name) throw new UsageError(`Run ${runId} belongs to job ${run.job}, not ${name}.`);
    if (run.outcome !== 'succeeded') throw new UsageError(`Run ${runId} ${run.outcome}; only a succeeded run has a manifest to restore from.`);
  } else {
    const { runs } = (await admin.call('GET', 'job-runs', undefined, { job: name, limit: '500' })) as { runs: RunView[] };
    run = runs.find((r) => r.outcome === 'succeeded');
    if (run === undefined) throw new UsageError(`Job ${name} has no successful run to restore.`);
  }
  const s3 = new S3Client({ endpoint: admin.endpoint, region: admin.region, credentials: { ...admin.credentials, source: 'holdfast jobs credentials' }, ca: admin.ca });
  try {
    const manifest = await readRunManifest(s3, job.destination.bucket, run.manifestKey!);
    switch (job.source) {
      case 'mariadb-dump': {
        const user = db.user;
        if (user === undefined) throw new UsageError('A MariaDB restore needs --db-user (and --db-password-env VAR when the user has a password).');
        const port = tcpPort(db.port, 3306);
        const passwordEnv = setVariable(db.passwordEnv);
        const result = await restoreMariadbRun(s3, job.destination.bucket, manifest, { host: db.host ?? '127.0.0.1', port, user, password: passwordEnv === undefined ? undefined : process.env[passwordEnv], database: into }, process.env);
        return { run: run.id, into, bytes: result.bytes };
      }
      case 'pg-dump': {
        const user = db.user;
        if (user === undefined) throw new UsageError('A PostgreSQL restore needs --db-user (and --db-password-env VAR when the user has a password).');
        const port = tcpPort(db.port, 5432);
        const host = db.host ?? '127.0.0.1';
        if (!/^[A-Za-z0-9.:_/-]+$/.test(host) || !/^[A-Za-z0-9._-]+$/.test(user)) throw new UsageError('--db-host and --db-user take a plain host name and user name.');
        const passwordEnv = setVariable(db.passwordEnv);
        const result = await restorePgDumpRun(s3, job.destination.bucket, manifest, { connection: `host=${host} port=${port} user=${user}`, passwordEnv, database: into }, process.env);
        return { run: run.id, into, bytes: result.bytes };
      }
      case 'mongodump': {
        const port = tcpPort(db.port, 27017);
        const host = db.host ?? '127.0.0.1';
        const user = db.user;
        if (!/^[A-Za-z0-9.:_-]+$/.test(host) || (user !== undefined && !/^[A-Za-z0-9._-]+$/.test(user))) throw new UsageError('--db-host and --db-user take a plain host name and user name.');
        const passwordEnv = setVariable(db.passwordEnv);
        const uri = `mongodb://${user === undefined ? '' : `${encodeURIComponent(user)}@`}${host}:${port}/${user === undefined ? '' : '?authSource=admin'}`;
        const result = await restoreMongodumpRun(s3, job.destination.bucket, manifest, { uri, password: passwordEnv === undefined ? undefined : process.env[passwordEnv], database: into }, process.env);
        return { run: run.id, into, bytes: result.bytes };
      }
      case 'directory': {
        const target = isAbsolute(into) ? into : resolve(into);
        const result = await restoreDirectoryRun(s3, job.destination.bucket, manifest, target);
        return { run: run.id, into: target, bytes: result.bytes, files: result.files };
      }
      default:
        throw new UsageError(`Job ${name} is a ${job.source} job: restore it with \`holdfast pg restore --repo s3://${job.destination.bucket}/${job.destination.prefix}\`.`);
    }
  } finally {
    s3.close();
  }
}

function tcpPort(text: string | undefined, fallback: number): number {
  const port = Number(text ?? fallback);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--db-port ${text} is not a TCP port.`);
  return port;
}

/** The name --db-password-env gives, checked to be set (the password itself never passes through argv). */
function setVariable(name: string | undefined): string | undefined {
  if (name !== undefined && process.env[name] === undefined) throw new UsageError(`--db-password-env names ${name}, which is not set.`);
  return name;
}

export function describeJob(job: JobView): string {
  const last = job.lastRun === null || job.lastRun === undefined ? 'never ran' : `last ${job.lastRun.outcome} ${job.lastRun.startedAt}`;
  return [
    job.name,
    job.source,
    `"${job.schedule}" ${job.timeZone}`,
    `next ${job.nextRunAt ?? '-'}`,
    job.running === null || job.running === undefined ? last : `RUNNING ${job.running.id}`,
    `last success ${job.lastSuccessAt ?? 'never'}`,
    `s3://${job.destination.bucket}/${job.destination.prefix}`,
    ...(job.overdue === true ? ['OVERDUE'] : []),
  ].join('\t');
}

export function describeRun(run: RunView): string {
  return [
    run.id,
    run.job,
    run.outcome,
    run.trigger,
    `started ${run.startedAt}`,
    run.durationSeconds === null ? 'running' : `${run.durationSeconds.toFixed(1)} s`,
    `${run.objects} objects, ${run.bytes} bytes`,
    ...(run.error === null ? [] : [run.error]),
  ].join('\t');
}
