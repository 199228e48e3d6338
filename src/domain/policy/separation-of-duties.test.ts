import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type NamedPolicy, type PolicyDocument, type PolicyKind, parsePolicy } from './policy-document.js';
import { BUILT_IN_ROLES, type BuiltInRoleName } from './roles.js';
import { ANY_BUCKET, type ConflictOptions, findWriteDeleteConflicts } from './separation-of-duties.js';

const role = (name: BuiltInRoleName): NamedPolicy => ({ name: `role:${name}`, document: BUILT_IN_ROLES[name].document });
const doc = (statements: object[], kind: PolicyKind = 'identity'): PolicyDocument => parsePolicy({ Version: '2012-10-17', Statement: statements }, { kind });
const inline = (name: string, statements: object[]): NamedPolicy => ({ name: `inline:${name}`, document: doc(statements) });
const allow = (action: string | string[], resource: string | string[], extra: object = {}) => ({ Effect: 'Allow', Action: action, Resource: resource, ...extra });

/** The buckets (of `buckets`, plus `*`) on which the policies conflict. */
function conflicted(policies: readonly (PolicyDocument | NamedPolicy)[], buckets: readonly string[] = ['a', 'b'], options: ConflictOptions = {}): string[] {
  return findWriteDeleteConflicts(policies, buckets, options).map((c) => c.bucket);
}

test('backup-writer with pruner conflicts on every bucket, and says which statements', () => {
  const conflicts = findWriteDeleteConflicts([role('backup-writer'), role('pruner')], ['backups', 'logs']);
  assert.deepEqual(
    conflicts.map((c) => c.bucket),
    ['backups', 'logs', ANY_BUCKET],
  );
  assert.deepEqual(conflicts[0], {
    bucket: 'backups',
    write: 'role:backup-writer Statement[0] (Sid "WriteAndReadBackups") allows s3:PutObject',
    delete: 'role:pruner Statement[0] (Sid "PruneExpiredVersions") allows s3:DeleteObject',
  });
});

test('single roles and reader combinations do not conflict; admin\'s Deny defuses writer and pruner together', () => {
  assert.deepEqual(conflicted([role('backup-writer')]), []);
  assert.deepEqual(conflicted([role('pruner')]), []);
  assert.deepEqual(conflicted([role('admin')]), []);
  assert.deepEqual(conflicted([role('backup-writer'), role('restore-reader'), role('auditor')]), []);
  assert.deepEqual(conflicted([role('admin'), role('backup-writer'), role('pruner')]), []);
});

test('inline wildcards conflict: s3:*, *, and Put*/Delete* pairs', () => {
  assert.deepEqual(conflicted([inline('all', [allow('s3:*', '*')])]), ['a', 'b', ANY_BUCKET]);
  assert.deepEqual(conflicted([inline('star', [allow('*', 'arn:aws:s3:::*')])]), ['a', 'b', ANY_BUCKET]);
  assert.deepEqual(conflicted([inline('w', [allow('s3:Put*', '*')]), inline('d', [allow('s3:Delete*', '*')])]), ['a', 'b', ANY_BUCKET]);
  assert.deepEqual(conflicted([inline('w', [allow('s3:PutObject', '*'), allow('s3:PutObjectRetention', '*')])]).length, 3, 'shortening retention counts as deleting');
  const [retention] = findWriteDeleteConflicts([inline('w', [allow(['s3:PutObject', 's3:PutObjectRetention'], '*')])], []);
  assert.equal(retention?.delete, 'inline:w Statement[0] allows s3:PutObjectRetention');
  assert.deepEqual(conflicted([inline('by', [allow(['s3:PutObject', 's3:BypassGovernanceRetention'], '*')])]).length, 3);
});

test('the same bucket conflicts across prefixes; different buckets do not', () => {
  assert.deepEqual(conflicted([inline('p', [allow('s3:PutObject', 'arn:aws:s3:::a/incoming/*'), allow('s3:DeleteObject', 'arn:aws:s3:::a/old/*')])]), ['a']);
  assert.deepEqual(conflicted([inline('p', [allow('s3:PutObject', 'arn:aws:s3:::a/*'), allow('s3:DeleteObject', 'arn:aws:s3:::b/*')])]), []);
  assert.deepEqual(conflicted([inline('p', [allow('s3:*', ['arn:aws:s3:::backup-*'])])], ['backup-db', 'logs']), ['backup-db'], 'a named wildcard is not "any bucket"');
  assert.deepEqual(conflicted([inline('p', [allow('s3:*', 'arn:aws:s3:::a')])]), [], 'a bucket ARN grants no object action');
});

