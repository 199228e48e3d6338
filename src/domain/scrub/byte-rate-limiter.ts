/**
 * Paces a reader to at most `bytesPerSecond` on average, so a background pass (the integrity
 * scrub) leaves the disk to the requests it shares it with. After an idle gap the allowance
 * restarts from now instead of letting the reader burst through the saved-up time: at most one
 * second's worth runs ahead of the pace.
 */
export class ByteRateLimiter {
  readonly #bytesPerSecond: number;
  readonly #monotonicMs: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** When the bytes taken so far may have been read at the configured pace. */
  #paceMs: number | undefined;
  #sleptMs = 0;

  constructor(bytesPerSecond: number, options: { monotonicMs?: () => number; sleep?: (ms: number) => Promise<void> } = {}) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`bytesPerSecond must be positive, got ${bytesPerSecond}`);
    this.#bytesPerSecond = bytesPerSecond;
    this.#monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Total time spent waiting, for the record (how much the throttle slowed the pass). */
  get sleptMs(): number {
    return this.#sleptMs;
  }

  /** Accounts for `bytes` just read; resolves when the reader may go on. */
  async take(bytes: number): Promise<void> {
    const now = this.#monotonicMs();
    const start = this.#paceMs === undefined || this.#paceMs < now - 1000 ? now - 1000 : this.#paceMs;
    this.#paceMs = start + (bytes * 1000) / this.#bytesPerSecond;
    const wait = this.#paceMs - now;
    if (wait > 0) {
      this.#sleptMs += wait;
      await this.#sleep(wait);
    }
  }
}
