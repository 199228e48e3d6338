import { Readable } from 'node:stream';
import type { Clock } from '../infra/clock.js';
import { type ReadConditions, type WriteConditions, checkReadConditions, checkWriteConditions } from './conditions.js';
import { S3Error, s3errors } from './errors.js';
import { forEachBlob } from './blob-fan-out.js';
import { type IngestedBody, type IntegrityExpectations, discardData, ingestBody, storedChecksumOf } from './ingest.js';
import { type ListPage, type VersionListPage, type VersionListRequest, listPage, listVersionsPage } from './listing.js';
import type { BucketRecord, ObjectVersionRecord, StoredData, StoredHeaders } from './model.js';
import { assertValidBucketName, assertValidObjectKey } from './names.js';
import {
  MISSING_LOCK_CONFIGURATION,
  type RequestedLock,
  assertDeletable,
  assertWithinBounds,
  isRetentionActive,
  retentionForNewVersion,
} from './object-lock.js';
import type { BlobStore, BodyDigester, MetadataStore, NewObjectVersion, PutVersionResult, WriteDeadline } from './ports.js';

/** S3's limit for a single PUT; larger objects must use multipart upload. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

export interface VaultOptions {
  readonly region: string;
  readonly inlineLimit: number;
  /**
   * The clock that decides whether retention has expired (see RetentionClock: it refuses to
   * believe a forward jump). Defaults to the vault's clock.
   */
  readonly retentionClock?: Clock;
  /** Hashes large bodies on other threads (see BodyDigester); without it, in place. */
  readonly digester?: BodyDigester;
  /** Told of a blob that could not be removed or protected: the request goes on without it. */
  readonly onBlobFailure?: (what: string, error: unknown) => void;
  /**
   * A write of new bytes (PUT, copy, part) whose metadata is not committed this long after the
   * operation began is refused (RequestTimeout) inside the metadata transaction, and its blob
   * removed. Cluster nodes set it below the orphan sweep's grace: another node's sweep then never
   * deletes a blob a write is still about to reference. Default: no limit.
   */
  readonly maxWriteMs?: number;
  /** Monotonic milliseconds, for maxWriteMs; injected by tests. */
  readonly monotonicMs?: () => number;
}

export interface PutObjectInput {
  readonly bucket: string;
  readonly key: string;
  readonly body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  readonly declaredSize: number | undefined;
  readonly headers: StoredHeaders;
  readonly integrity: IntegrityExpectations;
  readonly conditions: WriteConditions;
  readonly lock: RequestedLock;
}

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface ObjectRead {
  readonly version: ObjectVersionRecord;
  /** Present when a satisfiable range was asked for. */
  readonly range: ByteRange | undefined;
  /** Inline objects come as one Buffer (no stream machinery for a 4 KiB read), others stream. */
  readonly body: Readable | Buffer;
}

/** A range request as parsed from the header; resolved against the object's size. */
export type RangeRequest =
  | { readonly kind: 'from'; readonly start: number; readonly end: number | undefined }
  | { readonly kind: 'suffix'; readonly length: number };

export interface CopyObjectInput {
  readonly source: { readonly bucket: string; readonly key: string; readonly versionId: string | undefined };
  readonly sourceConditions: ReadConditions;
  readonly bucket: string;
  readonly key: string;
  /** Replacement headers (REPLACE directive), or undefined to keep the source's (COPY). */
  readonly replaceHeaders: StoredHeaders | undefined;
  readonly conditions: WriteConditions;
  readonly lock: RequestedLock;
}

export interface DeleteResult {
  readonly versionId: string | undefined;
  readonly deleteMarker: boolean;
}

/**
 * The vault's object-storage domain: buckets, objects and their bytes, on top of the two
 * storage ports. It validates names, runs integrity checks and conditional logic, and makes
 * sure bytes are durable before metadata points at them and are deleted only after metadata
 * stopped pointing at them.
 */
