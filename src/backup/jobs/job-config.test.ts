import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobConfigError, parseBackupJobs } from './job-config.js';

const context = { alertChannels: ['log', 'oncall'], env: { HOLDFAST_JOB_NIGHTLY_DB_PASSWORD: 's3cret' }, nowMs: Date.parse('2026-06-01T12:00:00Z') };

const nightly = {
  name: 'nightly-db',
  source: { kind: 'mariadb-dump', host: '127.0.0.1', port: 3306, user: 'backup', passwordEnv: 'HOLDFAST_JOB_NIGHTLY_DB_PASSWORD', databases: ['shop'] },
  schedule: '0 3 * * *',
  timeZone: 'Europe/Berlin',
  destination: { bucket: 'backups', prefix: 'db/nightly' },
  retention: { keepCount: 7, keepDays: 30 },
  timeBudgetMinutes: 30,
  alertRoutes: ['oncall'],
};

test('a complete job is parsed into a frozen record', () => {
  const [job] = parseBackupJobs([nightly], context);
  assert.ok(job !== undefined);
  assert.equal(job.name, 'nightly-db');
  assert.deepEqual(job.source, { kind: 'mariadb-dump', host: '127.0.0.1', port: 3306, user: 'backup', passwordEnv: 'HOLDFAST_JOB_NIGHTLY_DB_PASSWORD', databases: ['shop'] });
  assert.equal(job.schedule.text, '0 3 * * *');
  assert.equal(job.timeZone, 'Europe/Berlin');
  assert.deepEqual(job.destination, { bucket: 'backups', prefix: 'db/nightly' });
  assert.deepEqual(job.retention, { keepCount: 7, keepDays: 30 });
  assert.equal(job.timeBudgetMs, 30 * 60_000);
  // Daily: the longest gap between runs is 24 h (no DST change in June), plus the time budget.
  assert.equal(job.expectedIntervalMs, 24 * 3600_000 + 30 * 60_000);
  assert.deepEqual(job.alertRoutes, ['oncall']);
  assert.ok(Object.isFrozen(job) && Object.isFrozen(job.source) && Object.isFrozen(job.destination));
});

test('defaults: UTC, the job name as prefix, a 60-minute budget, every channel, all databases', () => {
  const [job] = parseBackupJobs([{ name: 'files', source: { kind: 'directory', path: '/srv/files' }, schedule: '0 3 * * MON-FRI', destination: { bucket: 'backups' } }], context);
  assert.equal(job?.timeZone, 'UTC');
  assert.equal(job?.destination.prefix, 'files');
  assert.equal(job?.timeBudgetMs, 3600_000);
  assert.equal(job?.alertRoutes, undefined);
  // Weekdays only: Friday 03:00 to Monday 03:00 is the longest gap.
  assert.equal(job?.expectedIntervalMs, 72 * 3600_000 + 3600_000);
  const [db] = parseBackupJobs([{ name: 'all-dbs', source: { kind: 'mariadb-dump', user: 'root' }, schedule: '@hourly', destination: { bucket: 'backups' }, expectedIntervalHours: 2.5 }], context);
  assert.deepEqual(db?.source, { kind: 'mariadb-dump', host: '127.0.0.1', port: 3306, user: 'root', passwordEnv: undefined, databases: 'all' });
  assert.equal(db?.expectedIntervalMs, 2.5 * 3600_000);
  const [mongo] = parseBackupJobs([{ name: 'mongo', source: { kind: 'mongodump', uri: 'mongodb://backup@db:27017/?authSource=admin', database: 'shop' }, schedule: '@daily', destination: { bucket: 'backups' } }], { ...context, toolInstalled: () => true });
  assert.deepEqual(mongo?.source, { kind: 'mongodump', uri: 'mongodb://backup@db:27017/?authSource=admin', passwordEnv: undefined, database: 'shop' });
  const [dump] = parseBackupJobs([{ name: 'pg-shop', source: { kind: 'pg-dump', connection: 'host=db port=5433 user=backup', database: 'shop' }, schedule: '@daily', destination: { bucket: 'backups' } }], context);
  assert.deepEqual(dump?.source, { kind: 'pg-dump', connection: 'host=db port=5433 user=backup', passwordEnv: undefined, database: 'shop' });
});

