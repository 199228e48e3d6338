import { type KeyObject, createHmac, createSecretKey, hash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

/** Hex SHA-256 of the empty string; the "previous headers" hash in every chunk string-to-sign. */
export const EMPTY_SHA256_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Uint8Array): string {
  // crypto.hash: one call, no Hash object (Node >= 20.12; package.json asks for >= 20.19).
  return hash('sha256', data, 'hex');
}

/**
 * The derived SigV4 signing key (kSigning). It is as good as the secret for one day, one region
 * and one service, so it never prints: logging a request context must not leak it.
 */
export class SigningKey {
  /** A KeyObject, not the Buffer: createHmac imports a Buffer key on every call, which costs more than the HMAC. */
  readonly #key: KeyObject;

  constructor(key: Buffer) {
    this.#key = createSecretKey(key);
  }

  /** HMAC-SHA256 of `stringToSign` (UTF-8) under this key: the 32-byte signature. */
  sign(stringToSign: string): Buffer {
    return createHmac('sha256', this.#key).update(stringToSign, 'utf8').digest();
  }

  toString(): string {
    return '**redacted**';
  }

  toJSON(): string {
    return '**redacted**';
  }

  [inspect.custom](): string {
    return 'SigningKey(**redacted**)';
  }
}

/**
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (Signing key)
 */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): SigningKey {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date, 'utf8').digest();
  const kRegion = createHmac('sha256', kDate).update(region, 'utf8').digest();
  const kService = createHmac('sha256', kRegion).update(service, 'utf8').digest();
  return new SigningKey(createHmac('sha256', kService).update('aws4_request', 'utf8').digest());
}

/**
 * Derivation costs four HMACs on every request, and a client uses the same key for a whole day,
 * so keys are memoised. Bounded, least-recently-used first out, so a flood of distinct
 * (key, date, region) triples cannot grow memory.
 */
export class SigningKeyCache {
  readonly #entries = new Map<string, SigningKey>();
  readonly #capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(secret: string, date: string, region: string, service: string): SigningKey {
    // NUL cannot occur in a date, region or service that passed parsing, so the id is unambiguous.
    const id = `${date}\0${region}\0${service}\0${secret}`;
    const hit = this.#entries.get(id);
    if (hit !== undefined) {
      this.#entries.delete(id);
      this.#entries.set(id, hit);
      return hit;
    }
    const key = deriveSigningKey(secret, date, region, service);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(id, key);
    return key;
  }
}

const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/;

/** Constant-time comparison of a computed signature with the hex one the client sent. */
export function signatureMatches(expected: Buffer, providedHex: string): boolean {
  if (!HEX_SIGNATURE.test(providedHex)) return false;
  const provided = Buffer.from(providedHex, 'hex');
  return provided.length === expected.length && timingSafeEqual(provided, expected);
}
