import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { s3errors } from '../../../domain/errors.js';
import type { BlobLock, BlobStore, BlobWriteResult, BlobWriter } from '../../../domain/ports.js';
import type { Clock } from '../../clock.js';
import type { S3Client, UploadedPart } from '../../s3-client/s3-client.js';
import { isNoSuchKey, S3RequestError } from '../../s3-client/s3-client-errors.js';
import { type BlobPrefixOwner, claimBlobPrefix } from './blob-prefix-owner.js';

const BLOB_ID = /^[0-9a-f]{32}$/;
/** AWS's smallest part (except the last): https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const INITIAL_BUFFER_BYTES = 64 * 1024;

export interface S3BlobStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix inside the bucket ('' or ending in '/'); blobs live under `PREFIX/blobs/`. */
  readonly prefix: string;
  readonly clock: Clock;
  /**
   * Bytes of one multipart part, and the threshold: a blob up to this size is one PutObject, a
   * larger one a multipart upload. Memory per writer is at most (partsInFlight + 1) parts.
   * Default 8 MiB (aws-cli's chunk size); at least 5 MiB.
   */
  readonly partBytes?: number;
  /** Parts uploading at once per writer. Default 2: the socket stays busy while the next part fills. */
  readonly partsInFlight?: number;
  /** ListObjectsV2 page size for list(). Default 1000 (the S3 maximum). */
  readonly listPageSize?: number;
  /**
   * A write still uncommitted this long after it began is aborted instead of stored (its
   * request fails with RequestTimeout). Cluster nodes set it below the orphan sweep's grace:
   * another node's sweep may then treat any blob older than the grace as final, because no write
   * that old can still be about to be committed and referenced. Default: no limit.
   */
  readonly maxWriteMs?: number;
  /** Monotonic milliseconds, for maxWriteMs; injected by tests. */
  readonly monotonicMs?: () => number;
}

/**
 * Blobs as objects `PREFIX/blobs/<first two hex chars>/<id>` in one bucket of an existing
 * S3-compatible store, for the scale-out deployment. Ids are random as in FsBlobStore, so a blob
 * is unreachable until its id is recorded in metadata, and no object key ever names another.
 *
 * Durability is the backend's: S3 answers a PutObject or CompleteMultipartUpload only once the
 * object is stored. Every write carries a checksum the backend verifies against the bytes
 * (x-amz-checksum-sha256 on a PutObject and on each part, beside the signed payload hash).
 *
 * Versioned backend buckets: the store does not record version ids (the blob id stays the
 * 32-hex id the metadata already holds). A blob's key is written once and never reused, so every
 * version under it is the store's own: on a versioned bucket delete() lists the key's versions
 * and deletes each by id. One list call per delete on a versioned bucket buys a blob id format
 * shared with FsBlobStore.
 */
