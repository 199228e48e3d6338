import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type ChecksumAlgorithm,
  createChecksum,
  decodeChecksum,
  encodeChecksum,
} from '../infra/checksum/checksum.js';
import { S3Error, s3errors } from './errors.js';
import type { StoredChecksum, StoredData } from './model.js';
import type { BlobStore } from './ports.js';

/**
 * What the client promised about a body, checked after the last byte and before anything is
 * committed: a failed check deletes what was written and the write is refused.
 */
export interface IntegrityExpectations {
  /** Decoded Content-MD5. */
  readonly contentMd5?: Buffer;
  /** The signed x-amz-content-sha256, when the payload is signed (not UNSIGNED/STREAMING). */
  readonly sha256Hex?: string;
  /**
   * An x-amz-checksum-* the client sent or announced. `expected` is read after the body has
   * ended, because aws-chunked bodies carry it in a trailer.
   */
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly expected: () => string | undefined };
}

export interface IngestedBody {
  readonly data: StoredData;
  readonly size: number;
  readonly md5: Buffer;
  /** Present when a checksum algorithm was requested: its raw digest. */
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly digest: Buffer };
}

export interface IngestOptions {
  readonly blobs: BlobStore;
  /** Bodies up to this size are kept inline in the metadata row: one fsync instead of three. */
  readonly inlineLimit: number;
  /** The size the client declared, when known (Content-Length or x-amz-decoded-content-length). */
  readonly declaredSize: number | undefined;
  readonly maxSize: number;
  /** A checksum to compute even if the client sent none (a multipart upload's algorithm). */
  readonly checksumAlgorithm?: ChecksumAlgorithm | undefined;
}

/**
 * Streams a request body into storage while computing MD5 (the ETag) and the requested
 * checksum in the same pass, then verifies every expectation. Nothing is committed here: the
 * caller records the returned data in metadata, or deletes it.
 */
export async function ingestBody(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  expectations: IntegrityExpectations,
  options: IngestOptions,
): Promise<IngestedBody> {
  if (options.declaredSize !== undefined && options.declaredSize > options.maxSize) {
    throw s3errors.entityTooLarge(options.maxSize);
  }
  const md5 = createHash('md5');
  const sha256 = expectations.sha256Hex === undefined ? undefined : createHash('sha256');
  const algorithm = expectations.checksum?.algorithm ?? options.checksumAlgorithm;
  const checksum = algorithm === undefined ? undefined : createChecksum(algorithm);
  let size = 0;

  function take(chunk: Uint8Array): void {
    size += chunk.length;
    if (size > options.maxSize) throw s3errors.entityTooLarge(options.maxSize);
    md5.update(chunk);
    sha256?.update(chunk);
    checksum?.update(chunk);
  }

  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      take(chunk);
      yield chunk;
    }
  }

  let data: StoredData;
  if (options.declaredSize !== undefined && options.declaredSize <= options.inlineLimit) {
    // Read directly, not through hashed(): a generator layer per chunk costs more than the hashing of a small body.
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) {
      take(chunk);
      chunks.push(chunk);
    }
    data = { kind: 'inline', data: Buffer.concat(chunks) };
  } else {
    const blob = await options.blobs.write(hashed());
    data = { kind: 'blobs', blobs: blob.size === 0 ? [] : [blob] };
    if (blob.size === 0) await options.blobs.delete(blob.blobId);
  }

  try {
    if (options.declaredSize !== undefined && size !== options.declaredSize) throw s3errors.incompleteBody();
    const md5Digest = md5.digest();
    if (expectations.contentMd5 !== undefined && !equalBytes(expectations.contentMd5, md5Digest)) {
      throw s3errors.badDigest();
    }
    if (sha256 !== undefined && sha256.digest('hex') !== expectations.sha256Hex) {
      throw s3errors.contentSha256Mismatch();
    }
    let checksumResult: IngestedBody['checksum'];
    if (checksum !== undefined && algorithm !== undefined) {
      const digest = checksum.digest();
      if (expectations.checksum !== undefined) {
        const sent = expectations.checksum.expected();
        if (sent === undefined) {
          throw s3errors.invalidRequest(`The ${algorithm} checksum the request announced was not sent.`);
        }
        const sentBytes = decodeChecksum(algorithm, sent);
        if (sentBytes === undefined) {
          throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${algorithm.toLowerCase()} header is invalid.`);
        }
        if (!equalBytes(sentBytes, digest)) throw s3errors.checksumMismatch(algorithm);
      }
      checksumResult = { algorithm, digest };
    }
    return { data, size, md5: md5Digest, ...(checksumResult === undefined ? {} : { checksum: checksumResult }) };
  } catch (error) {
    await discardData(options.blobs, data);
    throw error;
  }
}

/** The stored form of an ingested body's checksum: a full-object checksum, base64. */
export function storedChecksumOf(body: IngestedBody): StoredChecksum | undefined {
  return body.checksum === undefined
    ? undefined
    : { algorithm: body.checksum.algorithm, value: encodeChecksum(body.checksum.digest), type: 'FULL_OBJECT' };
}

export async function discardData(blobs: BlobStore, data: StoredData): Promise<void> {
  if (data.kind !== 'blobs') return;
  await Promise.all(data.blobs.map((b) => blobs.delete(b.blobId)));
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

