import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Error } from './errors.js';
import type { ObjectVersionRecord } from './model.js';
import { assertDeletable, assertRetentionChange, assertValidBounds, assertValidDefaultRetention, assertWithinBounds, retentionForNewVersion } from './object-lock.js';

const NOW = Date.UTC(2031, 5, 15, 12);
const HOUR = 3600 * 1000;
const denied = (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied';
const version = (lock: Partial<Pick<ObjectVersionRecord, 'retention' | 'legalHold'>>) =>
  ({ retention: undefined, legalHold: undefined, ...lock }) as ObjectVersionRecord;

test('compliance retention: no delete, no shortening, no mode switch, bypass or not; extension allowed', () => {
  const current = { mode: 'COMPLIANCE' as const, retainUntilMs: NOW + HOUR };
  for (const bypass of [false, true]) {
    assert.throws(() => assertDeletable(version({ retention: current }), NOW, bypass), denied);
    assert.throws(() => assertRetentionChange(current, { mode: 'COMPLIANCE', retainUntilMs: NOW + HOUR - 1 }, NOW, bypass), denied);
    assert.throws(() => assertRetentionChange(current, { mode: 'GOVERNANCE', retainUntilMs: NOW + 2 * HOUR }, NOW, bypass), denied);
    assert.throws(() => assertRetentionChange(current, undefined, NOW, bypass), denied);
  }
  assertRetentionChange(current, { mode: 'COMPLIANCE', retainUntilMs: NOW + 2 * HOUR }, NOW, false);
});

test('governance retention: protected unless bypassed; shortening and removal need the bypass', () => {
  const current = { mode: 'GOVERNANCE' as const, retainUntilMs: NOW + HOUR };
  assert.throws(() => assertDeletable(version({ retention: current }), NOW, false), denied);
  assertDeletable(version({ retention: current }), NOW, true);
  assert.throws(() => assertRetentionChange(current, undefined, NOW, false), denied);
  assertRetentionChange(current, undefined, NOW, true);
  assert.throws(() => assertRetentionChange(current, { mode: 'COMPLIANCE', retainUntilMs: NOW + HOUR }, NOW, false), denied);
  assertRetentionChange(current, { mode: 'GOVERNANCE', retainUntilMs: NOW + 3 * HOUR }, NOW, false);
});

test('a legal hold protects whatever the retention, and has no bypass', () => {
  assert.throws(() => assertDeletable(version({ legalHold: true }), NOW, true), denied);
  assert.throws(() => assertDeletable(version({ legalHold: true, retention: { mode: 'GOVERNANCE', retainUntilMs: NOW - 1 } }), NOW, true), denied);
  assertDeletable(version({ legalHold: false }), NOW, false);
});

test('expired retention no longer protects; a clock set back keeps it protected (fail closed)', () => {
  const retention = { mode: 'COMPLIANCE' as const, retainUntilMs: NOW };
  assertDeletable(version({ retention }), NOW, false);
  assert.throws(() => assertDeletable(version({ retention }), NOW - HOUR, false), denied);
});

test('new retention must lie in the future', () => {
  assert.throws(
    () => assertRetentionChange(undefined, { mode: 'GOVERNANCE', retainUntilMs: NOW - 1 }, NOW, false),
    (e: unknown) => e instanceof S3Error && e.code === 'InvalidArgument',
  );
});

test('default retention: explicit settings win; days and years count from creation', () => {
  const explicit = { mode: 'GOVERNANCE' as const, retainUntilMs: NOW + 5 };
  assert.deepEqual(retentionForNewVersion(explicit, { mode: 'COMPLIANCE', days: 1 }, NOW), explicit);
  assert.deepEqual(retentionForNewVersion(undefined, { mode: 'COMPLIANCE', days: 2 }, NOW), { mode: 'COMPLIANCE', retainUntilMs: NOW + 48 * HOUR });
  assert.equal(retentionForNewVersion(undefined, { mode: 'GOVERNANCE', years: 1 }, NOW)?.retainUntilMs, Date.UTC(2032, 5, 15, 12));
  assert.equal(retentionForNewVersion(undefined, undefined, NOW), undefined);
});

test('default retention periods are positive whole numbers up to 100 years', () => {
  const invalid = (e: unknown) => e instanceof S3Error && e.code === 'InvalidRetentionPeriod';
  assert.throws(() => assertValidDefaultRetention({ mode: 'GOVERNANCE', days: 0 }), invalid);
  assert.throws(() => assertValidDefaultRetention({ mode: 'GOVERNANCE', days: -3 }), invalid);
  assert.throws(() => assertValidDefaultRetention({ mode: 'GOVERNANCE', years: 101 }), invalid);
  assert.throws(() => assertValidDefaultRetention({ mode: 'GOVERNANCE', days: 36_501 }), invalid);
  assertValidDefaultRetention({ mode: 'COMPLIANCE', days: 90 });
});

test('retention bounds: outside the maximum or below the minimum is refused, naming the bound', () => {
  const invalid = (pattern: RegExp) => (e: unknown) => e instanceof S3Error && e.code === 'InvalidRequest' && pattern.test(e.message);
  const bounds = { minDays: 7, maxDays: 90 };
  assertWithinBounds({ mode: 'COMPLIANCE', retainUntilMs: NOW + 90 * 24 * HOUR }, bounds, NOW);
  assert.throws(() => assertWithinBounds({ mode: 'COMPLIANCE', retainUntilMs: NOW + 91 * 24 * HOUR }, bounds, NOW), invalid(/maximum retention of 90 days/));
  assert.throws(() => assertWithinBounds({ mode: 'GOVERNANCE', retainUntilMs: NOW + 24 * HOUR }, bounds, NOW), invalid(/minimum retention of 7 days/));
  assert.throws(() => assertWithinBounds(undefined, bounds, NOW), invalid(/at least 7 days/));
  assertWithinBounds(undefined, { maxDays: 90 }, NOW);
  assert.throws(() => assertValidBounds({ minDays: 10, maxDays: 5 }), (e: unknown) => e instanceof S3Error && e.code === 'InvalidArgument');
});
