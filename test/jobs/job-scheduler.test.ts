import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseBackupJobs, type BackupJob } from '../../src/backup/jobs/job-config.js';
import { readRunManifest, restoreMariadbRun } from '../../src/backup/jobs/job-restore.js';
import type { JobRun } from '../../src/backup/jobs/job-run.js';
import { JobRunner } from '../../src/backup/jobs/job-runner.js';
import { JobScheduler, type JobStatus } from '../../src/backup/jobs/job-scheduler.js';
import { SqliteJobRunHistory } from '../../src/backup/jobs/sqlite-job-run-history.js';
import { ManualClock } from '../../src/infra/clock.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupBucket, createSourceDatabase, leanClient, mariadbJobSource, SOURCE_TABLES } from '../support/job-fixtures.js';
import { holdWriteLock, MARIADB_HOST, MARIADB_PORT, randomName, requireMariadb, sql, tableFingerprints } from '../support/mariadb.js';
import { type RunningVault, startVault } from '../support/vault-server.js';
import { freePort } from '../../src/infra/alerts/receivers.test-fixture.js';

/**
 * The scheduler and runner in this process, driven by a ManualClock, against a real vault (the
 * built server) and the real MariaDB: nothing waits for wall-clock minutes.
 */
let vault: RunningVault;
let bucket: string;
let workDir: string;
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  vault = await startVault({ env: { HOLDFAST_AUDIT_LOG_STREAM: 'none' } });
  bucket = await createBackupBucket(vault);
  workDir = await mkdtemp(join(tmpdir(), 'holdfast-jobs-'));
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await vault?.stop();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

const JUNE_FIRST = Date.parse('2026-06-01T00:00:00Z');

function harness(jobsConfig: unknown[], env: Record<string, string>, clock: ManualClock) {
  const jobs = parseBackupJobs(jobsConfig, { alertChannels: ['log'], env, nowMs: clock.nowMs() });
  const history = new SqliteJobRunHistory(join(workDir, `${randomName('history')}.sqlite`));
  const finished: JobRun[] = [];
  const overdue: JobStatus[] = [];
  const client = leanClient(vault);
  const runner = new JobRunner({ jobs, history, clock, client: () => client, env: { ...process.env, ...env }, events: { finished: (_job: BackupJob, run) => finished.push(run) }, partBytes: 64 * 1024 });
  const scheduler = new JobScheduler(runner, history, clock, { overdue: (s) => overdue.push(s), skipped: () => undefined });
  cleanups.push(async () => {
    await runner.close();
    history.close();
    client.close();
  });
  return { runner, scheduler, history, finished, overdue, client };
}

test('a scheduled MariaDB dump runs at 03:00 Berlin time, succeeds, and restores into a new database with identical tables', { timeout: 180_000 }, async (t) => {
  if (!(await requireMariadb(t))) return;
  const db = await createSourceDatabase();
  cleanups.push(() => db.drop());
  const passwordEnv = `HOLDFAST_JOB_${randomName('PW').toUpperCase()}`;
  const clock = new ManualClock(JUNE_FIRST);
  const { runner, scheduler, history, finished, client } = harness(
    [{ name: 'nightly-db', source: mariadbJobSource(db, passwordEnv), schedule: '0 3 * * *', timeZone: 'Europe/Berlin', destination: { bucket, prefix: 'db/nightly' }, retention: { keepDays: 30 } }],
    { [passwordEnv]: db.password },
    clock,
  );

  await scheduler.tick();
  assert.equal(history.list({ limit: 10 }).length, 0, 'nothing is due at 02:00 CEST');
  assert.equal(new Date(scheduler.statuses()[0]!.nextRunMs).toISOString(), '2026-06-01T01:00:00.000Z');
  clock.set(Date.parse('2026-06-01T01:00:00Z'));
  await scheduler.tick();
  const running = history.list({ limit: 10 });
  assert.equal(running.length, 1);
  assert.equal(running[0]!.outcome, 'running');
  assert.equal(running[0]!.trigger, 'schedule');
  await runner.idle();

  const [run] = finished;
  assert.ok(run !== undefined);
  assert.equal(run.outcome, 'succeeded', `${run.error}\n${run.logExcerpt}`);
  assert.ok(run.objects >= 3, `a dump of ~1 MB in 64 KiB parts is several objects, got ${run.objects}`);
  assert.ok(run.bytes > 64 * 1024);
  assert.match(run.manifestKey ?? '', /^db\/nightly\/runs\/20260601T010000Z-[0-9a-f]{6}\/manifest\.json$/);
  assert.equal(run.logExcerpt, undefined, 'retained objects, no warnings from mariadb-dump');
  const status = scheduler.statuses()[0]!;
  assert.equal(status.lastSuccessMs, run.endedMs);
  assert.equal(new Date(status.nextRunMs).toISOString(), '2026-06-02T01:00:00.000Z');

  const manifest = await readRunManifest(client, bucket, run.manifestKey!);
  assert.equal(manifest.parts.length + 1, run.objects);
  assert.deepEqual(manifest.source, { kind: 'mariadb-dump', host: MARIADB_HOST, port: MARIADB_PORT, user: db.user, databases: [db.database] });
  console.log(`dump: ${manifest.content.bytes} bytes of SQL, ${manifest.compressed.bytes} gzip bytes in ${manifest.parts.length} parts`);

  const restored = randomName('hf_restored');
  cleanups.push(async () => void (await sql(`DROP DATABASE IF EXISTS \`${restored}\``)));
  const started = performance.now();
  await restoreMariadbRun(client, bucket, manifest, { host: MARIADB_HOST, port: MARIADB_PORT, user: 'root', password: undefined, database: restored }, process.env);
  console.log(`restore into ${restored}: ${Math.round(performance.now() - started)} ms`);
  assert.deepEqual(await tableFingerprints(restored, [...SOURCE_TABLES, 'audit']), await tableFingerprints(db.database, [...SOURCE_TABLES, 'audit']));
  assert.deepEqual(await sql(`SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${restored}'`), ['order_audit']);
  assert.deepEqual(await sql(`SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${restored}'`), ['customer_count']);
  assert.deepEqual(await sql(`SELECT COUNT(*) FROM big_orders`, restored), await sql(`SELECT COUNT(*) FROM big_orders`, db.database));
});

