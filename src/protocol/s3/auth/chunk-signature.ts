import { EMPTY_SHA256_HEX, type SigningKey } from './signing-key.js';

/**
 * What a signed aws-chunked body needs from the request that carried it: every chunk signature
 * chains from the previous one, starting at the request's own (seed) signature.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */
export interface ChunkSigningContext {
  readonly signingKey: SigningKey;
  /** The request timestamp as signed, `20130524T000000Z`. */
  readonly amzDate: string;
  /** `20130524/us-east-1/s3/aws4_request` */
  readonly scope: string;
  /** The request's signature, lower-case hex: the "previous signature" of the first chunk. */
  readonly seedSignature: string;
}

/** AWS4-HMAC-SHA256-PAYLOAD, date, scope, previous signature, sha256(""), sha256(chunk data). */
export function chunkStringToSign(context: ChunkSigningContext, previousSignature: string, chunkSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${context.amzDate}\n${context.scope}\n${previousSignature}\n${EMPTY_SHA256_HEX}\n${chunkSha256Hex}`;
}

/**
 * AWS4-HMAC-SHA256-TRAILER, date, scope, previous (final chunk's) signature, sha256 of the
 * trailing header lines, each `name:value\n`.
 */
export function trailerStringToSign(context: ChunkSigningContext, previousSignature: string, trailerSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${context.amzDate}\n${context.scope}\n${previousSignature}\n${trailerSha256Hex}`;
}
