import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type KeyPair, clientFor, createIdentityWithKey, holdfast, rootKey } from '../support/admin-cli.js';
import { expectS3Error } from '../support/sdk-client.js';
import { type RunningVault, randomCredentials, startVault } from '../support/vault-server.js';

/**
 * The audit log end to end: every request and configuration change has an entry, `holdfast audit
 * verify` checks the hash chain against signed checkpoints kept in the compliance-locked system
 * bucket, an edit made directly in the data directory is named with its position, and the
 * checkpoints themselves cannot be deleted over S3 — not even by root.
 */
const root = randomCredentials();
// No audit stream on stdout here: the test reads alerts from the server's log, which must stay short.
const env = { HOLDFAST_ROOT_ACCESS_KEY_ID: root.accessKeyId, HOLDFAST_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey, HOLDFAST_AUDIT_LOG_STREAM: 'none' };
let dataDir: string;
let vault: RunningVault | undefined;
const clients: S3Client[] = [];

interface ExportedEntry {
  seq: number;
  kind: string;
  identity: string;
  accessKeyId: string;
  action: string;
  resource: string;
  result: string;
  status?: number;
  errorCode?: string;
  sourceIp?: string;
  requestId?: string;
  userAgent?: string;
  details?: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

function parseLines(text: string): ExportedEntry[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ExportedEntry);
}

after(async () => {
  for (const c of clients) c.destroy();
  await vault?.stop();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

test('requests and configuration changes are audited; verify, export and locked checkpoints hold; tampering is named', { timeout: 120_000 }, async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'holdfast-audit-'));
  vault = await startVault({ dataDir, env });
  const admin: KeyPair = rootKey(vault);
  const rootS3 = clientFor(vault, admin);
  clients.push(rootS3);
  await rootS3.send(new CreateBucketCommand({ Bucket: 'audited', ObjectLockEnabledForBucket: true }));
  const writerKey = await createIdentityWithKey(vault, admin, 'audited-writer', ['backup-writer'], ['--service']);
  const writer = clientFor(vault, writerKey);
  clients.push(writer);
  const body = Buffer.from('base backup');
  const put = await writer.send(
    new PutObjectCommand({ Bucket: 'audited', Key: 'base/1', Body: body, ContentMD5: createHash('md5').update(body).digest('base64') }),
  );
  await expectS3Error(writer.send(new DeleteObjectCommand({ Bucket: 'audited', Key: 'base/1', VersionId: put.VersionId })), 'AccessDenied', 403);

  // Export: the writer's upload and its refused delete, with who, what, where and why.
  const exported = parseLines((await holdfast(vault, admin, ['audit', 'export', '--identity', 'audited-writer'])).stdout);
  const upload = exported.find((e) => e.action === 'PutObject');
  assert.ok(upload, 'the upload is in the audit log');
  assert.equal(upload.resource, 'audited/base/1');
  assert.equal(upload.result, 'ok');
  assert.equal(upload.accessKeyId, writerKey.accessKeyId);
  assert.equal(upload.sourceIp, '127.0.0.1');
  assert.match(upload.userAgent ?? '', /aws-sdk-js/);
  const refused = exported.find((e) => e.action === 'DeleteObject');
  assert.ok(refused, 'the refused delete is in the audit log');
  assert.equal(refused.result, 'denied');
  assert.equal(refused.errorCode, 'AccessDenied');
  assert.equal(refused.details?.['deniedAction'], 's3:DeleteObjectVersion');
  // The configuration changes (identity and key creation) were committed before the admin API answered.
  const changes = parseLines((await holdfast(vault, admin, ['audit', 'export', '--action', 'config:'])).stdout);
  assert.deepEqual(
    changes.map((e) => [e.action, e.resource, e.identity]),
    [
      ['config:identity-created', 'identity/audited-writer', 'root'],
      ['config:access-key-created', 'identity/audited-writer', 'root'],
    ],
  );
  // Secrets never reach the log, not even the one the key-creation response carried.
  const everything = (await holdfast(vault, admin, ['audit', 'export'])).stdout;
  assert.ok(!everything.includes(writerKey.secretAccessKey));
  assert.ok(!everything.includes(root.secretAccessKey));
  assert.ok(!everything.includes('Signature='));
  // JSON lines: one entry per line, no blank lines between them.
  assert.ok(everything.endsWith('}\n') && !everything.includes('\n\n'), 'one JSON object per line');

  const intact = await holdfast(vault, admin, ['audit', 'verify']);
  assert.match(intact.stdout, /audit log intact: \d+ entries verified/);

  // A clean stop signs a checkpoint of the chain head into the locked system bucket.
  await vault.stop();
  vault = await startVault({ dataDir, env });
  const checkpoints = JSON.parse((await holdfast(vault, admin, ['audit', 'checkpoints'])).stdout) as {
    checkpoints: Array<{ seq: number; hash: string }>;
    publicKeyPem: string;
  };
  assert.ok(checkpoints.checkpoints.length >= 1);
  assert.match(checkpoints.publicKeyPem, /BEGIN PUBLIC KEY/);
  const rootS3b = clientFor(vault, admin);
  clients.push(rootS3b);
  const versions = await rootS3b.send(new ListObjectVersionsCommand({ Bucket: 'holdfast-system-audit', Prefix: 'checkpoints/' }));
  const checkpointObject = versions.Versions?.[0];
  assert.ok(checkpointObject?.Key !== undefined);
  // Readable by anyone allowed to read; deletable by no one, root included.
  const read = await rootS3b.send(new GetObjectCommand({ Bucket: 'holdfast-system-audit', Key: checkpointObject.Key, VersionId: checkpointObject.VersionId }));
  assert.equal(read.ObjectLockMode, 'COMPLIANCE');
  await expectS3Error(
    rootS3b.send(new DeleteObjectCommand({ Bucket: 'holdfast-system-audit', Key: checkpointObject.Key, VersionId: checkpointObject.VersionId, BypassGovernanceRetention: true })),
    'AccessDenied',
    403,
  );
  await expectS3Error(rootS3b.send(new PutObjectCommand({ Bucket: 'holdfast-system-audit', Key: checkpointObject.Key, Body: 'forged' })), 'AccessDenied', 403);

  // Someone with the data directory edits an entry the checkpoint covers.
  await vault.stop();
  vault = undefined;
  const db = new Database(join(dataDir, 'metadata', 'audit.sqlite'));
  const target = db.prepare("SELECT seq FROM audit_entries WHERE action = 'DeleteObject' LIMIT 1").get() as { seq: number } | undefined;
  assert.ok(target, 'the refused delete is in the store');
  db.prepare("UPDATE audit_entries SET result = 'ok', error_code = NULL WHERE seq = ?").run(target.seq);
  db.close();
  vault = await startVault({ dataDir, env });
  const broken = await holdfast(vault, admin, ['audit', 'verify', '--json'], 4);
  const report = JSON.parse(broken.stdout) as { ok: boolean; problems: Array<{ kind: string; seq: number }> };
  assert.equal(report.ok, false);
  assert.ok(
    report.problems.some((p) => p.kind === 'edited' && p.seq === target.seq),
    `verify names the edited entry ${target.seq}: ${broken.stdout}`,
  );
  // The start-up check raised the audit-chain alert through the log channel.
  assert.match(vault.output(), /"rule":"audit-chain-broken"/);
});
