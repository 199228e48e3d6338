import { isAbsolute } from 'node:path';
import { type CronExpression, CronSyntaxError, parseCronExpression } from './cron-expression.js';
import { upcomingRuns } from './cron-next-run.js';
import { type DrillConfig, parseDrillConfig } from './drill-config.js';
import { checkTimeZone, TimeZoneError } from './zoned-time.js';
import { MONGODB_TOOLS_INSTALL_HINT } from './sources/mongodb-tools.js';

/**
 * The `jobs` list of the server (or agent) configuration, checked once at start-up into frozen
 * records. Every error names the job and the field — `jobs[2] "nightly-db".schedule: …` — and
 * the fix. Credentials never sit in the file: a source names the environment variable that
 * holds its password (`passwordEnv`), and start-up fails if that variable is not set.
 */

export interface MariadbDumpSource {
  readonly kind: 'mariadb-dump';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The environment variable with the password; none for socket/empty-password setups. */
  readonly passwordEnv: string | undefined;
  /** `all`, or the databases to dump. A single database is dumped without CREATE DATABASE/USE, so it restores under any name. */
  readonly databases: 'all' | readonly string[];
}

export interface DirectorySource {
  readonly kind: 'directory';
  /** Absolute path of the directory archived (tar, gzip). */
  readonly path: string;
}

export interface PgBaseBackupSource {
  readonly kind: 'pg-base-backup';
  /** libpq conninfo (without a password), e.g. `host=127.0.0.1 port=5432 user=backup`. */
  readonly connection: string | undefined;
  readonly passwordEnv: string | undefined;
}

export interface PgDumpSource {
  readonly kind: 'pg-dump';
  /** libpq conninfo (without a password and without dbname), e.g. `host=127.0.0.1 port=5432 user=backup`. */
  readonly connection: string | undefined;
  readonly passwordEnv: string | undefined;
  /** The one database dumped (pg_dump takes one; restores go into any name). */
  readonly database: string;
}

export interface MongodumpSource {
  readonly kind: 'mongodump';
  /** A MongoDB URI without a password, e.g. `mongodb://backup@127.0.0.1:27017/?authSource=admin`. */
  readonly uri: string;
  readonly passwordEnv: string | undefined;
  /** One database, or undefined for the whole deployment. */
  readonly database: string | undefined;
}

export type JobSourceConfig = MariadbDumpSource | DirectorySource | PgBaseBackupSource | PgDumpSource | MongodumpSource;
export type JobSourceKind = JobSourceConfig['kind'];

export interface BackupJob {
  readonly name: string;
  readonly source: JobSourceConfig;
  readonly schedule: CronExpression;
  readonly timeZone: string;
  readonly destination: { readonly bucket: string; readonly prefix: string };
  readonly retention: { readonly keepCount: number | undefined; readonly keepDays: number | undefined };
  readonly timeBudgetMs: number;
  /** Dead man's switch: a job without a success for this long raises backup-job-overdue. */
  readonly expectedIntervalMs: number;
  /** Alert channels for this job's alerts; undefined: every channel. */
  readonly alertRoutes: readonly string[] | undefined;
  /** The restore drill: its schedule (if any) and checks (drill-config.ts). */
  readonly drill: DrillConfig;
}

export class JobConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobConfigError';
  }
}

/**
 * The backup-data-immutability policy, section 5: "Backup retention follows the Data Deletion
 * and Retention Policy, with a maximum backup retention of 90 days after data deletion."
 */
export const MAX_KEEP_DAYS = 90;
const DEFAULT_TIME_BUDGET_MINUTES = 60;
const MAX_TIME_BUDGET_MINUTES = 7 * 24 * 60;
/** Runs looked at to derive the expected interval from a schedule (covers weekdays and months). */
const INTERVAL_SAMPLE_RUNS = 30;
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SOURCE_FIELDS: Readonly<Record<JobSourceKind, readonly string[]>> = {
  'mariadb-dump': ['kind', 'host', 'port', 'user', 'passwordEnv', 'databases'],
  directory: ['kind', 'path'],
  'pg-base-backup': ['kind', 'connection', 'passwordEnv'],
  'pg-dump': ['kind', 'connection', 'passwordEnv', 'database'],
  mongodump: ['kind', 'uri', 'passwordEnv', 'database'],
};

