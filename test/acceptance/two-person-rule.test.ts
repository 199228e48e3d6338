import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, GetObjectLockConfigurationCommand, PutObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { type KeyPair, adminJson, clientFor, createIdentityWithKey, holdfast, rootKey } from '../support/admin-cli.js';
import { type RunningVault, startVault } from '../support/vault-server.js';

/**
 * Loosening protection needs a second admin: raising a bucket's maximum or lowering its minimum
 * retention bound, unflagging a protected bucket, and weakening a protected bucket's default
 * retention are recorded as pending and answered with the approval step.
 */
let vault: RunningVault;
let root: KeyPair;
let alice: KeyPair;
let bob: KeyPair;
let aliceS3: S3Client;

interface BucketView {
  retentionBounds: { minDays?: number; maxDays?: number } | null;
  protected: boolean;
}
interface ChangeView {
  id: string;
  status: string;
  requestedBy: string;
  decidedBy: string | null;
}

before(async () => {
  vault = await startVault();
  root = rootKey(vault);
  alice = await createIdentityWithKey(vault, root, 'alice', ['admin']);
  bob = await createIdentityWithKey(vault, root, 'bob', ['admin']);
  aliceS3 = clientFor(vault, alice);
  await aliceS3.send(new CreateBucketCommand({ Bucket: 'pg-backups', ObjectLockEnabledForBucket: true }));
});

after(async () => {
  aliceS3?.destroy();
  await vault?.stop();
});

function changeIdFrom(stderr: string): string {
  const id = /approvals approve (chg-[0-9a-f]+)/.exec(stderr)?.[1];
  assert.ok(id, `the refusal names the approval step: ${stderr}`);
  return id;
}

test('raising the maximum retention bound waits for a second admin; tightening does not', { timeout: 60_000 }, async () => {
  const tightened = await adminJson<BucketView>(vault, alice, ['buckets', 'set-retention-bounds', 'pg-backups', '--min-days', '7', '--max-days', '90']);
  assert.deepEqual(tightened.retentionBounds, { minDays: 7, maxDays: 90 });

  const refused = await holdfast(vault, alice, ['admin', 'buckets', 'set-retention-bounds', 'pg-backups', '--min-days', '7', '--max-days', '365'], 3);
  assert.match(refused.stderr, /ApprovalRequired: .*second admin's approval \(two-person rule\)/);
  const id = changeIdFrom(refused.stderr);
  assert.deepEqual((await adminJson<BucketView>(vault, alice, ['buckets', 'show', 'pg-backups'])).retentionBounds, { minDays: 7, maxDays: 90 }, 'nothing changed yet');

  const pending = await adminJson<{ changes: ChangeView[] }>(vault, bob, ['approvals', 'list']);
  assert.deepEqual(pending.changes.map((c) => [c.id, c.status, c.requestedBy]), [[id, 'pending', 'alice']]);

  const self = await holdfast(vault, alice, ['admin', 'approvals', 'approve', id], 3);
  assert.match(self.stderr, /a different admin must approve it/);
  const approved = await adminJson<ChangeView>(vault, bob, ['approvals', 'approve', id]);
  assert.equal(approved.status, 'approved');
  assert.equal(approved.decidedBy, 'bob');
  assert.deepEqual((await adminJson<BucketView>(vault, alice, ['buckets', 'show', 'pg-backups'])).retentionBounds, { minDays: 7, maxDays: 365 });

  // Lowering the minimum is loosening too; clearing the bounds as well.
  const lower = await holdfast(vault, bob, ['admin', 'buckets', 'set-retention-bounds', 'pg-backups', '--clear'], 3);
  const cancelId = changeIdFrom(lower.stderr);
  assert.equal((await adminJson<ChangeView>(vault, bob, ['approvals', 'cancel', cancelId])).status, 'cancelled');
  await holdfast(vault, alice, ['admin', 'approvals', 'approve', cancelId], 3);
});

test('on a protected bucket, removing or shortening the default retention over S3 needs approval', { timeout: 60_000 }, async () => {
  await aliceS3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'pg-backups',
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } } },
    }),
  );
  assert.equal((await adminJson<BucketView>(vault, alice, ['buckets', 'protect', 'pg-backups'])).protected, true);

  // Longer retention is tightening: applied at once.
  await aliceS3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'pg-backups',
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 35 } } },
    }),
  );
  // Removing the rule through a plain S3 client: refused with ApprovalRequired and the change id.
  const removal = aliceS3.send(new PutObjectLockConfigurationCommand({ Bucket: 'pg-backups', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
  let changeId = '';
  await assert.rejects(removal, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, 'ApprovalRequired');
    assert.equal(error.$metadata?.httpStatusCode, 403);
    changeId = /approvals approve (chg-[0-9a-f]+)/.exec(error.message)?.[1] ?? '';
    return true;
  });
  assert.notEqual(changeId, '');
  const still = await aliceS3.send(new GetObjectLockConfigurationCommand({ Bucket: 'pg-backups' }));
  assert.equal(still.ObjectLockConfiguration?.Rule?.DefaultRetention?.Days, 35);

  await adminJson(vault, bob, ['approvals', 'approve', changeId]);
  const after = await aliceS3.send(new GetObjectLockConfigurationCommand({ Bucket: 'pg-backups' }));
  assert.equal(after.ObjectLockConfiguration?.Rule, undefined);

  // Unflagging is loosening as well.
  const unprotect = await holdfast(vault, alice, ['admin', 'buckets', 'unprotect', 'pg-backups'], 3);
  await adminJson(vault, bob, ['approvals', 'approve', changeIdFrom(unprotect.stderr)]);
  assert.equal((await adminJson<BucketView>(vault, alice, ['buckets', 'show', 'pg-backups'])).protected, false);
});