test('a source whose tool is not on this host stops the start with the tool and how to install it', () => {
  const mongo = { name: 'mongo', source: { kind: 'mongodump', uri: 'mongodb://backup@db:27017/' }, schedule: '@daily', destination: { bucket: 'backups' } };
  const looked: string[] = [];
  const absent = (tool: string) => (looked.push(tool), false);
  assert.throws(
    () => parseBackupJobs([mongo], { ...context, toolInstalled: absent }),
    (e: unknown) =>
      e instanceof JobConfigError &&
      /^jobs\[0\] "mongo"\.source\.kind: a mongodump job runs mongodump, which is not installed on this host \(not on PATH\)\. Fix: install the MongoDB Database Tools \(mongodump, mongorestore\) from https:\/\/www\.mongodb\.com\/try\/download\/database-tools/.test(e.message),
  );
  assert.deepEqual(looked, ['mongodump']);
  assert.throws(() => parseBackupJobs([{ ...mongo, source: { kind: 'pg-dump', database: 'x' } }], { ...context, toolInstalled: (t) => t !== 'pg_dump' }), /runs pg_dump, which is not installed.*Fix: apt-get install postgresql-client/);
  // Without a lookup (unit tests of the shape), nothing is checked.
  assert.equal(parseBackupJobs([mongo], context).length, 1);
});

test('errors name the job, the field and the fix', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ jobs: 1 }, /^jobs: is not a list/],
    [[nightly, { ...nightly, name: 'weekly', schedule: '0 3 * *' }], /^jobs\[1\] "weekly"\.schedule: "0 3 \* \*" has 4 fields.*Fix: write 5 fields/],
    [[{ ...nightly, schedule: '0 25 * * *' }], /^jobs\[0\] "nightly-db"\.schedule: the hour field "25" has 25, outside 0-23/],
    [[{ ...nightly, timeZone: 'Mars/Olympus' }], /^jobs\[0\] "nightly-db"\.timeZone: "Mars\/Olympus" is not a time zone/],
    [[{ ...nightly, name: 'Bad Name' }], /^jobs\[0\] "Bad Name"\.name: "Bad Name" is not a job name/],
    [[nightly, nightly], /^jobs\[1\] "nightly-db"\.name: a second job has this name/],
    [[{ ...nightly, retention: { keepDays: 120 } }], /^jobs\[0\] "nightly-db"\.retention\.keepDays: 120 days exceeds the backup-data-immutability policy, section 5: "a maximum backup retention of 90 days after data deletion"\. Fix: keep at most 90 days/],
    [[{ ...nightly, retention: { keepCount: 0 } }], /retention\.keepCount: 0 is not a whole number from 1/],
    [[{ ...nightly, source: { ...nightly.source, password: 'x' } }], /source\.password: puts a credential into the config file\. Fix: put the password into an environment variable and name it in passwordEnv/],
    [[{ ...nightly, source: { ...nightly.source, passwordEnv: 'HOLDFAST_JOB_UNSET' } }], /source\.passwordEnv: the environment variable HOLDFAST_JOB_UNSET is not set/],
    [[{ ...nightly, source: { kind: 'mongodb' } }], /source\.kind: "mongodb" is not a source kind/],
    [[{ ...nightly, source: { kind: 'mongodump', uri: `mongodb://backup:${'hunter2'}@db/` } }], /source\.uri: holds a password\. Fix: leave it out of the URI/],
    [[{ ...nightly, source: { kind: 'mongodump', uri: 'http://db/' } }], /source\.uri: "http:\/\/db\/" is not a MongoDB URI/],
    [[{ ...nightly, source: { kind: 'pg-dump', connection: 'host=x dbname=shop', database: 'shop' } }], /source\.connection: names a database\. Fix: .*the database in "database"/],
    [[{ ...nightly, source: { kind: 'pg-dump', connection: 'host=x' } }], /^jobs\[0\] "nightly-db"\.source\.database: undefined is not a database name\. Fix: name the one database to dump/],
    [[{ ...nightly, source: { kind: 'directory', path: 'relative/dir' } }], /source\.path: "relative\/dir" is not an absolute path/],
    [[{ ...nightly, source: { kind: 'pg-base-backup', connection: 'host=x password=y' } }], /source\.connection: holds a password/],
    [[{ ...nightly, source: { ...nightly.source, databases: ['ok', 'bad;name'] } }], /source\.databases: .* is neither "all" nor a list/],
    [[{ ...nightly, destination: { bucket: 'Bad_Bucket' } }], /destination\.bucket: "Bad_Bucket" is not a bucket name/],
    [[{ ...nightly, destination: undefined }], /destination: is missing/],
    [[{ ...nightly, alertRoutes: ['pager'] }], /alertRoutes: names the channel "pager", which is not configured\. Fix: use one of log, oncall/],
    [[{ ...nightly, timeBudgetMinutes: 0 }], /timeBudgetMinutes: 0 is not a whole number of minutes/],
    [[{ ...nightly, expectedIntervalHours: -1 }], /expectedIntervalHours: -1 is not a number of hours/],
    [[{ ...nightly, typo: 1 }], /^jobs\[0\] "nightly-db"\.typo: is not a job field/],
  ];
  for (const [value, message] of cases) {
    const input = (value as { jobs?: unknown }).jobs ?? value;
    assert.throws(() => parseBackupJobs(input, context), (e: unknown) => e instanceof JobConfigError && message.test(e.message), `expected ${message}`);
  }
});

