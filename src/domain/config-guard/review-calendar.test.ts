import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addMonthsUtc, DEFAULT_REVIEW_FREQUENCIES, parseReviewFrequencies, reviewStandings } from './review-calendar.js';

const DAY = 86_400_000;

test('quarterly components are due 14 days before three months from the first approval, overdue after; a sign-off restarts the period', () => {
  const approvedMs = Date.UTC(2031, 0, 15, 9);
  const first = { atMs: approvedMs, by: 'bob' };
  const standing = (nowMs: number, signOffs = new Map<string, { atMs: number; by: string }>()) =>
    reviewStandings(DEFAULT_REVIEW_FREQUENCIES, signOffs, first, nowMs).find((s) => s.component === 'network')!;
  assert.equal(standing(approvedMs + 30 * DAY).status, 'ok');
  assert.equal(standing(approvedMs + 30 * DAY).dueMs, Date.UTC(2031, 3, 15, 9));
  assert.equal(standing(Date.UTC(2031, 3, 2)).status, 'due');
  assert.equal(standing(Date.UTC(2031, 3, 15, 9)).status, 'overdue');
  const signed = new Map([['network', { atMs: Date.UTC(2031, 3, 20), by: 'carol' }]]);
  assert.equal(standing(Date.UTC(2031, 3, 21), signed).status, 'ok');
  assert.equal(standing(Date.UTC(2031, 3, 21), signed).anchor?.kind, 'sign-off');
  assert.equal(standing(Date.UTC(2031, 3, 21), signed).dueMs, Date.UTC(2031, 6, 20));
  // The policy itself is annual; nothing is scheduled before the first approval.
  assert.equal(reviewStandings(DEFAULT_REVIEW_FREQUENCIES, new Map(), first, Date.UTC(2031, 3, 21)).find((s) => s.component === 'policy')?.status, 'ok');
  assert.ok(reviewStandings(DEFAULT_REVIEW_FREQUENCIES, new Map(), undefined, approvedMs).every((s) => s.status === 'not-scheduled'));
});

test('months are calendar months in UTC, clamped to the end of shorter months', () => {
  assert.equal(addMonthsUtc(Date.UTC(2031, 0, 31), 1), Date.UTC(2031, 1, 28));
  assert.equal(addMonthsUtc(Date.UTC(2031, 10, 30, 23, 59), 3), Date.UTC(2032, 1, 29, 23, 59));
  assert.equal(addMonthsUtc(Date.UTC(2031, 5, 1), 12), Date.UTC(2032, 5, 1));
});

test('reviewFrequencies overrides defaults and names the key of a bad value', () => {
  const parsed = parseReviewFrequencies({ dns: 'quarterly', container: 'never', database: 6 });
  assert.equal(parsed.dns, 3);
  assert.equal(parsed.container, undefined);
  assert.equal(parsed.database, 6);
  assert.equal(parsed.network, 3);
  assert.equal(parsed.policy, 12);
  assert.throws(() => parseReviewFrequencies({ dsn: 'quarterly' }), /reviewFrequencies\.dsn is not a component/);
  assert.throws(() => parseReviewFrequencies({ dns: 'weekly' }), /reviewFrequencies\.dns = "weekly" is not a frequency/);
  assert.throws(() => parseReviewFrequencies({ dns: 0 }), /reviewFrequencies\.dns = 0/);
  assert.throws(() => parseReviewFrequencies([]), /must be an object/);
});
