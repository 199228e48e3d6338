import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { s3errors } from '../../../domain/errors.js';
import type { ChunkSigningContext } from './chunk-signature.js';

/**
 * What the signature says about the body, from `x-amz-content-sha256` (or its presigned
 * equivalent). https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
 */
export type PayloadVerification =
  /** UNSIGNED-PAYLOAD, and presigned requests that name no payload hash. */
  | { readonly kind: 'unsigned' }
  /** The body must hash to this (lower-case hex); see createSha256PayloadVerifier. */
  | { readonly kind: 'sha256'; readonly expectedHex: string }
  /** aws-chunked with chunk signatures; see createAwsChunkedDecoder. */
  | { readonly kind: 'streaming-signed'; readonly trailer: boolean; readonly context: ChunkSigningContext }
  /** aws-chunked without signatures, with a trailing checksum; see createAwsChunkedDecoder. */
  | { readonly kind: 'streaming-unsigned-trailer' };

const PAYLOAD_LITERALS: ReadonlySet<string> = new Set([
  'UNSIGNED-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
]);
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** The x-amz-content-sha256 values S3 accepts; anything else is InvalidArgument. */
export function validPayloadHash(value: string): string {
  if (PAYLOAD_LITERALS.has(value) || SHA256_HEX.test(value)) return value;
  throw s3errors.invalidArgument(
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, ' +
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER, or a valid sha256 value.',
    'x-amz-content-sha256', value);
}

export function payloadVerification(payloadHash: string, context: ChunkSigningContext): PayloadVerification {
  switch (payloadHash) {
    case 'UNSIGNED-PAYLOAD': return Object.freeze({ kind: 'unsigned' });
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD': return Object.freeze({ kind: 'streaming-signed', trailer: false, context: Object.freeze(context) });
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER': return Object.freeze({ kind: 'streaming-signed', trailer: true, context: Object.freeze(context) });
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER': return Object.freeze({ kind: 'streaming-unsigned-trailer' });
    default: return Object.freeze({ kind: 'sha256', expectedHex: payloadHash.toLowerCase() });
  }
}

/**
 * A pass-through that hashes the body and, at its end, fails with XAmzContentSHA256Mismatch
 * unless the hash is the signed one. Bytes flow through before the check, so the consumer
 * must treat the body as authentic only once this stream has ended without error.
 */
export function createSha256PayloadVerifier(expectedHex: string): Transform {
  const hash: Hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback): void {
      callback(hash.digest('hex') === expectedHex.toLowerCase() ? null : s3errors.contentSha256Mismatch());
    },
  });
}
