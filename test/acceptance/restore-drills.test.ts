import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../../src/infra/alerts/receivers.test-fixture.js';
import { clientFor, holdfast, rootKey } from '../support/admin-cli.js';
import { createBackupBucket, createSourceDatabase, mariadbJobSource } from '../support/job-fixtures.js';
import { requireMariadb, sql } from '../support/mariadb.js';
import { Teardown } from '../support/teardown.js';
import { waitUntil } from '../support/wait-until.js';
import { type RunningVault, randomCredentials, startVault } from '../support/vault-server.js';

/**
 * Restore drills of backup jobs in `holdfast server`, driven with the built CLI against the real
 * MariaDB: a dump job runs and its drill passes (scratch database loaded, row counts as recorded
 * at backup time, a probe), both leaving evidence that `holdfast evidence` shows and that root
 * cannot delete over S3; a directory job's drill passes, then fails once a stored part's bytes
 * are changed on disk — with the reason in its evidence record, an alert at a real webhook, and
 * the drill metrics. A server killed (SIGKILL) during a drill leaves, after its restart, an
 * `interrupted` record and no scratch database.
 */
interface DrillRecord {
  id: string;
  job: string;
  outcome: string;
  reason?: string;
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  target: string;
  backup: { runId: string | null; manifestKey: string | null } | null;
  checks: { name: string; outcome: string; detail: string }[];
  objects: { key: string; sha256: string }[];
}
interface StoredView {
  kind: string;
  id: string;
  location: string;
  sha256: string;
}

const root = randomCredentials();
const teardown = new Teardown();
let dir: string;
let vault: RunningVault;
let webhook: WebhookReceiver;
let bucket: string;
let skipped = false;
let vaultEnv: Record<string, string>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-drills-'));
  teardown.add(() => rm(dir, { recursive: true, force: true }));
  webhook = await startWebhookReceiver();
  teardown.add(() => webhook.close());
});

after(() => teardown.run());