export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #root: string;
  readonly #clock: Clock;
  readonly #partBytes: number;
  readonly #partsInFlight: number;
  readonly #listPageSize: number;
  readonly #maxWriteMs: number;
  readonly #monotonicMs: () => number;
  #objectLock: Promise<boolean> | undefined;
  #versioned: Promise<boolean> | undefined;

  constructor(options: S3BlobStoreOptions) {
    if (options.prefix !== '' && !options.prefix.endsWith('/')) throw new TypeError(`the blob prefix must be empty or end in '/', not ${JSON.stringify(options.prefix)}`);
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = options.prefix;
    this.#root = `${options.prefix}blobs/`;
    this.#clock = options.clock;
    this.#partBytes = options.partBytes ?? 8 * 1024 * 1024;
    if (this.#partBytes < MIN_PART_BYTES) throw new TypeError(`partBytes must be at least ${MIN_PART_BYTES} (the S3 minimum part size)`);
    this.#partsInFlight = options.partsInFlight ?? 2;
    this.#listPageSize = options.listPageSize ?? 1000;
    this.#maxWriteMs = options.maxWriteMs ?? Infinity;
    this.#monotonicMs = options.monotonicMs ?? (() => performance.now());
  }

  /** Where blobs go, for messages: s3://BUCKET/PREFIX/blobs/. */
  get location(): string {
    return `s3://${this.#bucket}/${this.#root}`;
  }

  async create(): Promise<BlobWriter> {
    const blobId = randomBytes(16).toString('hex');
    const startedMs = this.#monotonicMs();
    const overdue = () => this.#monotonicMs() - startedMs > this.#maxWriteMs;
    return new S3BlobWriter(this.#client, this.#bucket, this.#key(blobId), blobId, this.#partBytes, this.#partsInFlight, () => this.delete(blobId), overdue);
  }

  async write(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<BlobWriteResult> {
    const writer = await this.create();
    try {
      for await (const chunk of source) await writer.append(chunk);
      return await writer.commit();
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    }
  }

  read(blobId: string, range?: { readonly start: number; readonly end: number }): Readable {
    const out = new PassThrough({ highWaterMark: 256 * 1024 });
    const key = this.#key(blobId);
    this.#client.getObject({ bucket: this.#bucket, key }, range === undefined ? {} : { range }).then(
      ({ body }) => {
        // A reader that gave up before the answer came must still free the connection.
        if (out.destroyed) {
          body.destroy();
          return;
        }
        body.on('error', (error) => out.destroy(error));
        out.on('close', () => body.destroy());
        body.pipe(out);
      },
      (error: unknown) => out.destroy(isNoSuchKey(error) ? missingBlob(blobId, error) : (error as Error)),
    );
    return out;
  }

  async modifiedMs(blobId: string): Promise<number | undefined> {
    try {
      const head = await this.#client.headObject({ bucket: this.#bucket, key: this.#key(blobId) });
      // Fail closed for the orphan sweep: a blob whose age is unknown counts as just written.
      return head.lastModifiedMs ?? this.#clock.nowMs();
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw error;
    }
  }

  /**
   * On a bucket with Object Lock: a retention of the version's mode and date on the object, so the
   * backend too refuses to delete it early. Without a retention (a legal hold alone) nothing is
   * set: lifting a hold in the vault would need a call to lift it on the backend, which the port
   * does not have yet. On a bucket without Object Lock: nothing to do (the backend cannot lock).
   */
  async protect(blobId: string, lock: BlobLock): Promise<void> {
    if (lock.retention === undefined || lock.retention.retainUntilMs <= this.#clock.nowMs()) return;
    if (!(await this.#hasObjectLock())) return;
    await this.#client.putObjectRetention({ bucket: this.#bucket, key: this.#key(blobId) }, lock.retention);
  }

  /**
   * Unversioned bucket: one DeleteObject. Versioned (or suspended) bucket: the key's versions are
   * listed first and each deleted by id, so no delete marker is ever made — a version that
   * cannot be deleted (Object Lock) leaves the blob readable and listed, not hidden behind a
   * marker. If the bucket was versioned after the status was cached, the plain delete answers
   * with a marker, and the versions (the marker among them) are removed the same way.
   */
  async delete(blobId: string): Promise<void> {
    const key = this.#key(blobId);
    if (!(await this.#isVersioned())) {
      const removed = await this.#client.deleteObject({ bucket: this.#bucket, key });
      if (!removed.deleteMarker) return;
      this.#versioned = Promise.resolve(true);
    }
    const versions: string[] = [];
    for await (const version of this.#client.listObjectVersions({ bucket: this.#bucket, prefix: key, maxKeys: 100 })) {
      // Sorted by key: past `key` come only longer keys sharing the prefix.
      if (version.key > key) break;
      if (version.key === key) versions.push(version.versionId);
    }
    for (const versionId of versions) await this.#deleteVersion(key, versionId);
  }

  async *list(): AsyncIterable<string> {
    for await (const object of this.#client.listObjects({ bucket: this.#bucket, prefix: this.#root, maxKeys: this.#listPageSize })) {
      const rest = object.key.slice(this.#root.length);
      const id = rest.slice(3);
      if (rest.length === 35 && rest[2] === '/' && BLOB_ID.test(id) && rest.startsWith(id.slice(0, 2))) yield id;
    }
  }

  /**
   * Puts and deletes a probe object: the start-up check that the bucket exists and the
   * credentials may write and delete there. Throws the backend's error.
   */
  async probe(): Promise<void> {
    const writer = await this.create();
    await writer.append(Buffer.from('holdfast blob store probe\n'));
    const { blobId } = await writer.commit();
    await this.delete(blobId);
  }

  /**
   * The backend's clock now, as it stamps LastModified (whole seconds, rounded down): a probe
   * blob's LastModified, the probe then removed (or, if that fails, swept later as any orphan).
   * The orphan sweep compares blobs' LastModified against a cut-off taken from this rather than
   * from a node's own clock, which may run ahead of the backend's and eat the sweep's margin.
   */
  async backendNowMs(): Promise<number> {
    const writer = await this.create();
    await writer.append(Buffer.from('holdfast clock probe\n'));
    const { blobId } = await writer.commit();
    try {
      const head = await this.#client.headObject({ bucket: this.#bucket, key: this.#key(blobId) });
      if (head.lastModifiedMs === undefined) throw new Error(`the backend returned no Last-Modified for ${this.#key(blobId)}`);
      return head.lastModifiedMs;
    } finally {
      await this.delete(blobId);
    }
  }

  /**
   * Claims the prefix for one metadata store (see claimBlobPrefix): throws BlobPrefixOwnedError
   * when another holds it, so two vaults never sweep each other's blobs away.
   */
  claimOwner(owner: BlobPrefixOwner): Promise<void> {
    return claimBlobPrefix(this.#client, this.#bucket, this.#prefix, owner);
  }

  /** A governance retention set by protect() needs the bypass header; try without it first. */
  async #deleteVersion(key: string, versionId: string): Promise<void> {
    try {
      await this.#client.deleteObject({ bucket: this.#bucket, key, versionId });
    } catch (error) {
      if (!(error instanceof S3RequestError && error.code === 'AccessDenied')) throw error;
      await this.#client.deleteObject({ bucket: this.#bucket, key, versionId }, { bypassGovernanceRetention: true });
    }
  }

  /** Whether the bucket keeps versions (Enabled or Suspended: both may hold several per key). */
  #isVersioned(): Promise<boolean> {
    const known = (this.#versioned ??= this.#client.getBucketVersioning(this.#bucket).then((v) => v.status === 'Enabled' || v.status === 'Suspended'));
    known.catch(() => {
      if (this.#versioned === known) this.#versioned = undefined;
    });
    return known;
  }

  #hasObjectLock(): Promise<boolean> {
    const known = (this.#objectLock ??= this.#client.getObjectLockConfiguration(this.#bucket).then((c) => c.enabled));
    // A failed look-up is asked again next time rather than remembered.
    known.catch(() => {
      if (this.#objectLock === known) this.#objectLock = undefined;
    });
    return known;
  }

  #key(blobId: string): string {
    // Ids come from our own metadata, but a corrupted row must still never name another key.
    if (!BLOB_ID.test(blobId)) throw new Error(`invalid blob id ${JSON.stringify(blobId)}`);
    return `${this.#root}${blobId.slice(0, 2)}/${blobId}`;
  }
}

/** What FsBlobStore's read stream fails with for a missing file, so callers see one error for both stores. */
function missingBlob(blobId: string, cause: unknown): Error {
  const error = new Error(`blob ${blobId} does not exist in the S3 blob store`, { cause }) as NodeJS.ErrnoException;
  error.code = 'ENOENT';
  return error;
}

/**
 * One blob being uploaded. Appends are copied into a part buffer; up to the part size the blob is
 * one PutObject at commit, past it a multipart upload whose parts go up while the next fills,
 * at most `partsInFlight` at once, so memory stays at (partsInFlight + 1) parts whatever the size.
 */
class S3BlobWriter implements BlobWriter {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #key: string;
  readonly #blobId: string;
  readonly #partBytes: number;
  readonly #partsInFlight: number;
  #buffer: Buffer | undefined;
  #filled = 0;
  #size = 0;
  #uploadId: Promise<string> | undefined;
  readonly #parts: Array<Promise<UploadedPart>> = [];
  readonly #inFlight = new Set<Promise<UploadedPart>>();
  readonly #deleteStored: () => Promise<void>;
  #failure: Error | undefined;
  #done = false;
  /** A PutObject or CompleteMultipartUpload was sent: the object may exist, answered or not. */
  #storeAttempted = false;

  readonly #overdue: () => boolean;

  constructor(client: S3Client, bucket: string, key: string, blobId: string, partBytes: number, partsInFlight: number, deleteStored: () => Promise<void>, overdue: () => boolean) {
    this.#overdue = overdue;
    this.#client = client;
    this.#bucket = bucket;
    this.#key = key;
    this.#blobId = blobId;
    this.#partBytes = partBytes;
    this.#partsInFlight = partsInFlight;
    this.#deleteStored = deleteStored;
  }

  async append(chunk: Uint8Array): Promise<void> {
    if (this.#done) throw new Error('append() after commit() or abort()');
    let rest = chunk;
    while (rest.length > 0) {
      if (this.#failure !== undefined) throw this.#failure;
      const buffer = this.#reserve(Math.min(this.#partBytes, this.#filled + rest.length));
      const n = Math.min(rest.length, this.#partBytes - this.#filled);
      buffer.set(rest.subarray(0, n), this.#filled);
      this.#filled += n;
      this.#size += n;
      rest = rest.subarray(n);
      // A full buffer is sent only once more bytes arrive: the last part may then be a full one.
      if (this.#filled === this.#partBytes && rest.length > 0) await this.#sendPart();
    }
  }

  async commit(): Promise<BlobWriteResult> {
    if (this.#done) throw new Error('commit() after commit() or abort()');
    if (this.#failure !== undefined) throw this.#failure;
    // Checked last before the object becomes whole; the caller aborts the writer on this error.
    if (this.#overdue()) throw s3errors.requestTimeout();
    if (this.#uploadId === undefined) {
      const bytes = this.#buffer === undefined ? Buffer.alloc(0) : this.#buffer.subarray(0, this.#filled);
      this.#storeAttempted = true;
      await this.#client.putObject({ bucket: this.#bucket, key: this.#key, body: { kind: 'bytes', bytes } });
    } else {
      if (this.#filled > 0) await this.#sendPart();
      const parts = await Promise.all(this.#parts);
      const uploadId = await this.#uploadId;
      this.#storeAttempted = true;
      await this.#client.completeMultipartUpload({ bucket: this.#bucket, key: this.#key, uploadId, parts });
    }
    this.#done = true;
    this.#buffer = undefined;
    return { blobId: this.#blobId, size: this.#size };
  }

  async abort(): Promise<void> {
    this.#done = true;
    this.#buffer = undefined;
    await Promise.allSettled(this.#inFlight);
    if (this.#uploadId !== undefined) {
      const uploadId = await this.#uploadId.catch(() => undefined);
      if (uploadId !== undefined) {
        try {
          await this.#client.abortMultipartUpload(this.#bucket, this.#key, uploadId);
        } catch (error) {
          if (!isNoSuchUpload(error)) throw error;
        }
      }
    }
    // A commit whose answer was lost may have stored the object all the same: remove it as the
    // store's delete() does, every version by id. Nothing sent, nothing to delete: a plain
    // DeleteObject would leave a delete marker on a versioned bucket for every aborted write.
    if (this.#storeAttempted) await this.#deleteStored();
  }

  /**
   * Grows the buffer to hold `bytes`, doubling from 64 KiB up to the part size: a blob of a few
   * hundred KiB (most uploads past the inline limit) then never reserves a whole part, and many
   * of them at once do not each hold 8 MiB.
   */
  #reserve(bytes: number): Buffer {
    if (this.#buffer !== undefined && bytes <= this.#buffer.length) return this.#buffer;
    const current = this.#buffer?.length ?? 0;
    // Past the first part the blob is known to be large: whole parts from then on, no regrowing.
    let size = this.#uploadId === undefined ? Math.max(current, INITIAL_BUFFER_BYTES) : this.#partBytes;
    while (size < bytes) size *= 2;
    const grown = Buffer.allocUnsafe(Math.min(size, this.#partBytes));
    this.#buffer?.copy(grown, 0, 0, this.#filled);
    this.#buffer = grown;
    return grown;
  }

  /** Hands the buffer to an upload and waits only while `partsInFlight` parts are already going. */
  async #sendPart(): Promise<void> {
    this.#uploadId ??= this.#client.createMultipartUpload(this.#bucket, this.#key);
    const bytes = this.#buffer!.subarray(0, this.#filled);
    this.#buffer = undefined;
    this.#filled = 0;
    const partNumber = this.#parts.length + 1;
    const uploadId = this.#uploadId;
    const part = uploadId.then((id) => this.#client.uploadPart({ bucket: this.#bucket, key: this.#key, uploadId: id, partNumber, bytes }));
    this.#parts.push(part);
    this.#inFlight.add(part);
    part.then(
      () => this.#inFlight.delete(part),
      (error: unknown) => {
        this.#inFlight.delete(part);
        this.#failure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    while (this.#inFlight.size >= this.#partsInFlight) await Promise.race(this.#inFlight).catch(() => undefined);
    if (this.#failure !== undefined) throw this.#failure;
  }
}

function isNoSuchUpload(error: unknown): boolean {
  return error instanceof S3RequestError && error.code === 'NoSuchUpload';
}
