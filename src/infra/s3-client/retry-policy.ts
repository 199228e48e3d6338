import { isRetryable } from './s3-client-errors.js';

/**
 * How often and how patiently a request is tried again after a transient failure (see
 * `isRetryable`): exponential backoff with "equal jitter" — half of each delay fixed, half random
 * (AWS Architecture Blog, "Exponential Backoff And Jitter"), so many archivers that lost the same
 * server do not come back in lock-step.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retries). */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000 });

/** Waits; injected so tests run without real delays. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The delay before attempt `failedAttempts + 1`, given a random number in [0, 1). */
export function backoffDelayMs(failedAttempts: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(failedAttempts, 1) - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Runs `attempt` until it succeeds, fails with an error that is not retryable, or the policy's
 * attempts are used up; the last error is thrown as it is.
 */
export async function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
  sleep: Sleep = realSleep,
  random: () => number = Math.random,
  retryable: (error: unknown) => boolean = isRetryable,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.attempts || !retryable(error)) throw error;
      await sleep(backoffDelayMs(n, policy, random));
    }
  }
}