const cli = (args: string[], code: number | 'any' = 0) => holdfast(vault, rootKey(vault), args, code);
const alerts = () => webhook.requests.map((r) => (JSON.parse(r.body) as { alert: { rule: string; summary: string; details: Record<string, unknown> } }).alert);
const scrape = () =>
  new Promise<string>((resolve, reject) => {
    get(`${vault.endpoint}/_holdfast/metrics`, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });

test('set-up: a server with a dump job and a directory job, each with a drill block', { timeout: 120_000 }, async (t) => {
  if (!(await requireMariadb(t))) {
    skipped = true;
    return;
  }
  const db = await createSourceDatabase(500);
  teardown.add(() => db.drop());
  const files = join(dir, 'files');
  await mkdir(join(files, 'nested'), { recursive: true });
  await writeFile(join(files, 'report.csv'), 'a,b\n1,2\n');
  // Incompressible, so the stored part is a blob file of its own on the vault's disk.
  await writeFile(join(files, 'nested', 'random.bin'), randomBytes(300_000));
  bucket = `drills-${randomBytes(4).toString('hex')}`;
  const env = vaultEnv = {
    HOLDFAST_ROOT_ACCESS_KEY_ID: root.accessKeyId,
    HOLDFAST_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey,
    HOLDFAST_AUDIT_LOG_STREAM: 'none',
    HOLDFAST_CONFIG: join(dir, 'holdfast.json'),
    HOLDFAST_JOB_SHOP_PASSWORD: db.password,
  };
  await writeFile(
    env.HOLDFAST_CONFIG,
    JSON.stringify({
      alertChannels: [{ kind: 'webhook', name: 'hook', url: webhook.url, format: 'json' }],
      jobs: [
        {
          name: 'shop-db',
          source: mariadbJobSource(db, 'HOLDFAST_JOB_SHOP_PASSWORD'),
          schedule: '0 3 * * *',
          destination: { bucket, prefix: 'db' },
          // The backup user may only read; the drill loads the scratch database as root (no password here).
          drill: { schedule: '0 5 * * SUN', user: 'root', probes: [{ name: 'customers', sql: 'SELECT COUNT(*) > 0 FROM customers' }, { name: 'order-trigger', sql: "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()" }] },
        },
        {
          // Its probe sleeps, so a drill of it is in progress for as long as the test needs (the server is killed under it).
          name: 'slow-db',
          source: mariadbJobSource(db, 'HOLDFAST_JOB_SHOP_PASSWORD'),
          schedule: '0 3 * * *',
          destination: { bucket, prefix: 'slow' },
          alertRoutes: ['hook'],
          drill: { user: 'root', probes: [{ name: 'sleeps', sql: 'SELECT SLEEP(600) = 0 FROM customers LIMIT 1' }] },
        },
        { name: 'files', source: { kind: 'directory', path: files }, schedule: '30 2 * * *', destination: { bucket, prefix: 'files' }, alertRoutes: ['hook'] },
      ],
    }),
  );
  vault = await startVault({ dataDir: join(dir, 'data'), env });
  teardown.add(() => vault.stop());
  await createBackupBucket(vault, bucket);
});

test('a dump job runs and its drill passes: scratch database loaded, row counts as recorded, probes; evidence of both that root cannot delete', { timeout: 180_000 }, async () => {
  if (skipped) return;
  const ran = JSON.parse((await cli(['jobs', 'run', 'shop-db', '--json'])).stdout) as { run: { id: string; outcome: string; error: string | null } };
  assert.equal(ran.run.outcome, 'succeeded', ran.run.error ?? '');

  const drilled = await cli(['drill', 'run', 'shop-db', '--json']);
  const record = JSON.parse(drilled.stdout) as DrillRecord;
  assert.equal(record.outcome, 'passed', JSON.stringify(record.checks));
  assert.equal(record.backup?.runId, ran.run.id, 'the newest successful run is the one drilled');
  assert.deepEqual(record.checks.map((c) => [c.name, c.outcome]), [
    ['restore', 'passed'],
    ['row counts', 'passed'],
    ['probe customers', 'passed'],
    ['probe order-trigger', 'passed'],
  ]);
  assert.match(record.checks[1]!.detail, /^4 tables, \d+ rows, as recorded at backup time$/);
  assert.ok(record.rtoSeconds !== null && record.rtoSeconds >= 0, `RTO ${record.rtoSeconds}`);
  assert.ok(record.rpoSeconds !== null && record.rpoSeconds >= 0, `RPO ${record.rpoSeconds}`);
  assert.ok(record.objects.length >= 1 && record.objects.every((o) => /^[0-9a-f]{64}$/.test(o.sha256)));
  assert.match(record.target, /scratch database holdfast_drill_[0-9a-z_]+ as root \(dropped afterwards\)/);
  const scratch = /holdfast_drill_[0-9a-z_]+/.exec(record.target)![0];
  assert.deepEqual(await sql(`SHOW DATABASES LIKE '${scratch}'`), [], 'the scratch database is dropped');
  console.log(`shop-db drill: RTO ${record.rtoSeconds} s, RPO ${record.rpoSeconds} s`);

  // The text form names the outcome and every check.
  const text = await cli(['evidence', 'show', 'drills', record.id]);
  assert.equal((JSON.parse(text.stdout) as DrillRecord).outcome, 'passed');

  // Both records are in the archive, listed newest first.
  const listed = JSON.parse((await cli(['evidence', 'list', '--json'])).stdout) as { records: StoredView[] };
  const drillEntry = listed.records.find((r) => r.kind === 'drills' && r.id === record.id);
  const runEntry = listed.records.find((r) => r.kind === 'job-runs' && r.id === ran.run.id);
  assert.ok(drillEntry !== undefined && runEntry !== undefined, JSON.stringify(listed));
  const runRecord = JSON.parse((await cli(['evidence', 'show', 'job-runs', ran.run.id, '--json'])).stdout) as { outcome: string; manifestKey: string; objects: { key: string; versionId?: string; sha256: string }[] };
  assert.equal(runRecord.outcome, 'succeeded');
  assert.equal(runRecord.objects.at(-1)?.key, runRecord.manifestKey, 'the manifest is the last object written');
  assert.ok(runRecord.objects.every((o) => o.versionId !== undefined && /^[0-9a-f]{64}$/.test(o.sha256)));

  // Root cannot delete the locked evidence over S3, neither the key nor the version.
  const s3 = clientFor(vault, rootKey(vault));
  const [evidenceBucket, ...keyParts] = drillEntry.location.replace(/^s3:\/\//, '').split('?')[0]!.split('/');
  const key = keyParts.join('/');
  const versionId = new URL(`http://x/?${drillEntry.location.split('?')[1]}`).searchParams.get('versionId')!;
  await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: evidenceBucket, Key: key, VersionId: versionId })), (e: Error) => e.name === 'AccessDenied' || /denied|locked|read-only/i.test(e.message));
  await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: evidenceBucket, Key: key })));
  const body = await s3.send(new GetObjectCommand({ Bucket: evidenceBucket, Key: key, VersionId: versionId })).then((r) => r.Body!.transformToString()).catch(() => undefined);
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: evidenceBucket, Prefix: key })).catch(() => undefined);
  // Whether root may read the system bucket is the vault's choice; the record itself is intact through the API.
  if (versions !== undefined) assert.equal(versions.DeleteMarkers?.length ?? 0, 0, 'no delete marker hides the record');
  if (body !== undefined) assert.equal((JSON.parse(body) as DrillRecord).id, record.id);
  s3.destroy();
  assert.equal((JSON.parse((await cli(['evidence', 'show', 'drills', record.id, '--json'])).stdout) as DrillRecord).id, record.id);

  const metrics = await scrape();
  assert.match(metrics, /holdfast_restore_drills_total\{job="shop-db",outcome="passed"\} 1/);
  assert.match(metrics, /holdfast_restore_drill_last_passed\{job="shop-db"\} 1/);
  assert.match(metrics, /holdfast_restore_drill_last_rto_seconds\{job="shop-db"\} [\d.]+/);
});

