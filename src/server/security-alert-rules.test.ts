import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { S3RequestRecord } from '../protocol/s3/request-record.js';
import { SecurityAlertRules } from './security-alert-rules.js';

const T0 = Date.UTC(2031, 2, 3);

function record(overrides: Partial<S3RequestRecord>): S3RequestRecord {
  return {
    requestId: 'R1',
    method: 'PUT',
    operation: 'PutObject',
    action: 's3:PutObject',
    bucket: 'backups',
    key: 'k',
    versionId: undefined,
    principal: { name: 'writer', kind: 'service' },
    accessKeyId: 'HFWRITER000000000001',
    status: 200,
    errorCode: undefined,
    errorMessage: undefined,
    sourceIp: '10.0.0.5',
    userAgent: 'test',
    startedMs: T0,
    durationSeconds: 0.001,
    bytesIn: 0,
    bytesOut: 0,
    denial: undefined,
    bypassGovernance: false,
    notes: [],
    ...overrides,
  };
}

const rules = (r = new SecurityAlertRules()) => (rec: S3RequestRecord, nowMs = T0) => r.alertsFor(rec, [], nowMs).map((a) => a.rule);

test('ordinary traffic raises nothing', () => {
  assert.deepEqual(rules()(record({})), []);
});

test('Object Lock configuration changes alert whether allowed or refused', () => {
  const check = rules();
  assert.deepEqual(check(record({ operation: 'PutObjectLockConfiguration' })), ['object-lock-configuration-change']);
  const refused = new SecurityAlertRules().alertsFor(record({ operation: 'PutObjectLockConfiguration', status: 403, errorCode: 'ApprovalRequired', errorMessage: 'needs a second admin' }), [], T0);
  assert.equal(refused[0]?.rule, 'object-lock-configuration-change');
  assert.match(refused[0]?.title ?? '', /^(Refused|Denied|Blocked)/i);
});

test('Object Lock refusals and governance bypasses alert; a bypass that failed does not count as one', () => {
  const check = rules();
  assert.deepEqual(
    check(record({ operation: 'DeleteObject', status: 403, errorCode: 'AccessDenied', notes: [{ kind: 'locked-delete-denied', key: 'k', versionId: 'v1', message: 'locked' }] })),
    ['locked-delete-denied'],
  );
  assert.deepEqual(check(record({ operation: 'DeleteObject', status: 204, bypassGovernance: true })), ['governance-bypass']);
  assert.deepEqual(check(record({ operation: 'DeleteObject', status: 403, errorCode: 'AccessDenied', bypassGovernance: true })), []);
});

test('a burst of failed signatures from one source alerts once; root use at most once per window', () => {
  const check = rules();
  const failures: string[] = [];
  for (let i = 0; i < 25; i++) {
    failures.push(...check(record({ principal: undefined, status: 403, errorCode: 'SignatureDoesNotMatch' }), T0 + i * 100));
  }
  assert.deepEqual(failures, ['auth-failure-burst']);
  const root = rules();
  const asRoot = record({ principal: { name: 'root', kind: 'root' } });
  assert.deepEqual(root(asRoot, T0), ['root-credential-use']);
  assert.deepEqual(root(asRoot, T0 + 60_000), []);
  assert.deepEqual(root(asRoot, T0 + 11 * 60_000), ['root-credential-use']);
});

test('admin changes: keys, policies, bounds and approvals each have their alert', () => {
  const r = new SecurityAlertRules();
  const admin = record({ operation: 'admin:CreateAccessKey', principal: { name: 'alice', kind: 'user' } });
  const alerts = r.alertsFor(
    admin,
    [
      { kind: 'access-key-created', target: 'identity/writer', details: { accessKeyId: 'HFNEW' } },
      { kind: 'role-attached', target: 'identity/writer', details: { role: 'pruner' } },
      { kind: 'retention-bounds', target: 'bucket/backups', details: { minDays: 7, maxDays: 90 } },
      { kind: 'change-approved', target: 'change/chg-1', details: { bucket: 'backups', summary: 'Raising the maximum', requestedBy: 'bob' } },
    ],
    T0,
  );
  assert.deepEqual(alerts.map((a) => a.rule), ['access-key-created', 'policy-change', 'retention-bounds-change', 'object-lock-configuration-change']);
  assert.match(alerts[3]?.summary ?? '', /approved pending change: Raising the maximum \(requested by bob\)/);
});