export class Vault {
  readonly metadata: MetadataStore;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly options: VaultOptions;
  readonly retentionClock: Clock;

  constructor(metadata: MetadataStore, blobs: BlobStore, clock: Clock, options: VaultOptions) {
    this.metadata = metadata;
    this.blobs = blobs;
    this.clock = clock;
    this.options = options;
    this.retentionClock = options.retentionClock ?? clock;
  }

  // ---- buckets ----

  async createBucket(name: string, options: { objectLockEnabled: boolean }): Promise<BucketRecord> {
    assertValidBucketName(name);
    const bucket: BucketRecord = {
      name,
      createdAtMs: this.clock.nowMs(),
      region: this.options.region,
      // Object Lock requires versioning, and turns it on for good (AWS: object-lock-overview).
      versioning: options.objectLockEnabled ? 'Enabled' : 'Unversioned',
      objectLockEnabled: options.objectLockEnabled,
      defaultRetention: undefined,
      retentionBounds: undefined,
      controls: {},
    };
    await this.metadata.createBucket(bucket);
    return bucket;
  }

  async getBucket(name: string): Promise<BucketRecord> {
    const bucket = await this.metadata.getBucket(name);
    if (bucket === undefined) throw s3errors.noSuchBucket(name);
    return bucket;
  }

  listBuckets(): Promise<readonly BucketRecord[]> {
    return this.metadata.listBuckets();
  }

  /** PutBucketVersioning. Once enabled, a bucket can be suspended but never return to unversioned. */
  async setBucketVersioning(name: string, state: 'Enabled' | 'Suspended'): Promise<BucketRecord> {
    return this.metadata.setBucketVersioning(name, state);
  }

  async deleteBucket(name: string): Promise<void> {
    await this.metadata.deleteBucket(name);
  }

  // ---- objects ----

  async putObject(input: PutObjectInput): Promise<ObjectVersionRecord> {
    assertValidObjectKey(input.key);
    const bucket = await this.getBucket(input.bucket);
    this.assertLockableWrite(bucket, input.lock, input.integrity, 'Put Object');
    // Fail fast on a conditional write that cannot succeed, before reading the body; the
    // authoritative check runs again atomically with the commit.
    if (input.conditions.ifMatch !== undefined || input.conditions.ifNoneMatch !== undefined) {
      checkWriteConditions(input.conditions, input.key, await this.metadata.getObjectVersion(input.bucket, input.key));
    }
    const deadline = this.writeDeadline();
    const body = await ingestBody(input.body, input.integrity, {
      blobs: this.blobs,
      inlineLimit: this.options.inlineLimit,
      digester: this.options.digester,
      onCleanupFailure: (e) => this.options.onBlobFailure?.('removing the blob of a failed write (the orphan sweep removes it later)', e),
      declaredSize: input.declaredSize,
      maxSize: MAX_SINGLE_PUT_BYTES,
    });
    return this.#commitVersion(this.#singlePartVersion(bucket, input.key, body, input.headers, input.lock), input.conditions, deadline);
  }