test('a directory drill passes, then fails once a stored part is changed on disk: the reason in the evidence, an alert, metrics', { timeout: 180_000 }, async () => {
  if (skipped) return;
  const ran = JSON.parse((await cli(['jobs', 'run', 'files', '--json'])).stdout) as { run: { id: string; outcome: string } };
  assert.equal(ran.run.outcome, 'succeeded');
  const good = JSON.parse((await cli(['drill', 'run', 'files', '--json'])).stdout) as DrillRecord;
  assert.equal(good.outcome, 'passed', JSON.stringify(good.checks));
  assert.deepEqual(good.checks.map((c) => [c.name, c.outcome]), [
    ['restore', 'passed'],
    ['file checksums', 'passed'],
  ]);
  assert.equal(good.checks[1]!.detail, '2 files, each with the size and SHA-256 recorded at backup time');

  // Flip one byte in the middle of the stored part (found on the vault's disk by its bytes).
  const part = good.objects.find((o) => o.key.includes('tree.tar.gz.part-'))!;
  const s3 = clientFor(vault, rootKey(vault));
  const partBytes = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: part.key }))).Body!.transformToByteArray());
  s3.destroy();
  const blob = await findFileWithBytes(join(vault.dataDir, 'blobs'), partBytes);
  assert.ok(blob !== undefined, 'the part is a blob file on disk');
  const changed = Buffer.from(partBytes);
  const middle = changed.length >> 1;
  changed.writeUInt8(changed.readUInt8(middle) ^ 0xff, middle);
  await writeFile(blob, changed);

  const drilled = await cli(['drill', 'run', 'files'], 4);
  assert.match(drilled.stdout, /FAILED/);
  const drillId = /restore drill (\S+) of files/.exec(drilled.stdout)![1]!;
  const record = JSON.parse((await cli(['evidence', 'show', 'drills', drillId, '--json'])).stdout) as DrillRecord;
  assert.equal(record.outcome, 'failed');
  assert.match(record.reason!, /^restore failed: /);
  // The vault's own read check or the restore's part check: either names the part.
  assert.ok(record.reason!.includes(part.key), record.reason);
  console.log(`corrupted part: ${record.reason}`);
  assert.equal(record.rtoSeconds, null, 'a restore that never became usable has no RTO');

  await eventually('the webhook receives restore-drill-failed', () => alerts().some((a) => a.rule === 'restore-drill-failed' && a.details['drillId'] === drillId), 60_000);
  const alert = alerts().find((a) => a.rule === 'restore-drill-failed')!;
  assert.equal(alert.details['job'], 'files');
  assert.match(alert.summary, /restore failed/);
  const metrics = await scrape();
  assert.match(metrics, /holdfast_restore_drill_last_passed\{job="files"\} 0/);
  assert.match(metrics, /holdfast_restore_drills_total\{job="files",outcome="failed"\} 1/);
});