test('an Allow counts whatever its conditions; a Deny counts only without conditions and over the whole bucket', () => {
  const secureOnly = { Condition: { Bool: { 'aws:SecureTransport': 'true' } } };
  assert.deepEqual(conflicted([inline('p', [allow('s3:*', '*', secureOnly)])]), ['a', 'b', ANY_BUCKET]);

  const allDeletes = ['s3:Delete*', 's3:BypassGovernanceRetention', 's3:PutObjectRetention'];
  const deny = (resource: string, extra: object = {}) => ({ Effect: 'Deny', Action: allDeletes, Resource: resource, ...extra });
  assert.deepEqual(conflicted([inline('p', [allow('s3:*', '*'), deny('arn:aws:s3:::a/*')])]), ['b', ANY_BUCKET]);
  assert.deepEqual(conflicted([inline('p', [allow('s3:*', '*'), deny('*')])]), []);
  assert.deepEqual(conflicted([inline('p', [allow('s3:*', '*'), deny('*', secureOnly)])]), ['a', 'b', ANY_BUCKET], 'a conditional Deny might not apply');
  assert.deepEqual(conflicted([inline('p', [allow('s3:*', '*'), deny('arn:aws:s3:::a/old/*')])]), ['a', 'b', ANY_BUCKET], 'a Deny on part of a bucket leaves the rest');
  assert.deepEqual(conflicted([inline('p', [allow('s3:*', '*'), { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }])]), ['a', 'b', ANY_BUCKET], 'DeleteObjectVersion still allowed');
});

test('NotAction and NotResource are read conservatively', () => {
  assert.deepEqual(conflicted([inline('p', [{ Effect: 'Allow', NotAction: 's3:DeleteObject', Resource: '*' }])]), ['a', 'b', ANY_BUCKET]);
  assert.deepEqual(conflicted([inline('p', [{ Effect: 'Allow', Action: 's3:*', NotResource: 'arn:aws:s3:::a/*' }])]), ['b', ANY_BUCKET]);
  assert.deepEqual(conflicted([inline('p', [{ Effect: 'Allow', Action: 's3:*', NotResource: 'arn:aws:s3:::a/tmp/*' }])]), ['a', 'b', ANY_BUCKET]);
  const denyWritesOutside = { Effect: 'Deny', Action: 's3:PutObject', NotResource: 'arn:aws:s3:::a/*' };
  assert.deepEqual(conflicted([inline('p', [allow('s3:*', '*'), denyWritesOutside])]), ['a']);
});

test('policy variables could name any bucket', () => {
  assert.deepEqual(conflicted([inline('home', [allow('s3:*', 'arn:aws:s3:::${aws:username}/*')])]), ['a', 'b', ANY_BUCKET]);
  const denyHome = { Effect: 'Deny', Action: ['s3:Delete*', 's3:BypassGovernanceRetention', 's3:PutObjectRetention'], Resource: 'arn:aws:s3:::${aws:username}/*' };
  assert.deepEqual(conflicted([inline('home', [allow('s3:*', '*'), denyHome])]), ['a', 'b', ANY_BUCKET], 'a Deny with a variable is never certain');
});

test('bucket policy statements count for the principal they name', () => {
  const bucket = doc([{ Effect: 'Allow', Principal: { AWS: 'arn:holdfast:iam:::user/alice' }, Action: 's3:*', Resource: 'arn:aws:s3:::a/*' }], 'bucket');
  assert.deepEqual(conflicted([bucket], ['a'], { principalArn: 'arn:holdfast:iam:::user/alice' }), ['a']);
  assert.deepEqual(conflicted([bucket], ['a'], { principalArn: 'arn:holdfast:iam:::user/bob' }), []);
  assert.deepEqual(conflicted([bucket], ['a']), ['a'], 'without a principal, every Allow might be for it');
  const lockdown = doc([{ Effect: 'Deny', Principal: '*', Action: ['s3:Delete*', 's3:BypassGovernanceRetention', 's3:PutObjectRetention'], Resource: 'arn:aws:s3:::a/*' }], 'bucket');
  assert.deepEqual(conflicted([inline('all', [allow('s3:*', '*')]), lockdown], ['a']), [ANY_BUCKET]);
});

test('plain documents are named by position; buckets are checked once', () => {
  const [conflict, ...rest] = findWriteDeleteConflicts([doc([allow('s3:PutObject', '*')]), doc([allow('s3:DeleteObjectVersion', '*')])], ['a', 'a']);
  assert.deepEqual(conflict, { bucket: 'a', write: 'policy[0] Statement[0] allows s3:PutObject', delete: 'policy[1] Statement[0] allows s3:DeleteObjectVersion' });
  assert.deepEqual(
    rest.map((c) => c.bucket),
    [ANY_BUCKET],
  );
});
