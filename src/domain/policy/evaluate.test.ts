import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AuthorizationRequest, type Decision, type RequestPrincipal, evaluate } from './evaluate.js';
import { type NamedPolicy, type PolicyKind, parsePolicy } from './policy-document.js';

const alice: RequestPrincipal = { arn: 'arn:holdfast:iam:::user/alice', name: 'alice', kind: 'user' };
const ci: RequestPrincipal = { arn: 'arn:holdfast:iam:::service/ci', name: 'ci', kind: 'service' };
const root: RequestPrincipal = { arn: 'arn:holdfast:iam:::root', name: 'root', kind: 'root' };

/** `version` null leaves Version out (read as 2008-10-17). */
function policy(name: string, statements: object[], kind: PolicyKind = 'identity', version: string | null = '2012-10-17'): NamedPolicy {
  return { name, document: parsePolicy({ ...(version === null ? {} : { Version: version }), Statement: statements }, { kind }) };
}

function request(action: string, resource: string, context: Record<string, string | string[]> = {}, principal = alice): AuthorizationRequest {
  return { principal, action, resource, context: new Map(Object.entries(context)) };
}

const OBJECT = 'arn:aws:s3:::backups/db/2033-03-01.tar';
const allowAll = policy('inline:all', [{ Sid: 'Everything', Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
const denyDeletes = policy('inline:no-deletes', [{ Sid: 'NoDeletes', Effect: 'Deny', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'], Resource: '*' }]);
const allowGet = policy('role:reader', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::backups/*' }]);

const allowed = (statement: Decision['statement']): Decision => ({ allowed: true, reason: 'allow', ...(statement === undefined ? {} : { statement }) });
const denied = (statement: Decision['statement']): Decision => ({ allowed: false, reason: 'explicit-deny', ...(statement === undefined ? {} : { statement }) });
const implicit: Decision = { allowed: false, reason: 'implicit-deny' };

test('explicit Deny wins over Allow, across identity and bucket policies, and names the deciding statement', () => {
  const bucketDeny = policy('bucket-policy', [{ Sid: 'LockedDown', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::backups/*' }], 'bucket');
  const bucketAllowAlice = policy('bucket-policy', [{ Effect: 'Allow', Principal: { AWS: alice.arn }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::backups/*' }], 'bucket');
  const rows: [string, AuthorizationRequest, readonly NamedPolicy[], NamedPolicy | undefined, Decision][] = [
    ['no policies: implicit deny', request('s3:GetObject', OBJECT), [], undefined, implicit],
    ['identity Allow', request('s3:GetObject', OBJECT), [allowAll], undefined, allowed({ policy: 'inline:all', sid: 'Everything', index: 0 })],
    ['identity Deny beats identity Allow', request('s3:DeleteObject', OBJECT), [allowAll, denyDeletes], undefined, denied({ policy: 'inline:no-deletes', sid: 'NoDeletes', index: 0 })],
    ['order does not matter', request('s3:DeleteObject', OBJECT), [denyDeletes, allowAll], undefined, denied({ policy: 'inline:no-deletes', sid: 'NoDeletes', index: 0 })],
    ['a Deny for another action leaves the Allow', request('s3:GetObject', OBJECT), [allowAll, denyDeletes], undefined, allowed({ policy: 'inline:all', sid: 'Everything', index: 0 })],
    ['bucket Deny beats identity Allow', request('s3:PutObject', OBJECT), [allowAll], bucketDeny, denied({ policy: 'bucket-policy', sid: 'LockedDown', index: 0 })],
    ['bucket Allow for the principal alone allows', request('s3:GetObject', OBJECT), [], bucketAllowAlice, allowed({ policy: 'bucket-policy', index: 0 })],
    ['bucket Allow names someone else', request('s3:GetObject', OBJECT, {}, ci), [], bucketAllowAlice, implicit],
    ['identity Deny beats bucket Allow', request('s3:GetObject', OBJECT), [policy('inline:deny-get', [{ Effect: 'Deny', Action: 's3:GetObject', Resource: '*' }])], bucketAllowAlice, denied({ policy: 'inline:deny-get', index: 0 })],
    ['identity Allow without bucket Allow suffices', request('s3:GetObject', OBJECT, {}, ci), [allowGet], bucketAllowAlice, allowed({ policy: 'role:reader', index: 0 })],
  ];
  for (const [name, req, identityPolicies, bucketPolicy, expected] of rows) {
    assert.deepEqual(evaluate(req, { identityPolicies, bucketPolicy }), expected, name);
  }
});

test('NotPrincipal: a Deny for everyone except the named principals', () => {
  const bucket = policy('bucket-policy', [{ Sid: 'OnlyCi', Effect: 'Deny', NotPrincipal: { AWS: [ci.arn] }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::backups/*' }], 'bucket');
  assert.equal(evaluate(request('s3:PutObject', OBJECT), { identityPolicies: [allowAll], bucketPolicy: bucket }).reason, 'explicit-deny');
  assert.equal(evaluate(request('s3:PutObject', OBJECT, {}, ci), { identityPolicies: [allowAll], bucketPolicy: bucket }).reason, 'allow');
});

test('actions match case-insensitively with * and ?; resources case-sensitively', () => {
  const p = policy('p', [{ Effect: 'Allow', Action: ['s3:Get*', 's3:?istBucket', 'holdfast:List*'], Resource: ['arn:aws:s3:::backups', 'arn:aws:s3:::backups/db/*', 'arn:holdfast:identity/*'] }]);
  const rows: [string, string, boolean][] = [
    ['s3:GetObject', OBJECT, true],
    ['S3:GETOBJECT', OBJECT, true],
    ['s3:getobjectversion', OBJECT, true],
    ['s3:PutObject', OBJECT, false],
    ['s3:ListBucket', 'arn:aws:s3:::backups', true],
    ['s3:ListBuckets', 'arn:aws:s3:::backups', false],
    ['s3:GetObject', 'arn:aws:s3:::Backups/db/x', false],
    ['s3:GetObject', 'arn:aws:s3:::backups/DB/x', false],
    ['s3:GetObject', 'arn:aws:s3:::backups/logs/x', false],
    ['s3:GetObject', 'arn:aws:s3:::backups-old/db/x', false],
    ['holdfast:ListIdentities', 'arn:holdfast:identity/alice', true],
    ['holdfast:DeleteIdentity', 'arn:holdfast:identity/alice', false],
  ];
  for (const [action, resource, expected] of rows) {
    assert.equal(evaluate(request(action, resource), { identityPolicies: [p] }).allowed, expected, `${action} on ${resource}`);
  }
  assert.equal(evaluate(request('s3:AnythingAtAll', 'arn:aws:s3:::x'), { identityPolicies: [policy('star', [{ Effect: 'Allow', Action: '*', Resource: '*' }])] }).allowed, true);
});

test('NotAction and NotResource apply to everything their patterns do not match', () => {
  const exceptDeletes = policy('p', [{ Effect: 'Allow', NotAction: 's3:Delete*', Resource: '*' }]);
  assert.equal(evaluate(request('s3:GetObject', OBJECT), { identityPolicies: [exceptDeletes] }).allowed, true);
  assert.equal(evaluate(request('s3:DeleteObjectVersion', OBJECT), { identityPolicies: [exceptDeletes] }).reason, 'implicit-deny');

  const denyAllButRead = policy('guard', [{ Effect: 'Deny', NotAction: ['s3:GetObject', 's3:List*'], Resource: '*' }]);
  assert.equal(evaluate(request('s3:PutObject', OBJECT), { identityPolicies: [allowAll, denyAllButRead] }).reason, 'explicit-deny');
  assert.equal(evaluate(request('s3:ListBucket', 'arn:aws:s3:::backups'), { identityPolicies: [allowAll, denyAllButRead] }).reason, 'allow');

  const exceptSecrets = policy('p', [{ Effect: 'Allow', Action: 's3:GetObject', NotResource: ['arn:aws:s3:::secrets', 'arn:aws:s3:::secrets/*'] }]);
  assert.equal(evaluate(request('s3:GetObject', OBJECT), { identityPolicies: [exceptSecrets] }).allowed, true);
  assert.equal(evaluate(request('s3:GetObject', 'arn:aws:s3:::secrets/k'), { identityPolicies: [exceptSecrets] }).allowed, false);
});

test('conditions decide whether a statement applies', () => {
  const guarded = [
    allowAll,
    policy('inline:guards', [
      { Sid: 'TlsOnly', Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      { Sid: 'OfficeOnly', Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:db8::/32'] } } },
      { Sid: 'NotAfter', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2033-12-31T23:59:59Z' } } },
    ]),
  ];
  const ok = { 'aws:SecureTransport': 'true', 'aws:SourceIp': '2001:db8::7', 'aws:CurrentTime': '2033-03-01T00:00:00Z' };
  const decide = (context: Record<string, string>) => evaluate(request('s3:GetObject', OBJECT, context), { identityPolicies: guarded });
  assert.equal(decide(ok).reason, 'allow');
  assert.equal(decide({ ...ok, 'aws:SecureTransport': 'false' }).statement?.sid, 'TlsOnly');
  assert.equal(decide({ ...ok, 'aws:SourceIp': '198.51.100.4' }).statement?.sid, 'OfficeOnly');
  assert.equal(decide({ ...ok, 'aws:SourceIp': '::ffff:203.0.113.8' }).reason, 'allow');
  const { 'aws:SourceIp': _dropped, ...withoutIp } = ok;
  assert.equal(decide(withoutIp).statement?.sid, 'OfficeOnly', 'NotIpAddress with the key missing is true: the Deny applies');
  assert.equal(decide({ ...ok, 'aws:CurrentTime': '2034-01-01T00:00:00Z' }).statement?.sid, 'NotAfter');
  const { 'aws:SecureTransport': _tls, ...withoutTls } = ok;
  assert.equal(decide(withoutTls).reason, 'allow', 'Bool with the key missing is false: that Deny does not apply');
});

test('an Allow with a condition on a missing key does not allow; with IfExists it does', () => {
  const listHome = (operator: string) => policy('p', [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::home', Condition: { [operator]: { 's3:prefix': 'home/${aws:username}/*' } } }]);
  const list = (context: Record<string, string>) => request('s3:ListBucket', 'arn:aws:s3:::home', context);
  assert.equal(evaluate(list({ 's3:prefix': 'home/alice/' }), { identityPolicies: [listHome('StringLike')] }).allowed, true);
  assert.equal(evaluate(list({ 's3:prefix': 'home/bob/' }), { identityPolicies: [listHome('StringLike')] }).allowed, false);
  assert.equal(evaluate(list({}), { identityPolicies: [listHome('StringLike')] }).allowed, false);
  assert.equal(evaluate(list({}), { identityPolicies: [listHome('StringLikeIfExists')] }).allowed, true);
});

test('policy variables in Resource: per-user home directories, only in 2012-10-17 documents', () => {
  const statements = [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}/*' }];
  const modern = policy('p', statements);
  const legacy = policy('p', statements, 'identity', null);
  assert.equal(evaluate(request('s3:PutObject', 'arn:aws:s3:::home/alice/notes'), { identityPolicies: [modern] }).allowed, true);
  assert.equal(evaluate(request('s3:PutObject', 'arn:aws:s3:::home/bob/notes'), { identityPolicies: [modern] }).allowed, false);
  assert.equal(evaluate(request('s3:PutObject', 'arn:aws:s3:::home/ci/x', {}, ci), { identityPolicies: [modern] }).allowed, true);
  assert.equal(evaluate(request('s3:PutObject', 'arn:aws:s3:::home/root/x', {}, root), { identityPolicies: [modern] }).allowed, false, 'root has no user name');
  assert.equal(
    evaluate(request('s3:PutObject', 'arn:aws:s3:::home/carol/x', { 'aws:username': 'carol' }), { identityPolicies: [modern] }).allowed,
    true,
    'the context overrides the principal',
  );
  assert.equal(evaluate(request('s3:PutObject', 'arn:aws:s3:::home/alice/notes'), { identityPolicies: [legacy] }).allowed, false);
  assert.equal(evaluate(request('s3:PutObject', 'arn:aws:s3:::home/${aws:username}/x'), { identityPolicies: [legacy] }).allowed, true, '2008-10-17 reads ${...} literally');
});

test('a multivalued context key is not substituted for a variable', () => {
  const p = policy('p', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:userid}/*' }]);
  assert.equal(evaluate(request('s3:GetObject', 'arn:aws:s3:::home/a/x', { 'aws:userid': ['a', 'b'] }), { identityPolicies: [p] }).allowed, false);
  assert.equal(evaluate(request('s3:GetObject', 'arn:aws:s3:::home/a/x', { 'aws:userid': 'a' }), { identityPolicies: [p] }).allowed, true);
});

test('object lock condition keys: deny deletes of versions with retention left', () => {
  const p = [
    allowAll,
    policy('inline:lock-guard', [{ Sid: 'KeepLocked', Effect: 'Deny', Action: 's3:DeleteObjectVersion', Resource: '*', Condition: { NumericGreaterThan: { 's3:object-lock-remaining-retention-days': '0' } } }]),
  ];
  assert.equal(evaluate(request('s3:DeleteObjectVersion', OBJECT, { 's3:object-lock-remaining-retention-days': '12' }), { identityPolicies: p }).reason, 'explicit-deny');
  assert.equal(evaluate(request('s3:DeleteObjectVersion', OBJECT, { 's3:object-lock-remaining-retention-days': '0' }), { identityPolicies: p }).reason, 'allow');
});
