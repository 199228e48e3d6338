/**
 * When to try a failed delivery again: exponential backoff with "equal jitter" — half the
 * exponential delay fixed, half random — as in the AWS Architecture Blog's "Exponential Backoff
 * And Jitter". The fixed half keeps a dead receiver from being hammered; the random half keeps
 * many queued alerts from retrying in lock-step when it comes back.
 */
export interface RetryBackoff {
  /** Delay after the first failure (default 5 s). */
  readonly baseDelayMs: number;
  /** Upper bound of any delay (default 15 min). */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_BACKOFF: RetryBackoff = Object.freeze({ baseDelayMs: 5_000, maxDelayMs: 15 * 60_000 });

/**
 * @param failedAttempts failures so far, including the one just recorded (≥ 1)
 * @param random a number in [0, 1), injected for tests
 */
export function retryDelayMs(failedAttempts: number, backoff: RetryBackoff, random: () => number): number {
  const exponent = Math.min(Math.max(failedAttempts, 1) - 1, 40);
  const ceiling = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** exponent);
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}