/**
 * The host tools each source runs, checked at start-up (when the caller can look them up) so a
 * job that could never run stops the start with what to install, instead of failing at 03:00.
 */
export const SOURCE_TOOLS: Readonly<Record<JobSourceKind, readonly { readonly tool: string; readonly install: string }[]>> = {
  'mariadb-dump': [{ tool: 'mariadb-dump', install: 'apt-get install mariadb-client' }],
  'pg-dump': [{ tool: 'pg_dump', install: 'apt-get install postgresql-client (the major version of the server, or newer)' }],
  'pg-base-backup': [
    { tool: 'pg_basebackup', install: 'apt-get install postgresql-client (the major version of the server)' },
    { tool: 'psql', install: 'apt-get install postgresql-client' },
  ],
  directory: [],
  mongodump: [{ tool: 'mongodump', install: MONGODB_TOOLS_INSTALL_HINT }],
};
const JOB_FIELDS = ['name', 'source', 'schedule', 'timeZone', 'destination', 'retention', 'timeBudgetMinutes', 'expectedIntervalHours', 'alertRoutes', 'drill'];

export interface JobConfigContext {
  /** Names of the configured alert channels (alertRoutes must name one of them). */
  readonly alertChannels: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** When the schedule-derived expected interval is sampled from. */
  readonly nowMs: number;
  /** Whether a host tool is installed (on PATH); when given, every job's source tools are checked. */
  readonly toolInstalled?: (tool: string) => boolean;
}

export function parseBackupJobs(value: unknown, context: JobConfigContext): readonly BackupJob[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new JobConfigError('jobs: is not a list. Fix: give a JSON list of jobs, e.g. [{"name": "nightly-db", "source": {…}, "schedule": "0 3 * * *", …}].');
  const names = new Set<string>();
  const jobs = value.map((entry: unknown, index) => {
    const job = parseJob(entry, index, context);
    if (names.has(job.name)) throw new JobConfigError(`jobs[${index}] "${job.name}".name: a second job has this name. Fix: give every job its own name.`);
    names.add(job.name);
    return job;
  });
  return Object.freeze(jobs);
}

