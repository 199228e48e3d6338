import type { Clock } from '../infra/clock.js';

/**
 * The clock Object Lock asks "has this retention expired yet?". It fails closed:
 *
 * - a wall clock set backwards only makes retention look longer, so it is used as it is;
 * - a wall clock that jumps forward by more than the tolerance — while running, measured against
 *   the monotonic clock, or across a restart, measured against the last time it trusted — is not
 *   believed: expiry is judged by the last trusted time plus monotonic time since, until an
 *   operator confirms the wall clock. Jumping the clock forward therefore cannot unlock anything
 *   early; it raises an alert instead.
 *
 * Timestamps of new versions and new retention dates still use the wall clock, so confirming
 * the time later never makes a version written meanwhile expire at once.
 */
export interface TrustedTimeStore {
  load(): Promise<number | undefined>;
  save(ms: number): Promise<void>;
}

export interface ClockJump {
  readonly wallMs: number;
  readonly trustedMs: number;
}

export class RetentionClock implements Clock {
  readonly #wall: Clock;
  readonly #monotonicMs: () => number;
  readonly #toleranceMs: number;
  readonly #store: TrustedTimeStore;
  readonly #onJump: (jump: ClockJump) => void;
  /** Trusted time at `#baseMonotonic`; trusted time now = base + monotonic elapsed. */
  #baseTrusted = 0;
  #baseMonotonic = 0;
  #paused = false;

  constructor(options: {
    wall: Clock;
    monotonicMs: () => number;
    toleranceMs: number;
    store: TrustedTimeStore;
    onJump: (jump: ClockJump) => void;
  }) {
    this.#wall = options.wall;
    this.#monotonicMs = options.monotonicMs;
    this.#toleranceMs = options.toleranceMs;
    this.#store = options.store;
    this.#onJump = options.onJump;
  }

  /** Loads the last trusted time; `confirmWallClock` is the operator's word that the wall clock is right. */
  async start(confirmWallClock: boolean): Promise<void> {
    const wall = this.#wall.nowMs();
    const lastTrusted = await this.#store.load();
    this.#baseMonotonic = this.#monotonicMs();
    if (!confirmWallClock && lastTrusted !== undefined && wall > lastTrusted + this.#toleranceMs) {
      this.#baseTrusted = lastTrusted;
      this.#pause(wall);
    } else {
      this.#baseTrusted = wall;
    }
    await this.persist();
  }

  get paused(): boolean {
    return this.#paused;
  }

  nowMs(): number {
    const trusted = this.#baseTrusted + (this.#monotonicMs() - this.#baseMonotonic);
    const wall = this.#wall.nowMs();
    if (this.#paused) return Math.min(wall, trusted);
    if (wall > trusted + this.#toleranceMs) {
      this.#pause(wall);
      return trusted;
    }
    // Small drift (NTP slews) is followed; a clock set back is followed too — it only delays expiry.
    this.#baseTrusted = wall;
    this.#baseMonotonic = this.#monotonicMs();
    return wall;
  }

  /** The operator confirms the wall clock: retention expiry resumes at wall-clock time. */
  async confirmWallClock(): Promise<void> {
    this.#paused = false;
    this.#baseTrusted = this.#wall.nowMs();
    this.#baseMonotonic = this.#monotonicMs();
    await this.persist();
  }

  /** Saves the current trusted time, so a restart can tell a jump from a pause. */
  async persist(): Promise<void> {
    await this.#store.save(this.#paused ? this.#baseTrusted + (this.#monotonicMs() - this.#baseMonotonic) : this.nowMs());
  }

  #pause(wall: number): void {
    const trusted = this.#baseTrusted + (this.#monotonicMs() - this.#baseMonotonic);
    this.#paused = true;
    this.#onJump({ wallMs: wall, trustedMs: trusted });
  }
}
