import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type ChecksumAlgorithm,
  createChecksum,
  decodeChecksum,
  encodeChecksum,
} from '../infra/checksum/checksum.js';
import { forEachBlob } from './blob-fan-out.js';
import { S3Error, s3errors } from './errors.js';
import type { StoredChecksum, StoredData } from './model.js';
import type { BlobStore, BodyDigester, BodyDigests, DigestRequest } from './ports.js';

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
  /** Hashes large bodies on other threads; without it every body is hashed in place. */
  readonly digester?: BodyDigester | undefined;
  /**
   * Told when removing what a failed ingest wrote fails too. That failure is only reported: the
   * client is answered with the error that stopped the ingest (a 4xx stays a 4xx), and the
   * orphan sweep removes the leftover later.
   */
  readonly onCleanupFailure?: ((error: unknown) => void) | undefined;
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
  const request: DigestRequest = {
    sha256: expectations.sha256Hex !== undefined,
    checksum: expectations.checksum?.algorithm ?? options.checksumAlgorithm,
  };
  const inline = options.declaredSize !== undefined && options.declaredSize <= options.inlineLimit;
  const digester = options.digester;
  const { data, size, digests } =
    !inline && digester !== undefined && (options.declaredSize === undefined || options.declaredSize >= digester.minBytes)
      ? await ingestOffThread(body, request, digester, options)
      : await ingestInPlace(body, request, inline, options);
  try {
    if (options.declaredSize !== undefined && size !== options.declaredSize) throw s3errors.incompleteBody();
    if (expectations.contentMd5 !== undefined && !equalBytes(expectations.contentMd5, digests.md5)) {
      throw s3errors.badDigest();
    }
    if (digests.sha256 !== undefined && digests.sha256.toString('hex') !== expectations.sha256Hex) {
      throw s3errors.contentSha256Mismatch();
    }
    let checksumResult: IngestedBody['checksum'];
    const algorithm = request.checksum;
    if (digests.checksum !== undefined && algorithm !== undefined) {
      const digest = digests.checksum;
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
    return { data, size, md5: digests.md5, ...(checksumResult === undefined ? {} : { checksum: checksumResult }) };
  } catch (error) {
    await discardData(options.blobs, data).catch((e: unknown) => options.onCleanupFailure?.(e));
    throw error;
  }
}

interface Ingested {
  readonly data: StoredData;
  readonly size: number;
  readonly digests: BodyDigests;
}

/** Small bodies, and every body without a digester: hashed on this thread as they pass. */
async function ingestInPlace(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  request: DigestRequest,
  inline: boolean,
  options: IngestOptions,
): Promise<Ingested> {
  const md5 = createHash('md5');
  const sha256 = request.sha256 ? createHash('sha256') : undefined;
  const checksum = request.checksum === undefined ? undefined : createChecksum(request.checksum);
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
  if (inline) {
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
  return { data, size, digests: { md5: md5.digest(), sha256: sha256?.digest(), checksum: checksum?.digest() } };
}

/**
 * Large bodies: each socket chunk is copied once, into the digester's shared batches; a full
 * batch goes to the digest thread and to the blob file at the same time. One write is in flight
 * while the next batch fills, and the digest thread is at most a few batches behind (ready()),
 * so the socket is read only as fast as both keep up and memory stays flat.
 */
async function ingestOffThread(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  request: DigestRequest,
  digester: BodyDigester,
  options: IngestOptions,
): Promise<Ingested> {
  const run = digester.start(request);
  const writer = await options.blobs.create().catch((error: unknown) => {
    run.cancel();
    throw error;
  });
  let size = 0;
  let writing: Promise<void> = Promise.resolve();
  const write = async (batch: Buffer) => {
    await writing;
    const appended = writer.append(batch).then(() => run.release(batch));
    appended.catch(() => undefined);
    writing = appended;
  };
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > options.maxSize) throw s3errors.entityTooLarge(options.maxSize);
      for (const batch of run.take(chunk)) await write(batch);
      const ready = run.ready();
      if (ready !== undefined) await ready;
    }
    const last = run.end();
    if (last !== undefined) await write(last);
    await writing;
    const digests = await run.digests();
    if (size === 0) {
      await writer.abort();
      return { data: { kind: 'blobs', blobs: [] }, size, digests };
    }
    const blob = await writer.commit();
    return { data: { kind: 'blobs', blobs: [blob] }, size, digests };
  } catch (error) {
    run.cancel();
    await writing.catch(() => undefined);
    await writer.abort().catch((e: unknown) => options.onCleanupFailure?.(e));
    throw error;
  }
}

/** The stored form of an ingested body's checksum: a full-object checksum, base64. */
export function storedChecksumOf(body: IngestedBody): StoredChecksum | undefined {
  return body.checksum === undefined
    ? undefined
    : { algorithm: body.checksum.algorithm, value: encodeChecksum(body.checksum.digest), type: 'FULL_OBJECT' };
}

/**
 * Deletes the blobs of `data`, a few at a time (BLOB_REQUESTS_AT_ONCE). Every blob is tried;
 * if any delete failed, rejects afterwards with an AggregateError of those failures.
 */
export async function discardData(blobs: BlobStore, data: StoredData): Promise<void> {
  if (data.kind !== 'blobs') return;
  const failures = await forEachBlob(data.blobs.map((b) => b.blobId), (blobId) => blobs.delete(blobId));
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} of ${data.blobs.length} blob(s) could not be deleted`);
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

