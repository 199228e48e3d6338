import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FileDrillJournal } from '../../src/backup/jobs/drills/drill-journal.js';
import type { JobDrillRecord } from '../../src/backup/jobs/drills/drill-record.js';
import { DrillRunner } from '../../src/backup/jobs/drills/drill-runner.js';
import { parseBackupJobs } from '../../src/backup/jobs/job-config.js';
import type { JobRun } from '../../src/backup/jobs/job-run.js';
import { JobRunner } from '../../src/backup/jobs/job-runner.js';
import { SqliteJobRunHistory } from '../../src/backup/jobs/sqlite-job-run-history.js';
import { ManualClock } from '../../src/infra/clock.js';
import { createBackupBucket, createSourceDatabase, leanClient, mariadbJobSource } from '../support/job-fixtures.js';
import { MARIADB_HOST, MARIADB_PORT, randomName, requireMariadb, sql } from '../support/mariadb.js';
import { Teardown } from '../support/teardown.js';
import { type RunningVault, startVault } from '../support/vault-server.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * A restore drill over its time budget, in this process against a real vault and the real
 * MariaDB, driven by a ManualClock: the dump job runs, its drill loads the scratch database and
 * then sits in a probe that sleeps; the clock moves past `drill.timeBudgetMinutes` and the next
 * tick stops it. The record fails with "over time budget" naming the step it was in, the
 * sleeping statement is killed, the scratch database dropped and the journal emptied. A
 * shutdown (close) stops a drill the same way and records it interrupted.
 */
const teardown = new Teardown();
let vault: RunningVault;
let workDir: string;

before(async () => {
  vault = await startVault({ env: { HOLDFAST_AUDIT_LOG_STREAM: 'none' } });
  teardown.add(() => vault.stop());
  workDir = await mkdtemp(join(tmpdir(), 'holdfast-drill-budget-'));
  teardown.removeDir(workDir);
});
after(() => teardown.run());

/** Waits until the drill's probe sleeps in its scratch database; the database's name. */
async function sleepingScratchDatabase(): Promise<string> {
  let scratch = '';
  await waitUntil('the probe to sleep in the scratch database', async () => {
    const [row] = await sql("SELECT DB FROM information_schema.PROCESSLIST WHERE DB LIKE 'holdfast\\\\_drill\\\\_%' AND INFO LIKE '%SLEEP(600)%'");
    scratch = row ?? '';
    return scratch !== '';
  }, 60_000);
  return scratch;
}

async function setUp() {
  const db = await createSourceDatabase(300);
  teardown.add(() => db.drop());
  const bucket = await createBackupBucket(vault);
  const passwordEnv = `HOLDFAST_JOB_${randomName('PW').toUpperCase()}`;
  const env = { ...process.env, [passwordEnv]: db.password };
  const clock = new ManualClock(Date.parse('2026-06-01T00:00:00Z'));
  const jobs = parseBackupJobs(
    [
      {
        name: 'shop',
        source: mariadbJobSource(db, passwordEnv),
        schedule: '0 3 * * *',
        destination: { bucket, prefix: 'shop' },
        drill: { user: 'root', timeBudgetMinutes: 5, probes: [{ name: 'sleeps', sql: 'SELECT SLEEP(600) = 0 FROM customers LIMIT 1' }] },
      },
    ],
    { alertChannels: ['log'], env, nowMs: clock.nowMs() },
  );
  const history = new SqliteJobRunHistory(join(workDir, `${randomName('jobs')}.sqlite`));
  teardown.add(() => history.close());
  const client = leanClient(vault);
  teardown.add(() => client.close());
  const runs: JobRun[] = [];
  const runner = new JobRunner({ jobs, history, clock, client: () => client, env, events: { finished: (_job, run) => runs.push(run) } });
  await runner.start('shop', 'manual').done;
  assert.equal(runs[0]?.outcome, 'succeeded', runs[0]?.error);

  const journalDir = join(workDir, randomName('drills-in-progress'));
  const steps: string[] = [];
  const finished: JobDrillRecord[] = [];
  const drills = new DrillRunner({
    jobs,
    history,
    clock,
    client: () => client,
    env,
    endpoint: () => vault.endpoint,
    restoreCommand: () => 'false',
    journal: new FileDrillJournal(journalDir),
    finished: (_job, record) => void finished.push(record),
    onStep: (_job, step) => steps.push(step),
  });
  return { drills, clock, finished, steps, journalDir };
}

test('a drill still running after drill.timeBudgetMinutes is stopped, its scratch database dropped, and recorded failed "over time budget"', { timeout: 180_000 }, async (t) => {
  if (!(await requireMariadb(t))) return;
  const { drills, clock, finished, steps, journalDir } = await setUp();
  const { done } = drills.start('shop', 'manual');
  const scratch = await sleepingScratchDatabase();

  clock.advance(5 * 60_000);
  drills.tick();
  assert.equal(drills.statuses()[0]!.running !== undefined, true, 'exactly at the budget it goes on');
  clock.advance(1000);
  const stopping = performance.now();
  drills.tick();
  const record = await done;
  t.diagnostic(`stopped and torn down ${Math.round(performance.now() - stopping)} ms after the budget tick: ${record.reason}`);

  assert.equal(record.outcome, 'failed');
  assert.equal(record.reason, `over time budget: still running after its time budget of 5 min (drill.timeBudgetMinutes); stopped during "probe sleeps", dropped scratch database ${scratch} on MariaDB ${MARIADB_HOST}:${MARIADB_PORT}`);
  const budget = record.checks.find((c) => c.name === 'time budget');
  assert.equal(budget?.outcome, 'failed');
  assert.deepEqual(record.checks.slice(0, 2).map((c) => [c.name, c.outcome]), [
    ['restore', 'passed'],
    ['row counts', 'passed'],
  ]);
  assert.equal(record.checks.find((c) => c.name === 'probe sleeps')?.outcome, 'failed', 'the probe was cut off');
  assert.ok(record.rtoSeconds !== null, 'the restore became usable before the budget ran out');
  assert.deepEqual(finished.map((r) => r.id), [record.id]);
  assert.deepEqual(await sql(`SHOW DATABASES LIKE '${scratch}'`), [], 'the scratch database is dropped');
  assert.deepEqual(await sql(`SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '${scratch}'`), [], 'the sleeping probe is killed');
  assert.deepEqual(await readdir(journalDir), [], 'the journal is empty');
  assert.ok(steps.includes(`dropping ${scratch}`), steps.join(' / '));
});

test('a server shutting down stops the drill in progress: its scratch database is dropped and the drill recorded interrupted', { timeout: 180_000 }, async (t) => {
  if (!(await requireMariadb(t))) return;
  const { drills, finished, journalDir } = await setUp();
  const { done } = drills.start('shop', 'manual');
  const scratch = await sleepingScratchDatabase();
  await drills.close();
  const record = await done;
  assert.equal(record.outcome, 'interrupted');
  assert.equal(record.reason, `interrupted: the server shut down during the drill; stopped during "probe sleeps", dropped scratch database ${scratch} on MariaDB ${MARIADB_HOST}:${MARIADB_PORT}`);
  assert.deepEqual(finished.map((r) => r.id), [record.id]);
  assert.deepEqual(await sql(`SHOW DATABASES LIKE '${scratch}'`), []);
  assert.deepEqual(await readdir(journalDir), []);
  assert.throws(() => drills.start('shop', 'manual'), /closed/);
});
