import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobConfigError, parseBackupJobs } from './job-config.js';

const context = { alertChannels: ['log'], env: { HOLDFAST_PW: 's3cret' }, nowMs: Date.parse('2026-06-01T12:00:00Z') };
const sources = {
  'mariadb-dump': { kind: 'mariadb-dump', host: '127.0.0.1', port: 3306, user: 'backup', passwordEnv: 'HOLDFAST_PW', databases: ['shop'] },
  directory: { kind: 'directory', path: '/srv/files' },
  'pg-base-backup': { kind: 'pg-base-backup', connection: 'host=127.0.0.1 user=backup' },
  'pg-dump': { kind: 'pg-dump', connection: 'host=127.0.0.1 user=backup', database: 'shop' },
  mongodump: { kind: 'mongodump', uri: 'mongodb://backup@127.0.0.1:27017/', database: 'shop' },
  'mongodump-all': { kind: 'mongodump', uri: 'mongodb://backup@127.0.0.1:27017/' },
} as const;
const job = (kind: keyof typeof sources, drill?: unknown) => ({ name: 'j', source: sources[kind], schedule: '0 3 * * *', destination: { bucket: 'backups' }, ...(drill === undefined ? {} : { drill }) });
const parse = (kind: keyof typeof sources, drill?: unknown) => parseBackupJobs([job(kind, drill)], context)[0]!.drill;

test('drill.timeBudgetMinutes defaults per source kind: an hour for dumps and directories, two for base backups (WAL replay and pg_amcheck)', () => {
  assert.equal(parse('mariadb-dump').timeBudgetMs, 60 * 60_000);
  assert.equal(parse('directory').timeBudgetMs, 60 * 60_000);
  assert.equal(parse('pg-base-backup').timeBudgetMs, 120 * 60_000);
  // A drill block without the field gets the same default.
  assert.equal(parse('pg-base-backup', { schedule: '0 5 * * SUN' }).timeBudgetMs, 120 * 60_000);
  assert.equal(parse('directory', { timeBudgetMinutes: 5 }).timeBudgetMs, 5 * 60_000);
  assert.equal(parse('mariadb-dump', { timeBudgetMinutes: 1440 }).timeBudgetMs, 1440 * 60_000);
});

test('drill.timeBudgetMinutes: anything but a whole number of minutes from 1 to 1440 is refused, naming job, field and the default', () => {
  for (const bad of [0, -1, 1.5, 1441, '30', null]) {
    assert.throws(
      () => parse('pg-base-backup', { timeBudgetMinutes: bad }),
      (e: Error) =>
        e instanceof JobConfigError &&
        e.message.includes('"j".drill.timeBudgetMinutes') &&
        e.message.includes('is not a whole number of minutes from 1 to 1440') &&
        e.message.includes('120 minutes (the default for pg-base-backup jobs)'),
      `timeBudgetMinutes ${JSON.stringify(bad)}`,
    );
  }
});

test('pg-dump jobs are drillable with probes and a drill user of their own; mongodump jobs of one database without probes', () => {
  const drill = parse('pg-dump', { schedule: '0 5 * * SUN', user: 'drill', passwordEnv: 'HOLDFAST_PW', probes: [{ name: 'orders', sql: 'SELECT count(*) > 0 FROM orders' }] });
  assert.equal(drill.user, 'drill');
  assert.equal(drill.probes.length, 1);
  assert.equal(drill.timeBudgetMs, 60 * 60_000);
  assert.equal(parse('mongodump', { schedule: '0 5 * * SUN' }).schedule?.text, '0 5 * * SUN');
  const refused = (kind: keyof typeof sources, block: unknown, field: string, problem: RegExp) =>
    assert.throws(() => parse(kind, block), (e: Error) => e instanceof JobConfigError && e.message.includes(`"j".${field}`) && problem.test(e.message), `${kind} ${JSON.stringify(block)}`);
  refused('mongodump-all', {}, 'drill', /needs a job that dumps one database \(source.database\)/);
  refused('mongodump', { probes: [{ name: 'p', sql: 'SELECT 1' }] }, 'drill.probes', /MongoDB does not run SQL/);
  refused('pg-dump', { scratchDirectory: '/tmp' }, 'drill.scratchDirectory', /a dump is drilled in a scratch database/);
  refused('pg-dump', { user: '-U' }, 'drill.user', /a PostgreSQL role with CREATEDB/);
  refused('directory', { user: 'x' }, 'drill.user', /applies to mariadb-dump and pg-dump jobs only/);
});
