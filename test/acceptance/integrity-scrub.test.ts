import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/infra/alerts/receivers.test-fixture.js';
import { clientFor, createIdentityWithKey, holdfast, rootKey } from '../support/admin-cli.js';
import { POSTGRES_TEST_URL, postgresUnreachable, scratchSchema } from '../support/postgres.js';
import { Teardown } from '../support/teardown.js';
import { type RunningVault, randomCredentials, startVault } from '../support/vault-server.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * "Backup job completion and integrity are monitored": objects written over S3, one blob's
 * bytes changed on disk behind the vault's back, and `holdfast admin scrub run` finds exactly
 * that object, records it, counts it in the metrics, and the alert reaches a real webhook
 * receiver. Black box: the built server and CLI; the damaged file is found by its contents.
 * The same scenario runs with the metadata in SQLite (the default) and in PostgreSQL
 * (metadataPostgresUrl, a fresh schema dropped afterwards): the scrub walks the vault through
 * the metadata port, so both stores must lead it to the same finding.
 */
interface DeliveredAlert {
  rule: string;
  severity: string;
  title: string;
  summary: string;
  subject?: { bucket?: string; key?: string; versionId?: string };
  details: Record<string, unknown>;
}
interface PassView {
  id: string;
  outcome: string;
  versions: number;
  totalVersions: number;
  failures: number;
  bytes: number;
}
interface FindingView {
  bucket: string;
  key: string;
  versionId: string;
  problem: string;
}

const teardown = new Teardown();
after(() => teardown.run());

const pgUnreachable = await postgresUnreachable();

test('a blob changed on disk is found by the scrub, recorded, counted and alerted to a webhook; the other objects pass (SQLite metadata)', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-scrub-acceptance-'));
  teardown.removeDir(dir);
  await scrubFindsTheDamagedBlob(dir, {});
  assert.equal(existsSync(join(dir, 'data', 'metadata', 'vault.sqlite')), true);
});

