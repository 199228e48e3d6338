import { type CronExpression, CronSyntaxError, parseCronExpression } from './cron-expression.js';
import { checkTimeZone, TimeZoneError } from './zoned-time.js';

/**
 * A job's `drill` block: when its restore drill runs on its own, and what the drill checks on
 * top of the built-in checks (row counts, file digests, pg_amcheck). Without a block a job can
 * still be drilled by hand (`holdfast drill run JOB`) with the defaults.
 *
 *   "drill": { "schedule": "0 5 * * SUN", "timeZone": "Europe/Berlin",
 *              "probes": [{ "name": "orders", "sql": "SELECT COUNT(*) > 0 FROM orders" }],
 *              "user": "drill", "passwordEnv": "HOLDFAST_DRILL_PASSWORD" }
 */
export interface DrillConfig {
  /** Undefined: drills run only when asked for. */
  readonly schedule: CronExpression | undefined;
  readonly timeZone: string;
  /** SQL whose first column of the first row must be true (mariadb-dump, pg-dump, pg-base-backup). */
  readonly probes: readonly DrillProbeConfig[];
  /** mariadb-dump, pg-dump: who creates and drops the scratch database (default: the source's user). */
  readonly user: string | undefined;
  readonly passwordEnv: string | undefined;
  /** Where scratch copies go (directory, pg-base-backup); default the system temp directory. */
  readonly scratchDirectory: string | undefined;
  /** A drill still going after this is stopped, its scratch target torn down, and recorded failed ("over time budget"). */
  readonly timeBudgetMs: number;
}

export interface DrillProbeConfig {
  readonly name: string;
  readonly sql: string;
  /** pg-base-backup: the database to run it in (default postgres). */
  readonly database: string | undefined;
}

type Fail = (field: string, problem: string, fix: string) => never;

const FIELDS = ['schedule', 'timeZone', 'probes', 'user', 'passwordEnv', 'scratchDirectory', 'timeBudgetMinutes'];
const MAX_TIME_BUDGET_MINUTES = 24 * 60;

/**
 * Default drill budgets per source kind. A dump drill loads and counts one database, a directory
 * drill extracts and hashes a tree: both about as long as the backup took, so the job's own
 * default hour. A base-backup drill also replays WAL since the backup, starts a cluster and runs
 * pg_amcheck over every relation, which reads the whole cluster again: twice that.
 */
export const DEFAULT_DRILL_TIME_BUDGET_MINUTES: Readonly<Record<string, number>> = Object.freeze({ 'mariadb-dump': 60, 'pg-dump': 60, mongodump: 60, directory: 60, 'pg-base-backup': 120 });

function defaultBudgetMs(sourceKind: string): number {
  return (DEFAULT_DRILL_TIME_BUDGET_MINUTES[sourceKind] ?? 60) * 60_000;
}
const PROBE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export function defaultDrillConfig(timeZone: string, sourceKind: string): DrillConfig {
  return Object.freeze({ schedule: undefined, timeZone, probes: Object.freeze([]), user: undefined, passwordEnv: undefined, scratchDirectory: undefined, timeBudgetMs: defaultBudgetMs(sourceKind) });
}

/** Source kinds a restore drill knows how to restore and check (drills/job-drill.ts). */
export const DRILLABLE_SOURCES: readonly string[] = ['mariadb-dump', 'pg-dump', 'mongodump', 'directory', 'pg-base-backup'];
/** Kinds drilled in a scratch database on the source's own server, as a user the drill may name. */
const SCRATCH_DATABASE_SOURCES: readonly string[] = ['mariadb-dump', 'pg-dump'];

