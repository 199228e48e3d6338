import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Decision, evaluate } from './evaluate.js';
import { type NamedPolicy, parsePolicy } from './policy-document.js';
import { BUILT_IN_ROLES, type BuiltInRoleName, isBuiltInRole } from './roles.js';
import { findWriteDeleteConflicts } from './separation-of-duties.js';

const OBJECT_ACTIONS = /^s3:(PutObject|GetObject|DeleteObject|AbortMultipartUpload|ListMultipartUploadParts|BypassGovernanceRetention)/;

/** The resource an action is checked against, as the protocol layer would build it. */
function resourceFor(action: string): string {
  if (action.startsWith('holdfast:')) return 'arn:holdfast:identity/alice';
  if (action === 's3:ListAllMyBuckets') return 'arn:aws:s3:::*';
  return OBJECT_ACTIONS.test(action) ? 'arn:aws:s3:::backups/db/2033-03-01.tar' : 'arn:aws:s3:::backups';
}

function decide(policies: readonly NamedPolicy[], action: string): Decision {
  return evaluate(
    { principal: { arn: 'arn:holdfast:iam:::service/ci', name: 'ci', kind: 'service' }, action, resource: resourceFor(action), context: new Map() },
    { identityPolicies: policies },
  );
}

const role = (name: BuiltInRoleName): NamedPolicy => ({ name: `role:${name}`, document: BUILT_IN_ROLES[name].document });

function check(roles: readonly BuiltInRoleName[], allows: readonly string[], refuses: readonly string[]): void {
  const policies = roles.map(role);
  for (const action of allows) assert.equal(decide(policies, action).allowed, true, `${roles.join('+')} must allow ${action}`);
  for (const action of refuses) assert.equal(decide(policies, action).allowed, false, `${roles.join('+')} must refuse ${action}`);
}

const LOCK_CHANGES = ['s3:PutObjectRetention', 's3:PutObjectLegalHold', 's3:BypassGovernanceRetention'];
const DELETES = ['s3:DeleteObject', 's3:DeleteObjectVersion'];

test('backup-writer writes and reads back, and cannot delete or weaken protection', () => {
  check(
    ['backup-writer'],
    [
      's3:PutObject',
      's3:GetObject',
      's3:GetObjectVersion',
      's3:ListBucket',
      's3:ListBucketVersions',
      's3:ListBucketMultipartUploads',
      's3:ListMultipartUploadParts',
      's3:AbortMultipartUpload',
      's3:GetBucketLocation',
      's3:GetBucketVersioning',
      's3:GetBucketObjectLockConfiguration',
      's3:GetObjectRetention',
      's3:GetObjectLegalHold',
      's3:ListAllMyBuckets',
    ],
    [...DELETES, ...LOCK_CHANGES, 's3:PutBucketObjectLockConfiguration', 's3:PutBucketPolicy', 's3:DeleteBucket', 's3:CreateBucket', 'holdfast:ListIdentities'],
  );
});

test('restore-reader reads and lists only', () => {
  check(
    ['restore-reader'],
    ['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:ListBucketVersions', 's3:ListAllMyBuckets', 's3:GetBucketLocation', 's3:GetObjectRetention'],
    ['s3:PutObject', ...DELETES, ...LOCK_CHANGES, 's3:AbortMultipartUpload', 's3:PutBucketPolicy', 's3:PutBucketVersioning', 'holdfast:ListIdentities'],
  );
});

test('pruner deletes versions and reads lock metadata, but neither writes, reads data, nor weakens protection', () => {
  check(
    ['pruner'],
    [...DELETES, 's3:ListBucket', 's3:ListBucketVersions', 's3:ListAllMyBuckets', 's3:GetObjectRetention', 's3:GetObjectLegalHold', 's3:GetBucketObjectLockConfiguration'],
    ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion', ...LOCK_CHANGES, 's3:PutBucketObjectLockConfiguration', 'holdfast:ListIdentities'],
  );
});

test('pruner reads the pg backup catalog (manifests, timeline histories) and nothing else of object data', () => {
  const policies = [role('pruner')];
  const get = (key: string) => evaluate({ principal: { arn: 'arn:holdfast:iam:::service/ci', name: 'ci', kind: 'service' }, action: 's3:GetObject', resource: `arn:aws:s3:::${key}`, context: new Map() }, { identityPolicies: policies }).allowed;
  for (const key of ['pg/prod/backups/20261126T090000Z-3f9a1c/manifest.json', 'pg/backups/20261126T090000Z-3f9a1c/manifest.json', 'pg/prod/wal/00000002/00000002.history']) assert.equal(get(key), true, key);
  for (const key of ['pg/prod/backups/20261126T090000Z-3f9a1c/base.tar.gz.part-00001', 'pg/prod/wal/00000001/000000010000000000000001', 'pg/prod/wal/00000001/000000010000000000000002.00000028.backup', 'files/report.pdf']) {
    assert.equal(get(key), false, key);
  }
});