test('a server killed (SIGKILL) in the middle of a drill: after the restart the drill is recorded interrupted, alerted, and its scratch database is gone', { timeout: 180_000 }, async () => {
  if (skipped) return;
  const ran = JSON.parse((await cli(['jobs', 'run', 'slow-db', '--json'])).stdout) as { run: { outcome: string; error: string | null } };
  assert.equal(ran.run.outcome, 'succeeded', ran.run.error ?? '');
  const pending = cli(['drill', 'run', 'slow-db'], 'any');
  // The probe is running in the scratch database: the drill is well under way.
  let scratch = '';
  await waitUntil('the drill probe to run in its scratch database', async () => {
    const [row] = await sql("SELECT DB FROM information_schema.PROCESSLIST WHERE DB LIKE 'holdfast\\_drill\\_%' AND INFO LIKE '%SLEEP(600)%'");
    scratch = row ?? '';
    return scratch !== '';
  }, 120_000);
  assert.deepEqual(await sql(`SHOW DATABASES LIKE '${scratch}'`), [scratch]);
  await vault.kill9();
  const cut = await pending;
  assert.notEqual(cut.code, 0, 'the waiting CLI sees the server go away');
  const drillId = /drill (\S+) of slow-db started/.exec(cut.stderr)![1]!;
  assert.deepEqual(await sql(`SHOW DATABASES LIKE '${scratch}'`), [scratch], 'the kill left the scratch database behind');
  const journal = join(vault.dataDir, 'metadata', 'drills-in-progress');
  assert.equal((await readdir(journal)).filter((n) => n.endsWith('.json')).length, 1, 'the drill is in the journal');

  const started = performance.now();
  vault = await startVault({ dataDir: vault.dataDir, env: vaultEnv });
  console.log(`restart with a drill to recover: ${Math.round(performance.now() - started)} ms`);
  assert.deepEqual(await sql(`SHOW DATABASES LIKE '${scratch}'`), [], 'the scratch database is dropped at start-up');
  assert.deepEqual(await sql(`SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '${scratch}'`), [], 'and the sleeping probe is gone with it');
  assert.deepEqual((await readdir(journal)).filter((n) => n.endsWith('.json')), []);

  const listed = JSON.parse((await cli(['evidence', 'list', '--kind', 'drills', '--json'])).stdout) as { records: StoredView[] };
  assert.ok(listed.records.some((r) => r.id === drillId), 'the record is in the evidence archive');
  const record = JSON.parse((await cli(['evidence', 'show', 'drills', drillId, '--json'])).stdout) as DrillRecord;
  assert.equal(record.outcome, 'interrupted', 'never a pass');
  assert.match(record.reason!, /^interrupted: the server stopped while the drill was in progress/);
  assert.match(record.target, new RegExp(`^torn down at start-up: dropped scratch database ${scratch} on MariaDB `));
  assert.equal(record.rtoSeconds, null);
  await eventually('the webhook receives restore-drill-failed for the interrupted drill', () => alerts().some((a) => a.rule === 'restore-drill-failed' && a.details['drillId'] === drillId), 60_000);
  assert.match(await scrape(), /holdfast_restore_drills_total\{job="slow-db",outcome="interrupted"\} 1/);
});

test('usage errors and unknown jobs name the problem', { timeout: 60_000 }, async () => {
  if (skipped) return;
  assert.match((await cli(['drill', 'run'], 2)).stderr, /Usage: holdfast drill run JOB/);
  assert.match((await cli(['drill', 'run', 'no-such-job'], 3)).stderr, /Backup job "no-such-job"/);
  assert.match((await cli(['evidence', 'show', 'drills'], 2)).stderr, /Usage: holdfast evidence show KIND ID/);
  assert.match((await cli(['evidence', 'list', '--limit', 'x'], 2)).stderr, /--limit takes a whole number/);
});

async function findFileWithBytes(root: string, bytes: Buffer): Promise<string | undefined> {
  for (const name of await readdir(root)) {
    const path = join(root, name);
    const info = await stat(path);
    if (info.isDirectory()) {
      const found = await findFileWithBytes(path, bytes);
      if (found !== undefined) return found;
    } else if (info.size === bytes.length && (await readFile(path)).equals(bytes)) return path;
  }
  return undefined;
}
