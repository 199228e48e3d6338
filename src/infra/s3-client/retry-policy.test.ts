import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelayMs, withRetries } from './retry-policy.js';
import { S3RequestError, S3TransportError } from './s3-client-errors.js';

const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 300 };

describe('retries with backoff', () => {
  test('delays double from the base, capped, half fixed and half jitter', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelayMs(n, policy, () => 0)), [50, 100, 150, 150]);
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelayMs(n, policy, () => 0.999999)), [100, 200, 300, 300]);
  });

  test('5xx answers and connection resets are retried until the attempts are used up', async () => {
    const slept: number[] = [];
    let calls = 0;
    const failures = [new S3RequestError('PutObject', 503, 'SlowDown', 's3://b/k', '', undefined), new S3TransportError('PutObject', 's3://b/k', 'socket hang up', 'ECONNRESET')];
    const result = await withRetries(
      async () => {
        calls++;
        if (calls <= failures.length) throw failures[calls - 1]!;
        return 'ok';
      },
      policy,
      async (ms) => {
        slept.push(ms);
      },
      () => 0,
    );
    assert.equal(result, 'ok');
    assert.equal(calls, 3);
    assert.deepEqual(slept, [50, 100]);

    calls = 0;
    await assert.rejects(
      withRetries(async () => {
        calls++;
        throw new S3RequestError('GetObject', 500, 'InternalError', 's3://b/k', '', undefined);
      }, policy, async () => undefined),
      (e: unknown) => e instanceof S3RequestError && e.status === 500,
    );
    assert.equal(calls, 4);
  });

  test('4xx answers, TLS failures and foreign errors are not retried', async () => {
    for (const error of [
      new S3RequestError('PutObject', 403, 'AccessDenied', 's3://b/k', '', undefined),
      new S3RequestError('PutObject', 412, 'PreconditionFailed', 's3://b/k', '', undefined),
      new S3TransportError('PutObject', 's3://b/k', 'self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'),
      new Error('a bug'),
    ]) {
      let calls = 0;
      await assert.rejects(
        withRetries(async () => {
          calls++;
          throw error;
        }, policy, async () => undefined),
        (e: unknown) => e === error,
      );
      assert.equal(calls, 1, error.message);
    }
  });
});