  /** A new version holding one ingested body: plain-MD5 ETag, full-object checksum, lock settings. */
  #singlePartVersion(bucket: BucketRecord, key: string, body: IngestedBody, headers: StoredHeaders, lock: RequestedLock): NewObjectVersion {
    const now = this.clock.nowMs();
    return {
      bucket: bucket.name,
      key,
      isDeleteMarker: false,
      size: body.size,
      etag: `"${body.md5.toString('hex')}"`,
      lastModifiedMs: now,
      headers,
      checksum: storedChecksumOf(body),
      partSizes: [],
      data: body.data,
      retention: retentionForNewVersion(lock.retention, bucket.defaultRetention, now),
      legalHold: lock.legalHold,
    };
  }

  /**
   * Explicit lock settings need a bucket with Object Lock and a date in the future; a write that
   * will be locked (explicitly or by the bucket default) must carry an integrity check, as AWS
   * requires — a locked object with corrupt bytes could never be replaced.
   */
  assertLockableWrite(bucket: BucketRecord, lock: RequestedLock, integrity: IntegrityExpectations | undefined, operation: string): void {
    const explicit = lock.retention !== undefined || lock.legalHold !== undefined;
    if (explicit && !bucket.objectLockEnabled) throw s3errors.invalidRequest(MISSING_LOCK_CONFIGURATION);
    if (lock.retention !== undefined && lock.retention.retainUntilMs <= this.clock.nowMs()) {
      throw s3errors.invalidArgument('The retain until date must be in the future!', 'x-amz-object-lock-retain-until-date', new Date(lock.retention.retainUntilMs).toISOString());
    }
    const now = this.clock.nowMs();
    assertWithinBounds(retentionForNewVersion(lock.retention, bucket.defaultRetention, now), bucket.retentionBounds, now);
    if (integrity !== undefined) assertIntegrityForLockedWrite(explicit || bucket.defaultRetention !== undefined, integrity, operation);
  }

  /**
   * The deadline of a write of new bytes beginning now (see VaultOptions.maxWriteMs), for the
   * metadata store to check just before it commits the write; undefined without a limit.
   */
  writeDeadline(): WriteDeadline | undefined {
    const maxWriteMs = this.options.maxWriteMs;
    if (maxWriteMs === undefined) return undefined;
    const monotonicMs = this.options.monotonicMs ?? (() => performance.now());
    const startedMs = monotonicMs();
    return { passed: () => monotonicMs() - startedMs > maxWriteMs };
  }

  async #commitVersion(
    version: Parameters<MetadataStore['putObjectVersion']>[0],
    conditions: WriteConditions,
    deadline?: WriteDeadline,
  ): Promise<ObjectVersionRecord> {
    let result: PutVersionResult;
    try {
      const conditional = conditions.ifMatch !== undefined || conditions.ifNoneMatch !== undefined;
      result = await this.metadata.putObjectVersion(
        version,
        conditional ? (latest) => checkWriteConditions(conditions, version.key, latest) : undefined,
        deadline,
      );
    } catch (error) {
      await discardData(this.blobs, version.data).catch((e: unknown) => this.#blobFailure('removing the blobs of an uncommitted version (the orphan sweep removes them later)', e));
      throw error;
    }
    this.discardLater(result.displaced);
    await this.protectIfLocked(result.version);
    return result.version;
  }

  /**
   * Read-only storage for the bytes of a version under retention or legal hold. Never fails the
   * request: the write is already committed and the lock rule itself lives in the metadata.
   * A blob left unprotected is reported (onBlobFailure): the backend's own lock is then missing.
   */
  async protectIfLocked(version: ObjectVersionRecord): Promise<void> {
    if (version.data.kind !== 'blobs') return;
    if (version.legalHold !== true && !isRetentionActive(version.retention, this.clock.nowMs())) return;
    const lock = { retention: version.retention, legalHold: version.legalHold === true };
    const failures = await forEachBlob(version.data.blobs.map((b) => b.blobId), (blobId) => this.blobs.protect(blobId, lock));
    if (failures.length > 0) {
      const what = `protecting ${failures.length} of ${version.data.blobs.length} blob(s) of locked version ${version.bucket}/${version.key} (${version.versionId}) in the blob store`;
      this.#blobFailure(what, new AggregateError(failures, what));
    }
  }

  /** Deletes bytes no longer referenced. After the commit, so a crash can only leak, never lose. */
  discardLater(displaced: readonly StoredData[]): void {
    for (const data of displaced) void discardData(this.blobs, data).catch((e: unknown) => this.#blobFailure('removing the blobs of a replaced or deleted version (the orphan sweep removes them later)', e));
  }

  #blobFailure(what: string, error: unknown): void {
    this.options.onBlobFailure?.(what, error);
  }

  async headObject(bucket: string, key: string, versionId: string | undefined, conditions: ReadConditions): Promise<ObjectVersionRecord> {
    const version = await this.#readableVersion(bucket, key, versionId);
    checkReadConditions(conditions, version);
    return version;
  }

  async getObject(
    bucket: string,
    key: string,
    versionId: string | undefined,
    conditions: ReadConditions,
    range: RangeRequest | undefined,
  ): Promise<ObjectRead> {
    const version = await this.headObject(bucket, key, versionId, conditions);
    const resolved = range === undefined ? undefined : resolveRange(range, version.size);
    const body =
      version.data.kind === 'inline'
        ? resolved === undefined
          ? version.data.data
          : version.data.data.subarray(resolved.start, resolved.end + 1)
        : this.openData(version.data, resolved);
    return { version, range: resolved, body };
  }

  async #readableVersion(bucket: string, key: string, versionId: string | undefined): Promise<ObjectVersionRecord> {
    await this.getBucket(bucket);
    const version = await this.metadata.getObjectVersion(bucket, key, versionId);
    if (version === undefined) {
      throw versionId === undefined ? s3errors.noSuchKey(key) : s3errors.noSuchVersion(key, versionId);
    }
    if (version.isDeleteMarker) {
      // Reading a delete marker by its id: 405, with headers that say what it is (AWS: DeleteMarker).
      if (versionId !== undefined) {
        const error = s3errors.methodNotAllowed('GET', 'DeleteMarker');
        throw new S3Error(error.code, error.message, error.details, {
          'x-amz-delete-marker': 'true',
          'x-amz-version-id': version.versionId,
          'last-modified': new Date(version.lastModifiedMs).toUTCString(),
        });
      }
      throw s3errors.noSuchKey(key, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': version.versionId });
    }
    return version;
  }

  /** Streams stored bytes, whole or a range, across the blobs that hold them. */
  openData(data: StoredData, range: ByteRange | undefined): Readable {
    if (data.kind === 'inline') {
      const bytes = range === undefined ? data.data : data.data.subarray(range.start, range.end + 1);
      return Readable.from([bytes], { objectMode: false });
    }
    const blobs = this.blobs;
    const parts = data.blobs;
    const total = parts.reduce((sum, b) => sum + b.size, 0);
    const start = range?.start ?? 0;
    const end = range?.end ?? total - 1;
    async function* segments(): AsyncGenerator<Buffer> {
      let offset = 0;
      for (const blob of parts) {
        const blobStart = offset;
        const blobEnd = offset + blob.size - 1;
        offset += blob.size;
        if (blobEnd < start || blobStart > end) continue;
        const from = Math.max(start, blobStart) - blobStart;
        const to = Math.min(end, blobEnd) - blobStart;
        for await (const chunk of blobs.read(blob.blobId, { start: from, end: to })) yield chunk as Buffer;
      }
    }
    return Readable.from(segments(), { objectMode: false, highWaterMark: 256 * 1024 });
  }

  /**
   * DeleteObject. With a version id it destroys that version — refused while Object Lock
   * protects it (checked atomically with the delete). Without one, a versioned bucket only gets
   * a delete marker, which is never WORM-protected.
   */
  async deleteObject(bucket: string, key: string, versionId: string | undefined, options: { bypassGovernance: boolean } = { bypassGovernance: false }): Promise<DeleteResult> {
    const record = await this.getBucket(bucket);
    const protect = (version: ObjectVersionRecord) => assertDeletable(version, this.retentionClock.nowMs(), options.bypassGovernance);
    if (versionId !== undefined) {
      const removed = await this.metadata.deleteObjectVersion(bucket, key, versionId, protect);
      if (removed !== undefined) this.discardLater([removed.data]);
      return { versionId, deleteMarker: removed?.isDeleteMarker ?? false };
    }
    if (record.versioning === 'Unversioned') {
      const removed = await this.metadata.deleteObjectVersion(bucket, key, 'null', protect);
      if (removed !== undefined) this.discardLater([removed.data]);
      return { versionId: undefined, deleteMarker: false };
    }
    // Versioned: a delete only adds a delete marker; the data stays (AWS: DeletingObjectVersions).
    const marker = await this.#commitVersion(
      {
        bucket,
        key,
        isDeleteMarker: true,
        size: 0,
        etag: '',
        lastModifiedMs: this.clock.nowMs(),
        headers: {},
        checksum: undefined,
        partSizes: [],
        data: { kind: 'inline', data: Buffer.alloc(0) },
        retention: undefined,
        legalHold: undefined,
      },
      {},
    );
    return { versionId: marker.versionId, deleteMarker: true };
  }

  async copyObject(input: CopyObjectInput): Promise<{ source: ObjectVersionRecord; copy: ObjectVersionRecord }> {
    assertValidObjectKey(input.key);
    const bucket = await this.getBucket(input.bucket);
    // The copy is a new write: its own lock settings or the destination's default, never the source's.
    // No body travels with a copy, so there is no integrity header to require.
    this.assertLockableWrite(bucket, input.lock, undefined, 'Copy Object');
    const source = await this.#readableVersion(input.source.bucket, input.source.key, input.source.versionId);
    checkReadConditions(input.sourceConditions, source, 'x-amz-copy-source-');
    const sameObject =
      input.source.bucket === input.bucket && input.source.key === input.key && input.source.versionId === undefined;
    if (sameObject && input.replaceHeaders === undefined) {
      throw s3errors.invalidRequest(
        'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.',
      );
    }
    if (source.size > MAX_SINGLE_PUT_BYTES) throw s3errors.invalidRequest('The specified copy source is larger than the maximum allowable size for a copy source: 5368709120');
    // Copy the bytes: versions must not share blobs, so deleting one never affects another.
    const deadline = this.writeDeadline();
    const body = await ingestBody(this.openData(source.data, undefined), {}, {
      blobs: this.blobs,
      inlineLimit: this.options.inlineLimit,
      digester: this.options.digester,
      onCleanupFailure: (e) => this.options.onBlobFailure?.('removing the blob of a failed write (the orphan sweep removes it later)', e),
      declaredSize: source.size,
      maxSize: MAX_SINGLE_PUT_BYTES,
      checksumAlgorithm: source.checksum?.algorithm,
    });
    // The copy of a multipart object is a single-part object: its ETag is the plain MD5.
    const copy = await this.#commitVersion(
      this.#singlePartVersion(bucket, input.key, body, input.replaceHeaders ?? source.headers, input.lock),
      input.conditions,
      deadline,
    );
    return { source, copy };
  }

  async listObjectVersions(bucket: string, request: VersionListRequest): Promise<VersionListPage> {
    await this.getBucket(bucket);
    return listVersionsPage(
      (afterKey, afterVersionId, limit) => this.metadata.scanVersions(bucket, { prefix: request.prefix, afterKey, afterVersionId, limit }),
      request,
    );
  }

  async listObjects(bucket: string, request: Parameters<typeof listPage>[1]): Promise<ListPage> {
    await this.getBucket(bucket);
    return listPage(
      (after, limit) => this.metadata.scanLatest(bucket, { prefix: request.prefix, after, limit }),
      request,
    );
  }
}

export function resolveRange(range: RangeRequest, size: number): ByteRange {
  if (range.kind === 'suffix') {
    if (range.length === 0 || size === 0) throw s3errors.invalidRange(size);
    return { start: Math.max(0, size - range.length), end: size - 1 };
  }
  if (range.start >= size) throw s3errors.invalidRange(size);
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** AWS refuses a write that will be locked unless it carries Content-MD5 or an x-amz-checksum-*. */
export function assertIntegrityForLockedWrite(willBeLocked: boolean, integrity: IntegrityExpectations, operation: string): void {
  if (willBeLocked && integrity.contentMd5 === undefined && integrity.checksum === undefined) {
    throw s3errors.invalidRequest(`Content-MD5 OR x-amz-checksum- HTTP header is required for ${operation} requests with Object Lock parameters`);
  }
}