function parseJob(entry: unknown, index: number, context: JobConfigContext): BackupJob {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new JobConfigError(`jobs[${index}]: is not an object. Fix: give {"name": …, "source": …, "schedule": …, "destination": …}.`);
  const o = entry as Record<string, unknown>;
  const rawName = o['name'];
  const label = `jobs[${index}]${typeof rawName === 'string' ? ` "${rawName}"` : ''}`;
  const fail = (field: string, problem: string, fix: string): never => {
    throw new JobConfigError(`${label}.${field}: ${problem}. Fix: ${fix}.`);
  };
  for (const key of Object.keys(o)) {
    if (!JOB_FIELDS.includes(key)) fail(key, 'is not a job field', `remove it; the fields are ${JOB_FIELDS.join(', ')}`);
  }
  if (typeof rawName !== 'string' || !NAME.test(rawName)) fail('name', `${JSON.stringify(rawName)} is not a job name`, 'use 1-63 lower-case letters, digits, ".", "-" or "_", starting with a letter or digit');
  const name = rawName as string;

  const source = parseSource(o['source'], fail, context.env);
  if (context.toolInstalled !== undefined) {
    for (const { tool, install } of SOURCE_TOOLS[source.kind]) {
      if (!context.toolInstalled(tool)) fail('source.kind', `a ${source.kind} job runs ${tool}, which is not installed on this host (not on PATH)`, install);
    }
  }

  if (typeof o['schedule'] !== 'string') fail('schedule', 'is missing', 'give a cron schedule such as "0 3 * * *" (03:00 daily) or "@daily"');
  let schedule: CronExpression;
  try {
    schedule = parseCronExpression(o['schedule'] as string);
  } catch (error) {
    if (error instanceof CronSyntaxError) fail('schedule', error.message, 'write 5 fields: minute hour day-of-month month day-of-week');
    throw error;
  }

  const zoneText = o['timeZone'] ?? 'UTC';
  if (typeof zoneText !== 'string') fail('timeZone', 'is not a string', 'give an IANA zone such as "Europe/Berlin"');
  let timeZone: string;
  try {
    timeZone = checkTimeZone(zoneText as string);
  } catch (error) {
    if (error instanceof TimeZoneError) fail('timeZone', error.message, 'use an IANA zone name (`timedatectl list-timezones`)');
    throw error;
  }

  const destination = o['destination'];
  if (typeof destination !== 'object' || destination === null || Array.isArray(destination)) fail('destination', 'is missing', 'give {"bucket": "backups", "prefix": "nightly-db"}');
  const d = destination as Record<string, unknown>;
  for (const key of Object.keys(d)) if (key !== 'bucket' && key !== 'prefix') fail(`destination.${key}`, 'is not a destination field', 'use bucket and prefix');
  if (typeof d['bucket'] !== 'string' || !BUCKET.test(d['bucket'])) fail('destination.bucket', `${JSON.stringify(d['bucket'])} is not a bucket name`, 'name an existing bucket (3-63 lower-case letters, digits, "." or "-")');
  const prefix = d['prefix'] ?? name;
  if (typeof prefix !== 'string' || prefix.split('/').some((s) => s === '.' || s === '..')) fail('destination.prefix', `${JSON.stringify(prefix)} is not a key prefix`, 'give a prefix such as "databases/nightly-db" (no . or .. segments)');

  const retention = parseRetention(o['retention'], fail);

  const budget = o['timeBudgetMinutes'] ?? DEFAULT_TIME_BUDGET_MINUTES;
  if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1 || budget > MAX_TIME_BUDGET_MINUTES) {
    fail('timeBudgetMinutes', `${JSON.stringify(budget)} is not a whole number of minutes from 1 to ${MAX_TIME_BUDGET_MINUTES}`, `give the longest a run may take (default ${DEFAULT_TIME_BUDGET_MINUTES})`);
  }
  const timeBudgetMs = (budget as number) * 60_000;

  let expectedIntervalMs: number;
  if (o['expectedIntervalHours'] === undefined) {
    expectedIntervalMs = derivedInterval(schedule, timeZone, context.nowMs) + timeBudgetMs;
  } else {
    const hours = o['expectedIntervalHours'];
    if (typeof hours !== 'number' || !(hours > 0) || hours > 24 * 400) fail('expectedIntervalHours', `${JSON.stringify(hours)} is not a number of hours from above 0 to 9600`, 'give how long the job may go without a success, or leave it out to derive it from the schedule');
    expectedIntervalMs = Math.round((hours as number) * 3600_000);
  }

  let alertRoutes: readonly string[] | undefined;
  if (o['alertRoutes'] !== undefined) {
    const routes = o['alertRoutes'];
    if (!Array.isArray(routes) || routes.length === 0 || routes.some((r) => typeof r !== 'string')) fail('alertRoutes', 'is not a list of channel names', 'give e.g. ["oncall"], or leave it out for every channel');
    for (const route of routes as string[]) {
      if (!context.alertChannels.includes(route)) fail('alertRoutes', `names the channel "${route}", which is not configured`, `use one of ${context.alertChannels.join(', ')} (alertChannels)`);
    }
    alertRoutes = Object.freeze([...new Set(routes as string[])]);
  }

  const drill = parseDrillConfig(o['drill'], { sourceKind: source.kind, databases: source.kind === 'mariadb-dump' ? source.databases : source.kind === 'mongodump' && source.database !== undefined ? [source.database] : undefined, timeZone: timeZone! }, fail, context.env);

  return Object.freeze({
    name,
    source,
    schedule,
    timeZone: timeZone!,
    destination: Object.freeze({ bucket: d['bucket'] as string, prefix: (prefix as string).replace(/^\/+|\/+$/g, '') }),
    retention,
    timeBudgetMs,
    expectedIntervalMs,
    alertRoutes,
    drill,
  });
}

