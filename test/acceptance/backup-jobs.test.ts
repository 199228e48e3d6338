import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, freePort, startWebhookReceiver, type WebhookReceiver } from '../../src/infra/alerts/receivers.test-fixture.js';
import { holdfast, rootKey } from '../support/admin-cli.js';
import { createBackupBucket, createSourceDatabase, mariadbJobSource, SOURCE_TABLES } from '../support/job-fixtures.js';
import { holdWriteLock, randomName, requireMariadb, sql, tableFingerprints } from '../support/mariadb.js';
import { type RunningVault, randomCredentials, startVault } from '../support/vault-server.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * Backup jobs in `holdfast server`, driven from outside with the built CLI: a MariaDB dump and a
 * directory archive run and restore; an unreachable database fails and the alert reaches a real
 * webhook receiver; a server killed with SIGKILL mid-run leaves an `interrupted` record.
 */
interface RunView {
  id: string;
  job: string;
  outcome: string;
  error: string | null;
  objects: number;
  bytes: number;
}
interface DeliveredAlert {
  rule: string;
  title: string;
  summary: string;
  details: Record<string, unknown>;
}

const root = randomCredentials();
let dir: string;
let vault: RunningVault | undefined;
let webhook: WebhookReceiver;
let env: Record<string, string>;
let db: Awaited<ReturnType<typeof createSourceDatabase>> | undefined;
let bucket: string;
const cleanups: Array<() => Promise<void>> = [];
let skipped = false;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-jobs-acceptance-'));
  webhook = await startWebhookReceiver();
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await vault?.stop();
  await webhook.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const jobsCli = (args: string[], code: number | 'any' = 0) => holdfast(vault!, rootKey(vault!), ['jobs', ...args], code);
const history = async (job: string) => (JSON.parse((await jobsCli(['history', job, '--json'])).stdout) as { runs: RunView[] }).runs;
const alerts = () => webhook.requests.map((r) => (JSON.parse(r.body) as { alert: DeliveredAlert }).alert);

test('set-up: a server with four jobs and a webhook channel', { timeout: 120_000 }, async (t) => {
  if (!(await requireMariadb(t))) {
    skipped = true;
    return;
  }
  db = await createSourceDatabase(2000);
  const files = join(dir, 'files');
  await mkdir(join(files, 'nested'), { recursive: true });
  await writeFile(join(files, 'report.csv'), 'a,b\n1,2\n');
  await writeFile(join(files, 'nested', 'image.bin'), Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 256)));
  const slow = await createSourceDatabase(50);
  cleanups.push(() => slow.drop());
  const closedPort = await freePort();
  env = {
    HOLDFAST_ROOT_ACCESS_KEY_ID: root.accessKeyId,
    HOLDFAST_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey,
    HOLDFAST_AUDIT_LOG_STREAM: 'none',
    HOLDFAST_CONFIG: join(dir, 'holdfast.json'),
    HOLDFAST_JOB_NIGHTLY_PASSWORD: db.password,
    HOLDFAST_JOB_SLOW_PASSWORD: slow.password,
  };
  bucket = randomName('backups').replaceAll('_', '-');
  await writeFile(
    env.HOLDFAST_CONFIG!,
    JSON.stringify({
      alertChannels: [{ kind: 'webhook', name: 'hook', url: webhook.url, format: 'json' }],
      jobs: [
        { name: 'nightly-db', source: mariadbJobSource(db, 'HOLDFAST_JOB_NIGHTLY_PASSWORD'), schedule: '0 3 * * *', timeZone: 'Europe/Berlin', destination: { bucket, prefix: 'db' }, retention: { keepDays: 30 } },
        { name: 'gone-db', source: { kind: 'mariadb-dump', host: '127.0.0.1', port: closedPort, user: 'nobody', databases: ['x'] }, schedule: '@daily', destination: { bucket }, alertRoutes: ['hook'] },
        { name: 'slow-db', source: mariadbJobSource(slow, 'HOLDFAST_JOB_SLOW_PASSWORD'), schedule: '@daily', destination: { bucket }, alertRoutes: ['hook'] },
        { name: 'files', source: { kind: 'directory', path: files }, schedule: '30 2 * * *', timeZone: 'America/New_York', destination: { bucket, prefix: 'files' } },
      ],
    }),
  );
  vault = await startVault({ dataDir: join(dir, 'data'), env });
  await createBackupBucket(vault, bucket);
  const listed = JSON.parse((await jobsCli(['list', '--json'])).stdout) as { jobs: Array<{ name: string; nextRunAt: string; lastRun: unknown; overdue: boolean }> };
  assert.deepEqual(listed.jobs.map((j) => j.name), ['nightly-db', 'gone-db', 'slow-db', 'files']);
  assert.ok(listed.jobs.every((j) => j.lastRun === null && j.overdue === false));
  slowLock = await holdWriteLock(slow.database, 'orders');
  cleanups.push(() => slowLock!.release());
});

