// Reproducible randomness for the durability and robustness tests: a seeded PRNG for the
// workload's choices, and object contents derived from a label, so that a failure can be replayed
// from the seed printed in its message and no content has to be kept in memory to verify it.
import { createCipheriv, createHash, randomInt } from 'node:crypto';
import { Readable } from 'node:stream';

/** mulberry32: tiny, fast, and good enough to drive a workload (not for anything secret). */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  /** A seed for a derived generator, so each concurrent actor draws its own reproducible sequence. */
  derive(...parts: readonly (string | number)[]): number {
    return createHash('sha256').update(`${this.#state}:${parts.join(':')}`).digest().readUInt32BE(0);
  }
}

/**
 * The seed from environment variable `name` (decimal), or a fresh random one. Tests print it in
 * every failure message together with `name=<seed>`, which replays the same workload.
 */
export function seedFromEnv(name: string): number {
  const given = process.env[name];
  if (given === undefined || given === '') return randomInt(0, 2 ** 32);
  if (!/^\d{1,10}$/.test(given) || Number(given) >= 2 ** 32) {
    throw new Error(`${name} must be a decimal 32-bit seed, got ${JSON.stringify(given)}`);
  }
  return Number(given);
}

const ZEROS = Buffer.alloc(1024 * 1024);

/**
 * The AES-256-CTR keystream keyed by SHA-256(label): deterministic, incompressible bytes produced
 * at memory speed. The same label always yields the same bytes, so content can be regenerated or
 * identified by its hash instead of being kept.
 */
function keystream(label: string) {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(label).digest(), Buffer.alloc(16));
}

/** `size` bytes of the content named by `label`. */
export function seededBytes(label: string, size: number): Buffer {
  const cipher = keystream(label);
  const parts: Buffer[] = [];
  for (let left = size; left > 0; left -= ZEROS.length) parts.push(cipher.update(ZEROS.subarray(0, Math.min(left, ZEROS.length))));
  return Buffer.concat(parts, size);
}

/** The same bytes as `seededBytes(label, size)`, streamed in 1 MiB chunks: never held in memory at once. */
export function seededStream(label: string, size: number): Readable {
  const cipher = keystream(label);
  let left = size;
  return new Readable({
    highWaterMark: 2,
    objectMode: false,
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, ZEROS.length);
      left -= n;
      this.push(cipher.update(ZEROS.subarray(0, n)));
    },
  });
}

export function sha256Hex(...parts: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}