type Fail = (field: string, problem: string, fix: string) => never;

function parseSource(value: unknown, fail: Fail, env: Readonly<Record<string, string | undefined>>): JobSourceConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('source', 'is missing', 'give {"kind": "mariadb-dump" | "pg-dump" | "pg-base-backup" | "mongodump" | "directory", …}');
  const s = value as Record<string, unknown>;
  const kind = s['kind'];
  if (kind !== 'mariadb-dump' && kind !== 'directory' && kind !== 'pg-base-backup' && kind !== 'pg-dump' && kind !== 'mongodump') fail('source.kind', `${JSON.stringify(kind)} is not a source kind`, 'use mariadb-dump, pg-dump, pg-base-backup, mongodump or directory');
  const k = kind;
  for (const key of Object.keys(s)) {
    if (key === 'password') fail('source.password', 'puts a credential into the config file', 'put the password into an environment variable and name it in passwordEnv');
    if (!SOURCE_FIELDS[k].includes(key)) fail(`source.${key}`, `is not a field of a ${k} source`, `use ${SOURCE_FIELDS[k].join(', ')}`);
  }
  const passwordEnv = (): string | undefined => {
    const v = s['passwordEnv'];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !ENV_NAME.test(v)) fail('source.passwordEnv', `${JSON.stringify(v)} is not an environment variable name`, 'name a variable such as HOLDFAST_JOB_NIGHTLY_DB_PASSWORD');
    if (env[v] === undefined) fail('source.passwordEnv', `the environment variable ${v} is not set`, `export ${v} in the environment of holdfast (not in the config file)`);
    return v;
  };
  switch (k) {
    case 'mariadb-dump': {
      const host = s['host'] ?? '127.0.0.1';
      if (typeof host !== 'string' || host === '' || host.startsWith('-')) fail('source.host', `${JSON.stringify(host)} is not a host name`, 'give the server\'s host name or address');
      const port = s['port'] ?? 3306;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) fail('source.port', `${JSON.stringify(port)} is not a TCP port`, 'give a port from 1 to 65535 (default 3306)');
      const user = s['user'];
      if (typeof user !== 'string' || user === '' || user.startsWith('-')) fail('source.user', 'is missing', 'name the database user the dump runs as (SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES)');
      const dbs = s['databases'] ?? 'all';
      if (dbs !== 'all' && (!Array.isArray(dbs) || dbs.length === 0 || dbs.some((db) => typeof db !== 'string' || !/^[A-Za-z0-9_$]{1,64}$/.test(db)))) {
        fail('source.databases', `${JSON.stringify(dbs)} is neither "all" nor a list of database names`, 'give "all" or e.g. ["shop", "crm"]');
      }
      return Object.freeze({ kind: k, host: host, port: port, user: user, passwordEnv: passwordEnv(), databases: dbs === 'all' ? 'all' : Object.freeze([...(dbs as string[])]) });
    }
    case 'directory': {
      const path = s['path'];
      if (typeof path !== 'string' || !isAbsolute(path)) fail('source.path', `${JSON.stringify(path)} is not an absolute path`, 'give the absolute path of the directory to archive');
      return Object.freeze({ kind: k, path: path });
    }
    case 'pg-base-backup': {
      const connection = s['connection'];
      if (connection !== undefined && (typeof connection !== 'string' || /password\s*=/i.test(connection))) {
        fail('source.connection', typeof connection === 'string' ? 'holds a password' : 'is not a libpq connection string', 'give e.g. "host=127.0.0.1 port=5432 user=backup" and the password through passwordEnv');
      }
      return Object.freeze({ kind: k, connection: connection, passwordEnv: passwordEnv() });
    }
    case 'pg-dump': {
      const connection = s['connection'];
      if (connection !== undefined && (typeof connection !== 'string' || /password\s*=/i.test(connection) || /dbname\s*=/i.test(connection))) {
        fail(
          'source.connection',
          typeof connection !== 'string' ? 'is not a libpq connection string' : /dbname/i.test(connection) ? 'names a database' : 'holds a password',
          'give e.g. "host=127.0.0.1 port=5432 user=backup", the database in "database" and the password through passwordEnv',
        );
      }
      const database = s['database'];
      if (typeof database !== 'string' || database === '' || database.length > 63 || database.startsWith('-')) fail('source.database', `${JSON.stringify(database)} is not a database name`, 'name the one database to dump (pg_dump takes one; add a job per database)');
      return Object.freeze({ kind: k, connection: connection, passwordEnv: passwordEnv(), database: database });
    }
    case 'mongodump': {
      const uri = s['uri'];
      if (typeof uri !== 'string' || !/^mongodb(\+srv)?:\/\/[^\s]+$/.test(uri)) fail('source.uri', `${JSON.stringify(uri)} is not a MongoDB URI`, 'give e.g. "mongodb://backup@127.0.0.1:27017/?authSource=admin"');
      if (/^mongodb(\+srv)?:\/\/[^/@]*:[^/@]*@/.test(uri)) fail('source.uri', 'holds a password', 'leave it out of the URI (mongodb://backup@host/…) and name the variable holding it in passwordEnv');
      const database = s['database'];
      if (database !== undefined && (typeof database !== 'string' || !/^[^/\\. "$]{1,63}$/.test(database) || database.includes('\0'))) fail('source.database', `${JSON.stringify(database)} is not a MongoDB database name`, 'name one database, or leave it out to dump the whole deployment');
      return Object.freeze({ kind: k, uri, passwordEnv: passwordEnv(), database });
    }
  }
}

function parseRetention(value: unknown, fail: Fail): BackupJob['retention'] {
  if (value === undefined) return Object.freeze({ keepCount: undefined, keepDays: undefined });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('retention', 'is not an object', 'give {"keepCount": 7, "keepDays": 30}');
  const r = value as Record<string, unknown>;
  for (const key of Object.keys(r)) if (key !== 'keepCount' && key !== 'keepDays') fail(`retention.${key}`, 'is not a retention field', 'use keepCount and keepDays');
  const keepCount = r['keepCount'];
  if (keepCount !== undefined && (typeof keepCount !== 'number' || !Number.isInteger(keepCount) || keepCount < 1 || keepCount > 10_000)) fail('retention.keepCount', `${JSON.stringify(keepCount)} is not a whole number from 1 to 10000`, 'give how many of the newest runs to keep');
  const keepDays = r['keepDays'];
  if (keepDays !== undefined) {
    if (typeof keepDays !== 'number' || !Number.isInteger(keepDays) || keepDays < 1) fail('retention.keepDays', `${JSON.stringify(keepDays)} is not a whole number of days`, `give 1 to ${MAX_KEEP_DAYS}`);
    if ((keepDays) > MAX_KEEP_DAYS) {
      fail(
        'retention.keepDays',
        `${keepDays} days exceeds the backup-data-immutability policy, section 5: "a maximum backup retention of 90 days after data deletion"`,
        `keep at most ${MAX_KEEP_DAYS} days (use keepCount for how many runs)`,
      );
    }
  }
  return Object.freeze({ keepCount: keepCount, keepDays: keepDays });
}

/** The longest gap between consecutive runs among the schedule's next runs. */
function derivedInterval(schedule: CronExpression, timeZone: string, nowMs: number): number {
  const runs = upcomingRuns(schedule, nowMs, timeZone, INTERVAL_SAMPLE_RUNS + 1);
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]! - runs[i - 1]!);
  return longest;
}