test('the same with the vault metadata in PostgreSQL (metadataPostgresUrl, a scratch schema)', { timeout: 180_000 }, async (t) => {
  if (pgUnreachable !== undefined) {
    if (process.env['CI'] === 'true') assert.fail(pgUnreachable);
    t.skip(pgUnreachable);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-scrub-acceptance-pg-'));
  teardown.removeDir(dir);
  const scratch = scratchSchema('holdfast_scrub');
  teardown.add(() => scratch.drop());
  await scrubFindsTheDamagedBlob(dir, { HOLDFAST_METADATA_POSTGRES_URL: POSTGRES_TEST_URL, HOLDFAST_METADATA_POSTGRES_SCHEMA: scratch.schema });
  // The versions the scrub walked were PostgreSQL rows: no SQLite metadata file was made.
  assert.equal(existsSync(join(dir, 'data', 'metadata', 'vault.sqlite')), false);
  const rows = await scratch.query<{ key: string }>(`SELECT key FROM ${scratch.schema}.versions WHERE bucket = 'scrubbed' ORDER BY key`);
  assert.deepEqual(rows.map((r) => r.key), [...Array.from({ length: 6 }, (_, i) => `backups/part-${i}.bin`), 'notes.txt']);
});

async function scrubFindsTheDamagedBlob(dir: string, metadataEnv: Readonly<Record<string, string>>): Promise<void> {
  teardown.removeDir(dir);
  const webhook: WebhookReceiver = await startWebhookReceiver();
  teardown.add(() => webhook.close());
  const root = randomCredentials();
  const configFile = join(dir, 'holdfast.json');
  // Scheduled passes off: the test decides when a pass runs.
  await writeFile(configFile, JSON.stringify({ alertChannels: [{ kind: 'webhook', name: 'hook', url: webhook.url, format: 'json' }], scrubIntervalHours: 0 }));
  const vault: RunningVault = await startVault({
    dataDir: join(dir, 'data'),
    env: { HOLDFAST_ROOT_ACCESS_KEY_ID: root.accessKeyId, HOLDFAST_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey, HOLDFAST_CONFIG: configFile, HOLDFAST_AUDIT_LOG_STREAM: 'none', ...metadataEnv },
  });
  teardown.add(() => vault.stop());
  const admin = rootKey(vault);
  const rootS3 = clientFor(vault, admin);
  teardown.add(() => rootS3.destroy());
  await rootS3.send(new CreateBucketCommand({ Bucket: 'scrubbed', ObjectLockEnabledForBucket: true }));
  const writerKey = await createIdentityWithKey(vault, admin, 'scrub-writer', ['backup-writer'], ['--service']);
  const writer: S3Client = clientFor(vault, writerKey);
  teardown.add(() => writer.destroy());

  const bodies = new Map<string, Buffer>();
  const versions = new Map<string, string>();
  for (let i = 0; i < 6; i++) {
    // 200 KB: above the 64 KiB inline limit, so each is a file under DATA/blobs.
    const body = randomBytes(200_000);
    const key = `backups/part-${i}.bin`;
    const put = await writer.send(new PutObjectCommand({ Bucket: 'scrubbed', Key: key, Body: body, ContentMD5: createHash('md5').update(body).digest('base64') }));
    bodies.set(key, body);
    versions.set(key, put.VersionId!);
  }
  const small = Buffer.from('a small object kept inline in the metadata');
  await writer.send(new PutObjectCommand({ Bucket: 'scrubbed', Key: 'notes.txt', Body: small, ContentMD5: createHash('md5').update(small).digest('base64') }));

  const scrub = (args: string[], code: number | 'any') => holdfast(vault, admin, ['admin', 'scrub', ...args, '--json'], code);
  const clean = JSON.parse((await scrub(['run'], 0)).stdout) as { pass: PassView; findings: FindingView[] };
  assert.equal(clean.pass.outcome, 'completed');
  assert.deepEqual(clean.findings, []);
  // The 7 objects plus whatever the server keeps in its own system buckets (audit checkpoints, evidence).
  assert.ok(clean.pass.versions >= 7 && clean.pass.versions === clean.pass.totalVersions, JSON.stringify(clean.pass));

  // Change one byte of part-3's file, as bit rot or a careless tool would (blobs are read-only: chmod first).
  const victim = 'backups/part-3.bin';
  const file = await findBlobFile(join(vault.dataDir, 'blobs'), bodies.get(victim)!);
  const damaged = Buffer.from(bodies.get(victim)!);
  damaged[100_000] = damaged[100_000]! ^ 0xff;
  await chmod(file, 0o640);
  await writeFile(file, damaged);

  const started = performance.now();
  const ran = await scrub(['run'], 4);
  console.log(`scrub of ${clean.pass.versions} versions (${clean.pass.bytes} bytes): ${Math.round(performance.now() - started)} ms including the CLI start`);
  const { pass, findings } = JSON.parse(ran.stdout) as { pass: PassView; findings: FindingView[] };
  assert.equal(pass.outcome, 'completed');
  assert.equal(pass.failures, 1);
  assert.deepEqual(findings.map((f) => [f.bucket, f.key, f.versionId, f.problem]), [['scrubbed', victim, versions.get(victim), 'etag-mismatch']]);

  // The alert reaches the webhook receiver, naming the object and the version.
  await waitUntil('the object-integrity-failed alert at the webhook', () => alerts(webhook).some((a) => a.rule === 'object-integrity-failed'), 30_000);
  const integrityAlerts = alerts(webhook).filter((a) => a.rule === 'object-integrity-failed');
  assert.equal(integrityAlerts.length, 1);
  assert.equal(integrityAlerts[0]!.severity, 'critical');
  assert.deepEqual(integrityAlerts[0]!.subject, { bucket: 'scrubbed', key: victim, versionId: versions.get(victim) });
  assert.equal(integrityAlerts[0]!.details['problem'], 'etag-mismatch');

  // Recorded: scrub status (as an auditor may read it) and a system entry in the audit log.
  const auditorKey = await createIdentityWithKey(vault, admin, 'scrub-auditor', ['auditor']);
  const status = JSON.parse((await holdfast(vault, auditorKey, ['admin', 'scrub', 'status', '--json'])).stdout) as { passes: PassView[]; findings: FindingView[]; lastCycleCompletedAt: string | null };
  assert.deepEqual(status.passes.map((p) => [p.id, p.failures]), [[pass.id, 1], [clean.pass.id, 0]]);
  assert.deepEqual(status.findings.map((f) => f.key), [victim]);
  assert.notEqual(status.lastCycleCompletedAt, null);
  await holdfast(vault, auditorKey, ['admin', 'scrub', 'run'], 3);
  const exported = (await holdfast(vault, admin, ['audit', 'export', '--action', 'system:ObjectIntegrityFailed'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { resource: string; details: Record<string, unknown> });
  assert.deepEqual(exported.map((e) => [e.resource, e.details['problem']]), [[`scrubbed/${victim}`, 'etag-mismatch']]);

  // Counted in the metrics.
  const metrics = await fetchText(`${vault.endpoint}/_holdfast/metrics`);
  assert.match(metrics, /holdfast_scrub_failures_total\{problem="etag-mismatch"\} 1\n/);
  assert.match(metrics, new RegExp(`holdfast_scrub_versions_total ${clean.pass.versions * 2}\\n`));
  assert.match(metrics, /holdfast_scrub_last_pass_timestamp_seconds \d{10}/);

  // The other objects still read back intact; a client that checks the damaged one (the SDK
  // compares the stored CRC32 it was written with) now refuses it: what the scrub found first.
  const read = async (key: string) => Buffer.from(await (await writer.send(new GetObjectCommand({ Bucket: 'scrubbed', Key: key }))).Body!.transformToByteArray());
  assert.deepEqual(await read('backups/part-2.bin'), bodies.get('backups/part-2.bin'));
  await assert.rejects(read(victim), /Checksum mismatch/);
  await vault.stop();
}

function alerts(webhook: WebhookReceiver): DeliveredAlert[] {
  return webhook.requests.map((r) => (JSON.parse(r.body) as { alert: DeliveredAlert }).alert);
}

/** The blob file holding exactly `body` (ids are random, so the contents are the only way to tell from outside). */
async function findBlobFile(blobsDir: string, body: Buffer): Promise<string> {
  for (const shard of await readdir(blobsDir)) {
    for (const name of await readdir(join(blobsDir, shard))) {
      const path = join(blobsDir, shard, name);
      const content = await readFile(path);
      if (content.equals(body)) return path;
    }
  }
  throw new Error('no blob file holds the object');
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
}