test('a job whose database is unreachable fails with the reason and writes no manifest', { timeout: 60_000 }, async (t) => {
  if (!(await requireMariadb(t))) return;
  const closedPort = await freePort();
  const clock = new ManualClock(JUNE_FIRST);
  const { runner, finished, history } = harness([{ name: 'gone-db', source: { kind: 'mariadb-dump', host: '127.0.0.1', port: closedPort, user: 'nobody', databases: ['x'] }, schedule: '@daily', destination: { bucket, prefix: 'gone' } }], {}, clock);
  const { id, done } = runner.start('gone-db', 'manual');
  const run = await done;
  assert.equal(run.id, id);
  assert.equal(run.outcome, 'failed');
  assert.match(run.error ?? '', /mariadb-dump failed \(exit 2\).*Can't connect to server on '127\.0\.0\.1'/);
  assert.equal(run.manifestKey, undefined);
  assert.deepEqual(finished.map((r) => r.outcome), ['failed']);
  assert.equal(history.get(id)?.outcome, 'failed');
});

test('a run over its time budget is stopped and recorded timed-out', { timeout: 120_000 }, async (t) => {
  if (!(await requireMariadb(t))) return;
  const db = await createSourceDatabase(100);
  cleanups.push(() => db.drop());
  const lock = await holdWriteLock(db.database, 'orders');
  cleanups.push(() => lock.release());
  const passwordEnv = `HOLDFAST_JOB_${randomName('PW').toUpperCase()}`;
  const clock = new ManualClock(JUNE_FIRST);
  const { runner, scheduler, finished } = harness(
    [{ name: 'slow-db', source: mariadbJobSource(db, passwordEnv), schedule: '@daily', destination: { bucket, prefix: 'slow' }, timeBudgetMinutes: 5 }],
    { [passwordEnv]: db.password },
    clock,
  );
  const { done } = runner.start('slow-db', 'manual');
  // The dump waits on the table lock; four minutes in nothing happens, six minutes in it is stopped.
  await new Promise((resolve) => setTimeout(resolve, 500));
  clock.advance(4 * 60_000);
  await scheduler.tick();
  assert.equal(finished.length, 0);
  clock.advance(2 * 60_000);
  await scheduler.tick();
  const run = await done;
  assert.equal(run.outcome, 'timed-out');
  assert.match(run.error ?? '', /exceeded its time budget of 5 min/);
  assert.equal(run.manifestKey, undefined);
  assert.equal(run.endedMs! - run.startedMs, 6 * 60_000);
});

test("the dead man's switch fires once for a job that never ran, counted from when it was first configured", { timeout: 30_000 }, async () => {
  const clock = new ManualClock(JUNE_FIRST);
  const { scheduler, overdue } = harness([{ name: 'never-ran', source: { kind: 'directory', path: '/nonexistent' }, schedule: '0 3 1 1 *', destination: { bucket }, expectedIntervalHours: 1 }], {}, clock);
  await scheduler.tick();
  assert.equal(overdue.length, 0);
  clock.advance(59 * 60_000);
  await scheduler.tick();
  assert.equal(overdue.length, 0);
  clock.advance(2 * 60_000);
  await scheduler.tick();
  await scheduler.tick();
  assert.equal(overdue.length, 1, 'raised once, not on every tick');
  assert.equal(overdue[0]!.job.name, 'never-ran');
  assert.equal(overdue[0]!.lastSuccessMs, undefined);
  assert.equal(overdue[0]!.sinceMs, JUNE_FIRST);
});

test('runs left running by a crash become interrupted, never succeeded', () => {
  const history = new SqliteJobRunHistory(join(workDir, 'crash.sqlite'));
  history.start({ id: 'r1', job: 'a', trigger: 'schedule', startedMs: 1000 });
  history.start({ id: 'r2', job: 'b', trigger: 'manual', startedMs: 2000 });
  history.finish('r2', { outcome: 'succeeded', endedMs: 3000, bytes: 1, objects: 2, manifestKey: 'm', error: undefined, logExcerpt: undefined });
  history.close();
  const reopened = new SqliteJobRunHistory(join(workDir, 'crash.sqlite'));
  const interrupted = reopened.interruptLeftovers(5000, 'the process stopped');
  assert.deepEqual(interrupted.map((r) => [r.id, r.outcome, r.endedMs]), [['r1', 'interrupted', 5000]]);
  assert.equal(reopened.get('r1')?.outcome, 'interrupted');
  assert.equal(reopened.get('r2')?.outcome, 'succeeded');
  assert.throws(() => reopened.finish('r1', { outcome: 'succeeded', endedMs: 6000, bytes: 0, objects: 0, manifestKey: undefined, error: undefined, logExcerpt: undefined }), /already recorded/);
  reopened.close();
});
