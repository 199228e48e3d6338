import { isIPv4, isIPv6 } from 'node:net';

/**
 * Spots password-guessing: N authentication failures from one source within M milliseconds
 * give ONE burst, then the source is quiet for a cooldown (further failures are still counted
 * towards the next burst, so an attack that goes on is reported again after the cooldown).
 *
 * A "source" is an IPv4 address, or the /64 prefix of an IPv6 address: one host usually owns a
 * whole /64 (RFC 4291 §2.5.1 interface identifiers; SLAAC, RFC 4862) and can rotate through it
 * at will, so per-address counting would never fire. IPv4-mapped IPv6 addresses count as IPv4.
 *
 * Memory is bounded: at most `maxSources` sources, each with at most `threshold` timestamps;
 * the least recently seen source is forgotten first. Not covered here: a guesser spread over
 * many sources, each below the threshold.
 */
export interface AuthFailureBurst {
  /** The address of the failure that completed the burst. */
  readonly sourceIp: string;
  /** What was counted: the IPv4 address or `<IPv6 /64 prefix>::/64`. */
  readonly sourceKey: string;
  readonly failures: number;
  readonly windowMs: number;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
  /** Distinct access key ids the failures named (at most 5, first seen first). */
  readonly accessKeyIds: readonly string[];
}

export interface AuthFailureBurstOptions {
  /** Failures within the window that make a burst (default 20). */
  readonly threshold?: number;
  /** Sliding window (default 60 s). */
  readonly windowMs?: number;
  /** No second burst for a source before this long after its last one (default 15 min). */
  readonly cooldownMs?: number;
  /** Sources remembered at once (default 10,000). */
  readonly maxSources?: number;
}

interface SourceState {
  /** Failure times within the window, oldest first, at most `threshold`. */
  times: number[];
  quietUntilMs: number;
  accessKeyIds: string[];
}

const MAX_ACCESS_KEY_IDS = 5;

export class AuthFailureBurstDetector {
  readonly #threshold: number;
  readonly #windowMs: number;
  readonly #cooldownMs: number;
  readonly #maxSources: number;
  /** Map iteration order is insertion order: re-inserting on use makes the first entry the least recently seen. */
  readonly #sources = new Map<string, SourceState>();

  constructor(options: AuthFailureBurstOptions = {}) {
    this.#threshold = positive(options.threshold ?? 20, 'threshold');
    this.#windowMs = positive(options.windowMs ?? 60_000, 'windowMs');
    this.#cooldownMs = Math.max(0, options.cooldownMs ?? 15 * 60_000);
    this.#maxSources = positive(options.maxSources ?? 10_000, 'maxSources');
  }

  /** Records one failed authentication; returns the burst it completes, if it does. */
  recordFailure(sourceIp: string, atMs: number, accessKeyId?: string): AuthFailureBurst | undefined {
    const key = sourceKey(sourceIp);
    let state = this.#sources.get(key);
    if (state === undefined) {
      if (this.#sources.size >= this.#maxSources) {
        const oldest = this.#sources.keys().next();
        if (oldest.done !== true) this.#sources.delete(oldest.value);
      }
      state = { times: [], quietUntilMs: -Infinity, accessKeyIds: [] };
    } else {
      this.#sources.delete(key);
    }
    this.#sources.set(key, state);

    const since = atMs - this.#windowMs;
    state.times = state.times.filter((t) => t > since);
    state.times.push(atMs);
    if (state.times.length > this.#threshold) state.times.shift();
    if (accessKeyId !== undefined && !state.accessKeyIds.includes(accessKeyId) && state.accessKeyIds.length < MAX_ACCESS_KEY_IDS) {
      state.accessKeyIds.push(accessKeyId);
    }
    if (state.times.length < this.#threshold || atMs < state.quietUntilMs) return undefined;

    const burst: AuthFailureBurst = {
      sourceIp,
      sourceKey: key,
      failures: state.times.length,
      windowMs: this.#windowMs,
      firstAtMs: state.times[0]!,
      lastAtMs: atMs,
      accessKeyIds: [...state.accessKeyIds],
    };
    state.times = [];
    state.accessKeyIds = [];
    state.quietUntilMs = atMs + this.#cooldownMs;
    return burst;
  }

  /** How many sources are remembered now (for tests and metrics). */
  get trackedSources(): number {
    return this.#sources.size;
  }
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`AuthFailureBurstDetector: ${name} must be a whole number ≥ 1`);
  return n;
}

/** IPv4 as is; IPv6 as its /64 prefix; anything else (a missing address) as is. */
export function sourceKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped !== null && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  const address = ip.split('%')[0]!;
  if (!isIPv6(address)) return ip;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, in lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  let text = address;
  const dotted = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted !== null) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[2]!.split('.').map(Number);
    text = `${dotted[1]!}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.map((g) => parseInt(g, 16).toString(16));
}
