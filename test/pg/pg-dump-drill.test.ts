import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { JobDrillRecord as DrillRecord } from '../../src/backup/jobs/drills/drill-record.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../../src/infra/alerts/receivers.test-fixture.js';
import { holdfast, rootKey } from '../support/admin-cli.js';
import { createBackupBucket } from '../support/job-fixtures.js';
import { createPgDatabase, pgDatabasesLike, pgJobConnection, pgQuery, requirePostgres } from '../support/postgres.js';
import { Teardown } from '../support/teardown.js';
import { waitUntil } from '../support/wait-until.js';
import { type RunningVault, randomCredentials, startVault } from '../support/vault-server.js';

/**
 * Restore drills of pg-dump jobs in `holdfast server`, driven with the built CLI against the real
 * PostgreSQL at 127.0.0.1:5432: the job runs, its drill restores the run into a scratch database
 * holdfast_drill_<id> with pg_restore, finds every table with the rows the archive held at
 * backup time, passes a probe, shows its steps while the CLI waits, leaves evidence
 * (`holdfast evidence show drills ID`) and no scratch database. A drill whose probe fails is
 * recorded failed and alerted at a real webhook. A server killed (SIGKILL) while a probe runs in
 * the scratch database leaves, after its restart, an `interrupted` record and no scratch
 * database (the journal's pg-database target, its connections terminated first).
 */
const root = randomCredentials();
const teardown = new Teardown();
let dir: string;
let vault: RunningVault;
let vaultEnv: Record<string, string>;
let webhook: WebhookReceiver;
let ready = false;

const cli = (args: string[], code: number | 'any' = 0) => holdfast(vault, rootKey(vault), args, code);
const alerts = () => webhook.requests.map((r) => (JSON.parse(r.body) as { alert: { rule: string; details: Record<string, unknown> } }).alert);
const scratchOf = (record: DrillRecord) => /holdfast_drill_[0-9a-z_]+/.exec(record.target)![0];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-pgdump-drill-'));
  teardown.removeDir(dir);
  webhook = await startWebhookReceiver();
  teardown.add(() => webhook.close());
});
after(() => teardown.run());

test('set-up: a source database and a server with three pg-dump jobs that have drill blocks', { timeout: 120_000 }, async (t) => {
  if (!(await requirePostgres(t))) return;
  const source = await createPgDatabase('hf_drill_src');
  teardown.add(() => source.drop());
  await pgQuery(source.name, `
    CREATE SCHEMA sales;
    CREATE TABLE sales.customers (id int PRIMARY KEY, name text NOT NULL, note text);
    CREATE TABLE sales.orders (id serial PRIMARY KEY, customer int NOT NULL REFERENCES sales.customers(id), total numeric(10,2));
    CREATE TABLE audit_log (at timestamptz, what text);
    CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
    CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    INSERT INTO sales.customers SELECT g, 'Kundin Ä ' || g, CASE WHEN g % 5 = 0 THEN E'two\\nlines' END FROM generate_series(1, 2000) g;
    INSERT INTO sales.orders (customer, total) SELECT (g % 2000) + 1, g % 997 FROM generate_series(1, 6000) g;
    INSERT INTO events SELECT g, '2026-01-01'::date + g % 365 FROM generate_series(1, 700) g;
  `);
  vaultEnv = {
    HOLDFAST_ROOT_ACCESS_KEY_ID: root.accessKeyId,
    HOLDFAST_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey,
    HOLDFAST_AUDIT_LOG_STREAM: 'none',
    HOLDFAST_CONFIG: join(dir, 'holdfast.json'),
  };
  const bucket = `pgdrills-${randomBytes(4).toString('hex')}`;
  const job = (jobName: string, drill: Record<string, unknown>) => ({
    name: jobName,
    source: { kind: 'pg-dump', connection: pgJobConnection(), database: source.name },
    schedule: '0 2 * * *',
    destination: { bucket, prefix: jobName },
    alertRoutes: ['hook'],
    drill,
  });
  await writeFile(
    vaultEnv.HOLDFAST_CONFIG!,
    JSON.stringify({
      alertChannels: [{ kind: 'webhook', name: 'hook', url: webhook.url, format: 'json' }],
      jobs: [
        job('pg-shop', { schedule: '0 5 * * SUN', probes: [{ name: 'orders', sql: 'SELECT count(*) = 6000 AND sum(total) > 0 FROM sales.orders' }] }),
        job('pg-wrong', { probes: [{ name: 'too-many', sql: 'SELECT count(*) > 10000 FROM sales.customers' }] }),
        // Its probe sleeps, so the drill is in progress for as long as the test needs (the server is killed under it).
        job('pg-slow', { probes: [{ name: 'sleeps', sql: 'SELECT pg_sleep(600) IS NOT NULL' }] }),
      ],
    }),
  );
  vault = await startVault({ dataDir: join(dir, 'data'), env: vaultEnv });
  teardown.add(() => vault.stop());
  await createBackupBucket(vault, bucket);
  ready = true;
});