let slowLock: { release(): Promise<void> } | undefined;

test('holdfast jobs run: a MariaDB dump succeeds and restores into a new database with identical tables', { timeout: 180_000 }, async () => {
  if (skipped) return;
  const started = performance.now();
  const ran = await jobsCli(['run', 'nightly-db', '--json']);
  console.log(`holdfast jobs run nightly-db: ${Math.round(performance.now() - started)} ms`);
  const { run } = JSON.parse(ran.stdout) as { run: RunView };
  assert.equal(run.outcome, 'succeeded', run.error ?? '');
  assert.ok(run.objects >= 2);
  assert.deepEqual((await history('nightly-db')).map((r) => [r.id, r.outcome]), [[run.id, 'succeeded']]);

  const restored = randomName('hf_restored');
  cleanups.push(async () => void (await sql(`DROP DATABASE IF EXISTS \`${restored}\``)));
  await jobsCli(['restore', 'nightly-db', '--into', restored, '--db-user', 'root']);
  assert.deepEqual(await tableFingerprints(restored, [...SOURCE_TABLES, 'audit']), await tableFingerprints(db!.database, [...SOURCE_TABLES, 'audit']));

  const metrics = await new Promise<string>((resolve, reject) => {
    get(`${vault!.endpoint}/_holdfast/metrics`, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
  assert.match(metrics, /holdfast_backup_job_runs_total\{job="nightly-db",outcome="succeeded"\} 1/);
  assert.match(metrics, /holdfast_backup_job_last_success_timestamp_seconds\{job="nightly-db"\} \d{10}/);
  assert.match(metrics, /holdfast_backup_job_overdue\{job="nightly-db"\} 0/);
});

test('a directory job archives a tree that restores byte for byte', { timeout: 120_000 }, async () => {
  if (skipped) return;
  await jobsCli(['run', 'files']);
  const target = join(dir, 'restored-files');
  const restored = JSON.parse((await jobsCli(['restore', 'files', '--into', target, '--json'])).stdout) as { files: number };
  assert.equal(restored.files, 2);
  assert.equal(await readFile(join(target, 'report.csv'), 'utf8'), 'a,b\n1,2\n');
  assert.deepEqual(await readFile(join(target, 'nested', 'image.bin')), await readFile(join(dir, 'files', 'nested', 'image.bin')));
});

test('an unreachable database fails the run (exit 1) and the alert reaches the webhook with the reason', { timeout: 120_000 }, async () => {
  if (skipped) return;
  const ran = await jobsCli(['run', 'gone-db'], 1);
  assert.match(ran.stdout, /gone-db\tfailed\tmanual/);
  assert.match(ran.stdout, /Can't connect to server on '127\.0\.0\.1'/);
  await eventually('the webhook receives backup-job-failed', () => alerts().some((a) => a.rule === 'backup-job-failed' && a.details['job'] === 'gone-db'), 60_000);
  const alert = alerts().find((a) => a.rule === 'backup-job-failed' && a.details['job'] === 'gone-db')!;
  assert.equal(alert.title, 'Backup job gone-db failed');
  assert.match(alert.summary, /mariadb-dump failed \(exit 2\).*Can't connect/);
  // Only the failed job alerted (a success raises nothing).
  assert.deepEqual([...new Set(alerts().filter((a) => a.rule.startsWith('backup-job')).map((a) => a.details['job']))], ['gone-db']);
});

test('a server killed (SIGKILL) in the middle of a run leaves an interrupted record after the restart, and alerts', { timeout: 180_000 }, async () => {
  if (skipped) return;
  // The dump blocks on the table lock held above: the run stays in progress.
  const pending = jobsCli(['run', 'slow-db'], 'any');
  await waitUntil('the slow run to be recorded running', async () => (await history('slow-db')).some((r) => r.outcome === 'running'), 60_000);
  const [running] = await history('slow-db');
  await vault!.kill9();
  assert.notEqual((await pending).code, 0);
  await slowLock!.release();
  vault = await startVault({ dataDir: join(dir, 'data'), env });
  const [after] = await history('slow-db');
  assert.equal(after!.id, running!.id);
  assert.equal(after!.outcome, 'interrupted');
  assert.match(after!.error ?? '', /the server stopped while the run was in progress/);
  await eventually('the webhook receives the interrupted run', () => alerts().some((a) => a.details['job'] === 'slow-db' && a.details['outcome'] === 'interrupted'), 60_000);
  // The earlier success is still a success.
  assert.equal((await history('nightly-db'))[0]!.outcome, 'succeeded');
});
