import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertFingerprint, decideQueueing } from './coalescing.js';
import type { SecurityAlert } from './security-alert.js';

test('fingerprints: denied deletes and bypasses ignore the object; other rules and coalesce keys do not', () => {
  const subject = (key: string) => ({ identity: 'mallory', bucket: 'ledger', key, versionId: key });
  assert.equal(alertFingerprint({ rule: 'locked-delete-denied', subject: subject('a') }), alertFingerprint({ rule: 'locked-delete-denied', subject: subject('b') }));
  assert.equal(alertFingerprint({ rule: 'governance-bypass', subject: subject('a') }), alertFingerprint({ rule: 'governance-bypass', subject: subject('b') }));
  assert.notEqual(alertFingerprint({ rule: 'policy-change', subject: subject('a') }), alertFingerprint({ rule: 'policy-change', subject: subject('b') }));
  assert.notEqual(alertFingerprint({ rule: 'locked-delete-denied', subject: subject('a') }), alertFingerprint({ rule: 'governance-bypass', subject: subject('a') }));
  assert.notEqual(alertFingerprint({ rule: 'alert-delivery-failing', coalesceKey: 'hook' }), alertFingerprint({ rule: 'alert-delivery-failing', coalesceKey: 'mail' }));
  assert.notEqual(alertFingerprint({ rule: 'clock-anomaly', subject: { bucket: 'a' } }), alertFingerprint({ rule: 'clock-anomaly', subject: { key: 'a' } }));
  assert.match(alertFingerprint({ rule: 'clock-anomaly' }), /^[0-9a-f]{64}$/);
});

test('decideQueueing: now, then held until the quiet period ends, counted while held, now again after a quiet window', () => {
  const W = 600;
  const at = (atMs: number) => ({ id: `a${atMs}`, atMs }) as SecurityAlert;
  assert.deepEqual(decideQueueing(undefined, at(100), ['c'], W), { kind: 'insert', alert: at(100), channels: ['c'], dueMs: 100, quietUntilMs: 700 });
  const sent = { alertId: 'a100', dueMs: 100, quietUntilMs: 700, started: false };
  assert.deepEqual(decideQueueing(sent, at(100), ['c'], W), { kind: 'insert', alert: at(100), channels: ['c'], dueMs: 700, quietUntilMs: 1_300 });
  const held = { alertId: 'a150', dueMs: 700, quietUntilMs: 1_300, started: false };
  assert.deepEqual(decideQueueing(held, at(699), ['c'], W), { kind: 'add-occurrence', alertId: 'a150', atMs: 699 });
  assert.equal(decideQueueing({ ...held, started: true }, at(699), ['c'], W).kind, 'insert');
  assert.deepEqual(decideQueueing(held, at(1_300), ['c'], W), { kind: 'insert', alert: at(1_300), channels: ['c'], dueMs: 1_300, quietUntilMs: 1_900 });
});
