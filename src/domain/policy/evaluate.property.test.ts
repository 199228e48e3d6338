import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type AuthorizationRequest, evaluate } from './evaluate.js';
import { type NamedPolicy, parsePolicy } from './policy-document.js';

/**
 * Properties of the evaluation logic over random policies built from a small vocabulary, so that
 * actions, resources and conditions collide often enough to matter.
 */

const ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:ListBucket', 'holdfast:ListIdentities'];
const ACTION_PATTERNS = [...ACTIONS, 's3:*', 's3:Get*', 's3:Delete*', 's3:*Object', '*', 'holdfast:*', 's3:?utObject'];
const RESOURCES = ['arn:aws:s3:::a', 'arn:aws:s3:::a/x', 'arn:aws:s3:::a/y/z', 'arn:aws:s3:::b/x'];
const RESOURCE_PATTERNS = [...RESOURCES, '*', 'arn:aws:s3:::a/*', 'arn:aws:s3:::*', 'arn:aws:s3:::?/x', 'arn:aws:s3:::a*'];
const CONDITIONS = [
  undefined,
  { Bool: { 'aws:SecureTransport': 'true' } },
  { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
  { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
  { StringLikeIfExists: { 's3:prefix': 'a*' } },
];

const statementOver = (actionPatterns: readonly string[]) =>
  fc.record({
    Effect: fc.constantFrom('Allow', 'Deny'),
    negateAction: fc.boolean(),
    actions: fc.subarray([...actionPatterns], { minLength: 1, maxLength: 3 }),
    negateResource: fc.boolean(),
    resources: fc.subarray(RESOURCE_PATTERNS, { minLength: 1, maxLength: 2 }),
    condition: fc.constantFrom(...CONDITIONS),
  });
const statement = statementOver(ACTION_PATTERNS);
/** Bucket policies govern S3 actions only. */
const s3Statement = statementOver(ACTION_PATTERNS.filter((a) => !a.startsWith('holdfast:')));
type StatementSpec = typeof statement extends fc.Arbitrary<infer T> ? T : never;

function toJson(spec: StatementSpec): object {
  return {
    Effect: spec.Effect,
    [spec.negateAction ? 'NotAction' : 'Action']: spec.actions,
    [spec.negateResource ? 'NotResource' : 'Resource']: spec.resources,
    ...(spec.condition === undefined ? {} : { Condition: spec.condition }),
  };
}

function named(name: string, statements: readonly StatementSpec[]): NamedPolicy {
  return { name, document: parsePolicy({ Version: '2012-10-17', Statement: statements.map(toJson) }, { kind: 'identity' }) };
}

const policies = fc.array(fc.array(statement, { minLength: 1, maxLength: 4 }), { maxLength: 3 });
const requests = fc.record({
  action: fc.constantFrom(...ACTIONS),
  resource: fc.constantFrom(...RESOURCES),
  secure: fc.constantFrom('true', 'false', undefined),
  ip: fc.constantFrom('10.1.2.3', '::ffff:10.0.0.9', '192.0.2.1', '2001:db8::1', undefined),
});

function toRequest(r: { action: string; resource: string; secure: string | undefined; ip: string | undefined }): AuthorizationRequest {
  const context = new Map<string, string>();
  if (r.secure !== undefined) context.set('aws:SecureTransport', r.secure);
  if (r.ip !== undefined) context.set('aws:SourceIp', r.ip);
  return { principal: { arn: 'arn:holdfast:iam:::user/p', name: 'p', kind: 'user' }, action: r.action, resource: r.resource, context };
}

const build = (specs: readonly (readonly StatementSpec[])[]) => specs.map((s, i) => named(`p${i}`, s));

test('adding a Deny statement never turns a deny into an allow, and an applicable Deny always wins', () => {
  fc.assert(
    fc.property(policies, statement, requests, (base, extra, r) => {
      const request = toRequest(r);
      const before = evaluate(request, { identityPolicies: build(base) });
      const deny = named('extra', [{ ...extra, Effect: 'Deny' }]);
      const after = evaluate(request, { identityPolicies: [...build(base), deny] });
      if (after.allowed) assert.equal(before.allowed, true);
      if (before.reason === 'explicit-deny') assert.equal(after.reason, 'explicit-deny');
      // A Deny that applies to the request wins, wherever it sits.
      if (evaluate(request, { identityPolicies: [deny] }).reason === 'explicit-deny') assert.equal(after.reason, 'explicit-deny');
    }),
    { numRuns: 1500 },
  );
});

test('adding an Allow statement never turns an allow into a deny, and never overrides an explicit Deny', () => {
  fc.assert(
    fc.property(policies, statement, requests, (base, extra, r) => {
      const request = toRequest(r);
      const before = evaluate(request, { identityPolicies: build(base) });
      const after = evaluate(request, { identityPolicies: [...build(base), named('extra', [{ ...extra, Effect: 'Allow' }])] });
      if (before.allowed) assert.equal(after.allowed, true);
      if (before.reason === 'explicit-deny') assert.equal(after.reason, 'explicit-deny');
    }),
    { numRuns: 1500 },
  );
});

test('the order of policies and statements does not change the outcome', () => {
  fc.assert(
    fc.property(policies, requests, (base, r) => {
      const request = toRequest(r);
      const forward = evaluate(request, { identityPolicies: build(base) });
      const backward = evaluate(request, { identityPolicies: build(base.map((s) => [...s].reverse()).reverse()) });
      assert.equal(forward.allowed, backward.allowed);
      assert.equal(forward.reason, backward.reason);
    }),
    { numRuns: 1000 },
  );
});

test('an identity policy or the same statements in a bucket policy naming the principal decide alike', () => {
  fc.assert(
    fc.property(fc.array(s3Statement, { minLength: 1, maxLength: 4 }), requests, (specs, r) => {
      const request = toRequest(r);
      const asIdentity = evaluate(request, { identityPolicies: [named('p', specs)] });
      const bucket = parsePolicy({ Version: '2012-10-17', Statement: specs.map((s) => ({ ...toJson(s), Principal: { AWS: 'arn:holdfast:iam:::user/p' } })) }, { kind: 'bucket' });
      const asBucket = evaluate(request, { identityPolicies: [], bucketPolicy: { name: 'bucket-policy', document: bucket } });
      assert.equal(asIdentity.reason, asBucket.reason);
    }),
    { numRuns: 800 },
  );
});

test('NotAction is Action over the complement (within the action vocabulary)', () => {
  fc.assert(
    fc.property(fc.subarray(ACTION_PATTERNS, { minLength: 1, maxLength: 3 }), fc.constantFrom(...ACTIONS), (patterns, action) => {
      const notAction = named('n', [{ Effect: 'Allow', negateAction: true, actions: patterns, negateResource: false, resources: ['*'], condition: undefined }]);
      const positive = named('p', [{ Effect: 'Allow', negateAction: false, actions: patterns, negateResource: false, resources: ['*'], condition: undefined }]);
      const request = toRequest({ action, resource: RESOURCES[0] as string, secure: undefined, ip: undefined });
      assert.notEqual(evaluate(request, { identityPolicies: [notAction] }).allowed, evaluate(request, { identityPolicies: [positive] }).allowed);
    }),
    { numRuns: 500 },
  );
});