export function parseDrillConfig(
  value: unknown,
  job: { readonly sourceKind: string; readonly databases: 'all' | readonly string[] | undefined; readonly timeZone: string },
  // `databases`: what a mariadb-dump or mongodump job dumps ('all' or undefined for mongodump: the whole deployment).
  fail: Fail,
  env: Readonly<Record<string, string | undefined>>,
): DrillConfig {
  if (value === undefined) return defaultDrillConfig(job.timeZone, job.sourceKind);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('drill', 'is not an object', 'give {"schedule": "0 5 * * SUN", "probes": [...]}, or leave it out');
  const d = value as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (key === 'password') fail('drill.password', 'puts a credential into the config file', 'put the password into an environment variable and name it in drill.passwordEnv');
    if (!FIELDS.includes(key)) fail(`drill.${key}`, 'is not a drill field', `use ${FIELDS.join(', ')}`);
  }
  if (!DRILLABLE_SOURCES.includes(job.sourceKind)) {
    fail('drill', `is not available for ${job.sourceKind} jobs yet (drills restore ${DRILLABLE_SOURCES.join(', ')} jobs)`, 'remove the drill block; restore this job with `holdfast jobs restore` to test it by hand');
  }
  // A dump of several databases carries CREATE DATABASE/USE: it cannot load into a scratch name.
  if (job.sourceKind === 'mariadb-dump' && (job.databases === 'all' || job.databases?.length !== 1)) {
    fail('drill', 'needs a job that dumps exactly one database (a dump of several recreates them under their own names, which a drill must not touch)', 'split the job into one job per database, or remove the drill block');
  }
  if (job.sourceKind === 'mongodump' && (job.databases === undefined || job.databases === 'all')) {
    fail('drill', 'needs a job that dumps one database (source.database): the drill renames it into a scratch database, and a whole deployment cannot be renamed', 'set source.database, or remove the drill block');
  }

  let schedule: CronExpression | undefined;
  if (d['schedule'] !== undefined) {
    if (typeof d['schedule'] !== 'string') fail('drill.schedule', 'is not a string', 'give a cron schedule such as "0 5 * * SUN"');
    try {
      schedule = parseCronExpression(d['schedule']);
    } catch (error) {
      if (error instanceof CronSyntaxError) fail('drill.schedule', error.message, 'write 5 fields: minute hour day-of-month month day-of-week');
      throw error;
    }
  }
  let timeZone = job.timeZone;
  if (d['timeZone'] !== undefined) {
    if (typeof d['timeZone'] !== 'string') fail('drill.timeZone', 'is not a string', 'give an IANA zone such as "Europe/Berlin"');
    try {
      timeZone = checkTimeZone(d['timeZone']);
    } catch (error) {
      if (error instanceof TimeZoneError) fail('drill.timeZone', error.message, 'use an IANA zone name (`timedatectl list-timezones`)');
      throw error;
    }
  }

  const probes: DrillProbeConfig[] = [];
  if (d['probes'] !== undefined) {
    if (job.sourceKind === 'directory') fail('drill.probes', 'are SQL, and a directory job has no database to run them in', 'remove them; a directory drill compares every file with its recorded SHA-256');
    if (job.sourceKind === 'mongodump') fail('drill.probes', 'are SQL, and MongoDB does not run SQL', 'remove them; a mongodump drill checks that mongorestore loads the archive cleanly');
    if (!Array.isArray(d['probes'])) fail('drill.probes', 'is not a list', 'give [{"name": "orders", "sql": "SELECT COUNT(*) > 0 FROM orders"}]');
    const names = new Set<string>();
    (d['probes'] as unknown[]).forEach((raw, i) => {
      const field = `drill.probes[${i}]`;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(field, 'is not an object', 'give {"name": "orders", "sql": "SELECT COUNT(*) > 0 FROM orders"}');
      const p = raw as Record<string, unknown>;
      for (const key of Object.keys(p)) if (!['name', 'sql', 'database'].includes(key)) fail(`${field}.${key}`, 'is not a probe field', 'use name, sql and (pg-base-backup) database');
      if (typeof p['name'] !== 'string' || !PROBE_NAME.test(p['name'])) fail(`${field}.name`, `${JSON.stringify(p['name'])} is not a probe name`, 'use 1-64 letters, digits, ".", "_" or "-"');
      if (names.has(p['name'])) fail(`${field}.name`, `a second probe is named "${p['name']}"`, 'give every probe its own name');
      names.add(p['name']);
      if (typeof p['sql'] !== 'string' || p['sql'].trim() === '') fail(`${field}.sql`, 'is missing', 'give one SELECT whose first column is true when the restored data is right');
      if (p['database'] !== undefined && (job.sourceKind !== 'pg-base-backup' || typeof p['database'] !== 'string' || !/^[A-Za-z0-9_$-]{1,63}$/.test(p['database']))) {
        fail(`${field}.database`, job.sourceKind === 'pg-base-backup' ? `${JSON.stringify(p['database'])} is not a database name` : 'applies to pg-base-backup jobs only (a dump is restored into one scratch database)', 'remove it or name a database');
      }
      probes.push(Object.freeze({ name: p['name'], sql: p['sql'], database: p['database'] }));
    });
  }

  const user = d['user'];
  const passwordEnv = d['passwordEnv'];
  if ((user !== undefined || passwordEnv !== undefined) && !SCRATCH_DATABASE_SOURCES.includes(job.sourceKind)) fail(user !== undefined ? 'drill.user' : 'drill.passwordEnv', `applies to ${SCRATCH_DATABASE_SOURCES.join(' and ')} jobs only`, 'remove it');
  if (user !== undefined && (typeof user !== 'string' || user === '' || user.startsWith('-'))) {
    fail(
      'drill.user',
      `${JSON.stringify(user)} is not a user name`,
      job.sourceKind === 'pg-dump'
        ? 'name a PostgreSQL role with CREATEDB (it creates, owns and drops holdfast_drill_* databases)'
        : 'name a MariaDB user with CREATE, DROP, INSERT, SELECT, ALTER, INDEX, TRIGGER, CREATE ROUTINE and CREATE VIEW on `holdfast\\_drill\\_%`',
    );
  }
  if (passwordEnv !== undefined) {
    if (typeof passwordEnv !== 'string' || !ENV_NAME.test(passwordEnv)) fail('drill.passwordEnv', `${JSON.stringify(passwordEnv)} is not an environment variable name`, 'name a variable such as HOLDFAST_DRILL_PASSWORD');
    if (env[passwordEnv] === undefined) fail('drill.passwordEnv', `the environment variable ${passwordEnv} is not set`, `export ${passwordEnv} in the environment of holdfast (not in the config file)`);
  }
  const scratch = d['scratchDirectory'];
  const inDatabase = SCRATCH_DATABASE_SOURCES.includes(job.sourceKind) || job.sourceKind === 'mongodump';
  if (scratch !== undefined && (inDatabase || typeof scratch !== 'string' || !scratch.startsWith('/'))) {
    fail('drill.scratchDirectory', inDatabase ? 'does not apply: a dump is drilled in a scratch database' : `${JSON.stringify(scratch)} is not an absolute path`, 'give an absolute directory path, or leave it out for the system temp directory');
  }
  let timeBudgetMs = defaultBudgetMs(job.sourceKind);
  const budget = d['timeBudgetMinutes'];
  if (budget !== undefined) {
    if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1 || budget > MAX_TIME_BUDGET_MINUTES) {
      fail('drill.timeBudgetMinutes', `${JSON.stringify(budget)} is not a whole number of minutes from 1 to ${MAX_TIME_BUDGET_MINUTES}`, `give the longest a drill may take, or leave it out for ${defaultBudgetMs(job.sourceKind) / 60_000} minutes (the default for ${job.sourceKind} jobs)`);
    }
    timeBudgetMs = budget * 60_000;
  }
  return Object.freeze({ schedule, timeZone, probes: Object.freeze(probes), user: user, passwordEnv: passwordEnv, scratchDirectory: scratch, timeBudgetMs });
}