test('an admin cannot widen their own rights; an auditor reads but changes nothing', { timeout: 60_000 }, async () => {
  const self = await holdfast(vault, alice, ['admin', 'users', 'attach-role', 'alice', 'pruner'], 3);
  assert.match(self.stderr, /cannot change your own identity/);
  const auditor = await createIdentityWithKey(vault, root, 'carol', ['auditor']);
  const users = await adminJson<{ users: Array<{ name: string }> }>(vault, auditor, ['users', 'list']);
  assert.ok(users.users.some((u) => u.name === 'alice'));
  const denied = await holdfast(vault, auditor, ['admin', 'users', 'create', 'mallory', '--role', 'admin'], 3);
  assert.match(denied.stderr, /AccessDenied: User: arn:holdfast:iam:::user\/carol is not authorized to perform: holdfast:CreateIdentity/);
  await holdfast(vault, auditor, ['admin', 'buckets', 'set-retention-bounds', 'pg-backups', '--max-days', '1'], 3);
});

test('the policy simulator answers with the real evaluator and names the deciding statement', { timeout: 60_000 }, async () => {
  const denied = await holdfast(vault, root, ['admin', 'policies', 'simulate', 'alice', 's3:DeleteObjectVersion', 'pg-backups/base/1'], 3);
  assert.match(denied.stdout, /^DENIED \(explicit-deny by role:admin statement NeverTouchBackupObjects\)$/m);
  const allowed = await holdfast(vault, root, ['admin', 'policies', 'simulate', 'carol', 'holdfast:ListIdentities', 'arn:holdfast:admin:::users', '--json']);
  const decision = JSON.parse(allowed.stdout) as { allowed: boolean; statement: { policy: string } };
  assert.equal(decision.allowed, true);
  assert.equal(decision.statement.policy, 'role:auditor');
  assert.match((await holdfast(vault, root, ['admin', 'policies', 'list', 'carol'])).stdout, /^role:auditor$/m);
});
