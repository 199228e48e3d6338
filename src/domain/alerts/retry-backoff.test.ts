import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RETRY_BACKOFF, retryDelayMs } from './retry-backoff.js';

test('backoff doubles from 5 s and stops at 15 min; jitter spans the upper half', () => {
  const low = (n: number) => retryDelayMs(n, DEFAULT_RETRY_BACKOFF, () => 0);
  const high = (n: number) => retryDelayMs(n, DEFAULT_RETRY_BACKOFF, () => 0.999999);
  assert.deepEqual([1, 2, 3, 4].map(low), [2_500, 5_000, 10_000, 20_000]);
  assert.deepEqual([1, 2, 3, 4].map(high), [5_000, 10_000, 20_000, 40_000]);
  assert.equal(high(9), 900_000);
  assert.equal(high(10_000), 900_000);
  assert.equal(low(10_000), 450_000);
});

test('backoff is never negative or NaN for odd inputs', () => {
  for (const n of [0, -3, 1, 63, 1e9]) {
    const d = retryDelayMs(n, { baseDelayMs: 10, maxDelayMs: 1_000 }, Math.random);
    assert.ok(Number.isFinite(d) && d >= 5 && d <= 1_000, `${n} -> ${d}`);
  }
});