test('a drill block is parsed with the job zone by default; its errors name the job and the drill field', () => {
  const env = { ...context.env, HOLDFAST_DRILL_PW: 'x' };
  const [job] = parseBackupJobs([{ ...nightly, drill: { schedule: '0 5 * * SUN', probes: [{ name: 'orders', sql: 'SELECT COUNT(*) > 0 FROM orders' }], user: 'drill', passwordEnv: 'HOLDFAST_DRILL_PW' } }], { ...context, env });
  assert.equal(job?.drill.schedule?.text, '0 5 * * SUN');
  assert.equal(job?.drill.timeZone, 'Europe/Berlin');
  assert.deepEqual(job?.drill.probes, [{ name: 'orders', sql: 'SELECT COUNT(*) > 0 FROM orders', database: undefined }]);
  const [plain] = parseBackupJobs([nightly], context);
  assert.equal(plain?.drill.schedule, undefined, 'no block: drills only on request');
  const refused = (drill: unknown, source: unknown, pattern: RegExp) =>
    assert.throws(() => parseBackupJobs([{ ...nightly, ...(source === undefined ? {} : { source }), drill }], context), (e: unknown) => e instanceof JobConfigError && pattern.test(e.message));
  refused({ schedule: '61 * * * *' }, undefined, /^jobs\[0\] "nightly-db"\.drill\.schedule: .*Fix:/);
  refused({ probes: [{ name: 'x' }] }, undefined, /^jobs\[0\] "nightly-db"\.drill\.probes\[0\]\.sql: is missing/);
  refused({ password: 'x' }, undefined, /drill\.password: puts a credential into the config file/);
  refused({ passwordEnv: 'NOT_SET_ANYWHERE' }, undefined, /drill\.passwordEnv: the environment variable NOT_SET_ANYWHERE is not set/);
  refused({ schedule: '@weekly' }, { ...nightly.source, databases: 'all' }, /drill: needs a job that dumps exactly one database/);
  refused({ probes: [{ name: 'p', sql: 'SELECT 1' }] }, { kind: 'directory', path: '/srv' }, /drill\.probes: are SQL, and a directory job has no database/);
  refused({ hourly: true }, undefined, /drill\.hourly: is not a drill field/);
});
