import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, PutObjectLockConfigurationCommand, PutObjectRetentionCommand, type S3Client } from '@aws-sdk/client-s3';
import { repoRoot } from '../support/repo-root.js';
import { expectS3Error, sdkClient } from '../support/sdk-client.js';
import { createIdentityWithKey, holdfast, rootKey } from '../support/admin-cli.js';
import { runCommand } from '../support/tools.js';
import { type RunningVault, startVault } from '../support/vault-server.js';

/**
 * The policy's retention ceiling, end to end: the `holdfast admin` CLI sets bounds on a running
 * server over the signed admin API, and S3 clients are then refused outside them.
 */
const DAY = 24 * 3600 * 1000;
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
let vault: RunningVault;
let s3: S3Client;

function admin(args: string[], expectExitCode: number | 'any' = 0) {
  return runCommand(process.execPath, [cli, 'admin', ...args, '--endpoint', vault.endpoint], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: vault.accessKeyId, AWS_SECRET_ACCESS_KEY: vault.secretAccessKey },
    expectExitCode,
    timeoutMs: 30_000,
  });
}

function lockedPut(key: string, days: number | undefined, bucket = 'bounded') {
  const body = Buffer.from(`backup ${key}`);
  return s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentMD5: createHash('md5').update(body).digest('base64'),
      ...(days === undefined ? {} : { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(Date.now() + days * DAY) }),
    }),
  );
}

before(async () => {
  vault = await startVault();
  s3 = sdkClient(vault);
  await s3.send(new CreateBucketCommand({ Bucket: 'bounded', ObjectLockEnabledForBucket: true }));
});

after(async () => {
  s3?.destroy();
  await vault?.stop();
});

test('holdfast admin sets a bucket\'s retention ceiling; longer retention is refused, shorter accepted', { timeout: 60_000 }, async () => {
  const set = await admin(['buckets', 'set-retention-bounds', 'bounded', '--max-days', '30', '--json']);
  assert.deepEqual((JSON.parse(set.stdout) as { retentionBounds: unknown }).retentionBounds, { maxDays: 30 });
  const shown = await admin(['buckets', 'show', 'bounded']);
  assert.match(shown.stdout, /retention 0–30 days/);

  await assert.rejects(lockedPut('too-long', 40), /maximum retention of 30 days/);
  await expectS3Error(lockedPut('too-long', 40), 'InvalidRequest', 400);
  const ok = await lockedPut('fine', 20);
  assert.ok(ok.VersionId);
  await expectS3Error(
    s3.send(new PutObjectRetentionCommand({ Bucket: 'bounded', Key: 'fine', VersionId: ok.VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 45 * DAY) } })),
    'InvalidRequest',
    400,
  );
  await expectS3Error(
    s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'bounded', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 31 } } } })),
    'InvalidRequest',
    400,
  );
});

test('a minimum bound refuses unretained writes until a default retention covers them', { timeout: 60_000 }, async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'bounded-min', ObjectLockEnabledForBucket: true }));
  await admin(['buckets', 'set-retention-bounds', 'bounded-min', '--min-days', '7', '--max-days', '90']);
  await assert.rejects(lockedPut('unretained', undefined, 'bounded-min'), /at least 7 days/);
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'bounded-min', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 14 } } } }));
  assert.ok((await lockedPut('by-default', undefined, 'bounded-min')).VersionId);
  // Clearing the bounds loosens them: it waits for a second admin (two-person rule).
  const pending = await admin(['buckets', 'set-retention-bounds', 'bounded-min', '--clear'], 3);
  const changeId = /approvals approve (chg-[0-9a-f]+)/.exec(pending.stderr)?.[1];
  assert.ok(changeId, pending.stderr);
  const second = await createIdentityWithKey(vault, rootKey(vault), 'second-admin', ['admin']);
  await holdfast(vault, second, ['admin', 'approvals', 'approve', changeId]);
  assert.match((await admin(['buckets', 'show', 'bounded-min'])).stdout, /no retention bounds/);
});

test('admin CLI: exit code 3 when the server refuses, 2 for usage errors; unsigned admin calls are refused', { timeout: 60_000 }, async () => {
  const missing = await admin(['buckets', 'set-retention-bounds', 'no-such-bucket', '--max-days', '5', '--json'], 3);
  assert.equal((JSON.parse(missing.stdout) as { error: { code: string } }).error.code, 'NoSuchBucket');
  const usage = await admin(['buckets', 'set-retention-bounds', 'bounded'], 2);
  assert.match(usage.stderr, /--min-days and\/or --max-days, or --clear/);
  const invalid = await admin(['buckets', 'set-retention-bounds', 'bounded', '--min-days', '10', '--max-days', '5'], 3);
  assert.match(invalid.stderr, /must not exceed maxDays/);
  const unsigned = await fetch(`${vault.endpoint}/_holdfast/admin/v1/buckets`);
  assert.equal(unsigned.status, 403);
  assert.equal(((await unsigned.json()) as { error: { code: string } }).error.code, 'AccessDenied');
});