test('pruner cannot be given the governance bypass by another policy: its Deny wins', () => {
  const bypass: NamedPolicy = { name: 'inline:bypass', document: parsePolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }, { kind: 'identity' }) };
  const decision = decide([role('pruner'), bypass], 's3:BypassGovernanceRetention');
  assert.equal(decision.reason, 'explicit-deny');
  assert.deepEqual(decision.statement, { policy: 'role:pruner', sid: 'NeverShortenProtection', index: 1 });
});

test('auditor reads configuration, lock state and the audit log, never object data', () => {
  check(
    ['auditor'],
    [
      's3:GetBucketPolicy',
      's3:GetBucketObjectLockConfiguration',
      's3:GetBucketVersioning',
      's3:GetBucketLocation',
      's3:ListBucket',
      's3:ListBucketVersions',
      's3:ListAllMyBuckets',
      's3:GetObjectRetention',
      's3:GetObjectLegalHold',
      'holdfast:GetSettings',
      'holdfast:ListIdentities',
      'holdfast:ReadAuditLog',
      'holdfast:VerifyAuditLog',
    ],
    ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', ...DELETES, ...LOCK_CHANGES, 's3:PutBucketPolicy', 'holdfast:CreateIdentity', 'holdfast:AttachRole'],
  );
});

test('admin administers and configures buckets, and is refused every change to backup objects', () => {
  check(
    ['admin'],
    [
      'holdfast:CreateIdentity',
      'holdfast:AttachRole',
      'holdfast:ReadAuditLog',
      's3:CreateBucket',
      's3:PutBucketVersioning',
      's3:PutBucketObjectLockConfiguration',
      's3:PutBucketPolicy',
      's3:GetBucketPolicy',
      's3:DeleteBucketPolicy',
      's3:GetBucketObjectLockConfiguration',
      's3:ListBucket',
      's3:ListAllMyBuckets',
    ],
    ['s3:PutObject', 's3:GetObject', ...DELETES, ...LOCK_CHANGES],
  );
  for (const action of ['s3:PutObject', ...DELETES, ...LOCK_CHANGES]) {
    const decision = decide([role('admin'), role('pruner'), role('backup-writer')], action);
    assert.equal(decision.reason, 'explicit-deny', `admin's Deny covers ${action} whatever else is attached`);
    assert.equal(decision.statement?.sid, 'NeverTouchBackupObjects');
  }
});

test('no built-in role on its own can both write and delete backups', () => {
  for (const name of Object.keys(BUILT_IN_ROLES) as BuiltInRoleName[]) {
    assert.deepEqual(findWriteDeleteConflicts([role(name)], ['backups']), [], name);
  }
});

test('roles are named, described in one line, parsed as identity policies, and frozen', () => {
  assert.deepEqual(Object.keys(BUILT_IN_ROLES).sort(), ['admin', 'auditor', 'backup-writer', 'pruner', 'restore-reader']);
  for (const [name, definition] of Object.entries(BUILT_IN_ROLES)) {
    assert.equal(definition.name, name);
    assert.ok(definition.description.length > 20 && !definition.description.includes('\n'), name);
    assert.equal(definition.document.kind, 'identity');
    assert.equal(definition.document.version, '2012-10-17');
    assert.deepEqual(parsePolicy(definition.document.text, { kind: 'identity' }).statements.length, definition.document.statements.length);
    assert.ok(Object.isFrozen(definition) && Object.isFrozen(definition.document));
  }
  assert.equal(BUILT_IN_ROLES['backup-writer'].automationOnly, true);
  assert.equal(BUILT_IN_ROLES.pruner.automationOnly, true);
  assert.equal(BUILT_IN_ROLES.admin.automationOnly, false);
  assert.equal(isBuiltInRole('pruner'), true);
  assert.equal(isBuiltInRole('Pruner'), false);
  assert.equal(isBuiltInRole('toString'), false);
  assert.equal(isBuiltInRole('superuser'), false);
});
