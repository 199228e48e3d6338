/**
 * S3 carries checksums as standard, padded base64 of the raw big-endian digest (API reference,
 * PutObject `x-amz-checksum-crc32`: "the Base64 encoded, 32-bit CRC32 checksum of the object").
 */

import { type ChecksumAlgorithm, checksumDigestLength } from './checksum-algorithm.js';

/** Base64 of the digest, as S3 sends it in `x-amz-checksum-*` headers. */
export function encodeChecksum(digest: Buffer): string {
  return digest.toString('base64');
}

/** Canonical padded base64 only; the longest valid value (SHA256) is 44 characters. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4}){0,15}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The digest bytes of a client-sent value, or `undefined` unless it is canonical base64 of
 * exactly the algorithm's digest length. `Buffer.from(s, 'base64')` alone skips invalid
 * characters, accepts missing padding and ignores stray low bits, so several distinct strings
 * would decode to the same bytes; requiring the value to re-encode to itself rejects them all,
 * so a malformed header fails validation rather than being read as something the client never
 * sent.
 */
export function decodeChecksum(algorithm: ChecksumAlgorithm, base64: string): Buffer | undefined {
  const length = checksumDigestLength(algorithm);
  if (base64.length !== 4 * Math.ceil(length / 3) || !BASE64.test(base64)) return undefined;
  const digest = Buffer.from(base64, 'base64');
  if (digest.length !== length || digest.toString('base64') !== base64) return undefined;
  return digest;
}