test('a pg-dump job runs and its drill passes: pg_restore into a scratch database, row counts as the archive held them, a probe; the steps shown; evidence; the scratch database gone', { timeout: 180_000 }, async () => {
  if (!ready) return;
  const ran = JSON.parse((await cli(['jobs', 'run', 'pg-shop', '--json'])).stdout) as { run: { id: string; outcome: string; error: string | null } };
  assert.equal(ran.run.outcome, 'succeeded', ran.run.error ?? '');

  const drilled = await cli(['drill', 'run', 'pg-shop']);
  const id = /restore drill (\S+) of pg-shop \(pg-dump\): PASSED/.exec(drilled.stdout)?.[1];
  assert.ok(id !== undefined, drilled.stdout);
  // Not a terminal: a line per step on stderr, in order.
  const steps = drilled.stderr.split('\n').filter((line) => line.startsWith(`drill ${id}: `)).map((line) => line.slice(`drill ${id}: `.length));
  for (const step of ['starting', 'reading the manifest', 'restoring run', 'comparing row counts', 'probe orders', 'dropping holdfast_drill_']) assert.ok(steps.some((s) => s.startsWith(step)), `step "${step}" in ${JSON.stringify(steps)}`);

  const record = JSON.parse((await cli(['evidence', 'show', 'drills', id, '--json'])).stdout) as DrillRecord;
  assert.equal(record.outcome, 'passed', JSON.stringify(record.checks));
  assert.equal(record.backup?.runId, ran.run.id);
  assert.deepEqual(record.checks.map((c) => [c.name, c.outcome]), [
    ['restore', 'passed'],
    ['row counts', 'passed'],
    ['probe orders', 'passed'],
  ]);
  // customers, orders, audit_log (empty), the partition events_2026: 2000 + 6000 + 0 + 700 rows.
  assert.equal(record.checks[1]!.detail, '4 tables, 8700 rows, as recorded at backup time');
  assert.ok(record.rtoSeconds !== null && record.rpoSeconds !== null && record.rpoSeconds >= 0, `RTO ${record.rtoSeconds}, RPO ${record.rpoSeconds}`);
  assert.match(record.target, /^PostgreSQL 127\.0\.0\.1:5432 as postgres, scratch database holdfast_drill_[0-9a-z_]+ \(dropped afterwards\)$/);
  assert.deepEqual(await pgDatabasesLike(scratchOf(record)), [], 'the scratch database is dropped');
  console.log(`pg-shop drill: RTO ${record.rtoSeconds} s, RPO ${record.rpoSeconds} s`);

  // --json: only the record on stdout, no step lines on stderr.
  const quiet = await cli(['drill', 'run', 'pg-shop', '--json']);
  assert.equal((JSON.parse(quiet.stdout) as DrillRecord).outcome, 'passed');
  assert.doesNotMatch(quiet.stderr, /: restoring run/);
});

test('a drill whose probe is false fails with the probe named, and alerts', { timeout: 180_000 }, async () => {
  if (!ready) return;
  const ran = JSON.parse((await cli(['jobs', 'run', 'pg-wrong', '--json'])).stdout) as { run: { outcome: string; error: string | null } };
  assert.equal(ran.run.outcome, 'succeeded', ran.run.error ?? '');
  const drilled = await cli(['drill', 'run', 'pg-wrong', '--json'], 4);
  const record = JSON.parse(drilled.stdout) as DrillRecord;
  assert.equal(record.outcome, 'failed');
  assert.equal(record.reason, 'probe too-many failed: returned "f", not true');
  assert.deepEqual(record.checks.map((c) => [c.name, c.outcome]), [
    ['restore', 'passed'],
    ['row counts', 'passed'],
    ['probe too-many', 'failed'],
  ]);
  assert.deepEqual(await pgDatabasesLike(scratchOf(record)), []);
  await eventually('the webhook receives restore-drill-failed', () => alerts().some((a) => a.rule === 'restore-drill-failed' && a.details['drillId'] === record.id), 60_000);
});

test('a server killed (SIGKILL) while a probe runs in the scratch database: after the restart the drill is interrupted and the scratch database dropped', { timeout: 180_000 }, async () => {
  if (!ready) return;
  const ran = JSON.parse((await cli(['jobs', 'run', 'pg-slow', '--json'])).stdout) as { run: { outcome: string; error: string | null } };
  assert.equal(ran.run.outcome, 'succeeded', ran.run.error ?? '');
  const pending = cli(['drill', 'run', 'pg-slow'], 'any');
  let scratch = '';
  await waitUntil('the probe to sleep in the scratch database', async () => {
    const [row] = await pgQuery<{ datname: string }>('postgres', "SELECT datname FROM pg_stat_activity WHERE starts_with(datname, 'holdfast_drill_') AND query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()");
    scratch = row?.datname ?? '';
    return scratch !== '';
  }, 120_000);
  await vault.kill9();
  const cut = await pending;
  assert.notEqual(cut.code, 0, 'the waiting CLI sees the server go away');
  const drillId = /drill (\S+) of pg-slow started/.exec(cut.stderr)![1]!;
  assert.deepEqual(await pgDatabasesLike(scratch), [scratch], 'the kill left the scratch database behind, its probe still sleeping');

  vault = await startVault({ dataDir: vault.dataDir, env: vaultEnv });
  assert.deepEqual(await pgDatabasesLike(scratch), [], 'dropped at start-up, its sleeping backend terminated first');
  assert.deepEqual((await readdir(join(vault.dataDir, 'metadata', 'drills-in-progress'))).filter((n) => n.endsWith('.json')), []);
  const record = JSON.parse((await cli(['evidence', 'show', 'drills', drillId, '--json'])).stdout) as DrillRecord;
  assert.equal(record.outcome, 'interrupted');
  assert.match(record.target, new RegExp(`^torn down at start-up: dropped scratch database ${scratch} on PostgreSQL 127\\.0\\.0\\.1:5432 as postgres`));
  await eventually('the webhook receives restore-drill-failed for the interrupted drill', () => alerts().some((a) => a.rule === 'restore-drill-failed' && a.details['drillId'] === drillId), 60_000);
});
