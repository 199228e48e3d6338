/**
 * The two storage boundaries of the vault. The embedded deployment wires SQLite + filesystem
 * implementations, the scale-out deployment PostgreSQL + S3; the domain only sees these
 * interfaces. Each contract below is what every implementation MUST do; one contract suite
 * runs against each implementation.
 */
import type { Readable } from 'node:stream';
import type { ChecksumAlgorithm } from '../infra/checksum/checksum.js';
import type { DefaultRetention, Retention, RetentionBounds } from './object-lock.js';
import type {
  BucketControls,
  BucketRecord,
  MultipartUploadRecord,
  ObjectVersionRecord,
  StoredData,
  UploadPartRecord,
} from './model.js';

export interface BlobWriteResult {
  readonly blobId: string;
  readonly size: number;
}

/** A blob being written, for callers that manage their own buffers (see BlobStore.create). */
export interface BlobWriter {
  /**
   * Appends `chunk`. The store MUST be done with the chunk's memory when the promise settles (the
   * caller may reuse it then) and MUST NOT keep a reference to it. One append at a time.
   */
  append(chunk: Uint8Array): Promise<void>;
  /**
   * MUST resolve only once every appended byte is durable (survives power loss). The blob stays
   * unreachable until its id is recorded in metadata, as for write().
   */
  commit(): Promise<BlobWriteResult>;
  /** Removes what was written; callable instead of commit(), or after commit() failed. */
  abort(): Promise<void>;
}

/** The lock of the version whose bytes a blob holds, as BlobStore.protect receives it. */
export interface BlobLock {
  readonly retention: Retention | undefined;
  readonly legalHold: boolean;
}

export interface BlobStore {
  /** Starts a new blob to be filled by appends: write() for a caller that reuses its buffers. */
  create(): Promise<BlobWriter>;
  /**
   * Streams `source` into a new blob. MUST resolve only once every byte is durable (survives
   * power loss). The blob MUST NOT be reachable by anyone until its id is recorded in metadata,
   * so a failed or interrupted write leaves at worst an unreferenced blob. If `source` errors,
   * the write MUST reject with that error and remove what it wrote.
   */
  write(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<BlobWriteResult>;
  /** Reads bytes [start, end] (inclusive) of a blob, or all of it. */
  read(blobId: string, range?: { readonly start: number; readonly end: number }): Readable;
  /**
   * Makes a blob that holds a locked version's bytes immutable at the storage level, as far as
   * the backend allows (a read-only file for FsBlobStore; a retention of the same mode and date
   * for S3BlobStore on an Object Lock bucket). Defence in depth: the metadata store's lock checks
   * are the rule, this guards against tools that bypass them. `lock` is the version's lock, for
   * a backend that can hold a lock only until a date.
   */
  protect(blobId: string, lock: BlobLock): Promise<void>;
  /** Removes a blob. MUST be idempotent: removing a missing blob succeeds. */
  delete(blobId: string): Promise<void>;
  /** Every blob id the store holds, for the orphan sweep. */
  list(): AsyncIterable<string>;
  /** When the blob was last written (ms since the epoch), or undefined if it does not exist. */
  modifiedMs(blobId: string): Promise<number | undefined>;
}

/** What a body's digests are computed for: MD5 always (the ETag), the rest when asked. */
export interface DigestRequest {
  /** The signed x-amz-content-sha256 is to be checked. */
  readonly sha256: boolean;
  readonly checksum: ChecksumAlgorithm | undefined;
}

export interface BodyDigests {
  readonly md5: Buffer;
  readonly sha256: Buffer | undefined;
  readonly checksum: Buffer | undefined;
}

/**
 * Hashes large bodies on other threads, so that hashing overlaps reading the socket and writing
 * the disk (MD5 alone runs at ~500–700 MB/s on one core). A body is copied once, into batches of
 * shared memory that both the digest thread and the blob write read.
 */
export interface BodyDigester {
  /** Bodies smaller than this are cheaper to hash in place. */
  readonly minBytes: number;
  start(request: DigestRequest): DigestRun;
}

/** One body being digested off-thread. */
export interface DigestRun {
  /**
   * Copies `chunk` into the run's current batch; returns the batches it filled (each already
   * handed to the digest thread), usually none. The caller writes them, then calls release().
   */
  take(chunk: Uint8Array): readonly Buffer[];
  /** Hands over the last, partial batch (if any bytes are left) and returns it, as take() does. */
  end(): Buffer | undefined;
  /** The caller no longer reads `batch`: its memory may be reused once the digest thread is done with it too. */
  release(batch: Buffer): void;
  /**
   * Undefined when the run can take more; otherwise resolves once the digest thread has caught
   * up enough (the back-pressure that keeps memory flat), rejects if it failed.
   */
  ready(): Promise<void> | undefined;
  /** The digests of everything taken; call after end(). */
  digests(): Promise<BodyDigests>;
  /** Abandons the run (the body failed); its batches are freed once released. */
  cancel(): void;
}

/** Thrown by a guard to stop an atomic operation; the store passes it through unchanged. */
export type Guard<T> = (current: T) => void;

export interface NewObjectVersion {
  readonly bucket: string;
  readonly key: string;
  readonly isDeleteMarker: boolean;
  readonly size: number;
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly headers: ObjectVersionRecord['headers'];
  readonly checksum: ObjectVersionRecord['checksum'];
  readonly partSizes: readonly number[];
  readonly data: StoredData;
  readonly retention: ObjectVersionRecord['retention'];
  readonly legalHold: ObjectVersionRecord['legalHold'];
}

export interface PutVersionResult {
  readonly version: ObjectVersionRecord;
  /** Data no longer referenced (a replaced null version); the caller deletes its blobs. */
  readonly displaced: readonly StoredData[];
}

export interface ListScanOptions {
  readonly prefix: string;
  /** Exclusive lower bound on the key ('' for none). */
  readonly after: string;
  readonly limit: number;
}

export interface VersionScanOptions {
  readonly prefix: string;
  /** Resume after this key: with `afterVersionId`, after that version of it; without, after all its versions. */
  readonly afterKey: string;
  readonly afterVersionId: string | undefined;
  readonly limit: number;
}

export interface ListUploadsOptions {
  readonly prefix: string;
  readonly keyMarker: string;
  readonly uploadIdMarker: string;
  readonly limit: number;
}

export interface LockStatistics {
  readonly retainedVersions: number;
  readonly retainedBytes: number;
  readonly legalHoldVersions: number;
  readonly legalHoldBytes: number;
}

/**
 * A write's deadline. A store MUST check it inside the write's transaction as its last step
 * before COMMIT and, when it has passed, roll back and throw S3Error RequestTimeout. Cluster
 * nodes give every write that references a new blob one: another node's orphan sweep treats a
 * blob older than its grace as final, so a write must never commit a reference to a blob that
 * old, however long it waited for a connection, a lock or a stalled server.
 */
export interface WriteDeadline {
  passed(): boolean;
}

export interface MetadataStore {
  /** MUST throw S3Error BucketAlreadyOwnedByYou if the name exists. */
  createBucket(bucket: BucketRecord): Promise<void>;
  getBucket(name: string): Promise<BucketRecord | undefined>;
  listBuckets(): Promise<readonly BucketRecord[]>;
  /**
   * Sets a bucket's versioning state. MUST refuse (S3Error InvalidBucketState) to suspend
   * versioning on a bucket with Object Lock enabled.
   */
  setBucketVersioning(name: string, state: 'Enabled' | 'Suspended'): Promise<BucketRecord>;
  /**
   * Enables Object Lock on a bucket and sets (or, with undefined, removes) its default retention.
   * MUST refuse (S3Error InvalidBucketState) unless the bucket's versioning is Enabled.
   */
  setObjectLockConfiguration(name: string, defaultRetention: DefaultRetention | undefined): Promise<BucketRecord>;
  /** Sets or (with undefined) clears a bucket's Holdfast retention bounds. */
  setRetentionBounds(name: string, bounds: RetentionBounds | undefined): Promise<BucketRecord>;
  /**
   * Atomically replaces a bucket's Holdfast controls (policy, protected flag) with what `update`
   * (a synchronous pure function; what it throws is rethrown unchanged) makes of the current
   * ones, read in the same transaction with the bucket row locked, so a change of one control
   * never undoes a concurrent change of another (a cluster node's PutBucketPolicy racing another's
   * protect). MUST throw NoSuchBucket for a missing bucket.
   */
  updateBucketControls(name: string, update: (current: BucketControls) => BucketControls): Promise<BucketRecord>;
  /**
   * Atomically replaces one version's retention and legal hold with what `change` returns for
   * the current record (change throws to refuse). Resolves with the updated record.
   */
  updateVersionLock(
    bucket: string,
    key: string,
    versionId: string,
    change: (current: ObjectVersionRecord) => Pick<ObjectVersionRecord, 'retention' | 'legalHold'>,
  ): Promise<ObjectVersionRecord>;
  /** MUST refuse (S3Error BucketNotEmpty) atomically if any version or multipart upload remains. */
  deleteBucket(name: string): Promise<void>;

  /** The latest version of a key (which may be a delete marker), or a given version. */
  getObjectVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersionRecord | undefined>;
  /**
   * Atomically: runs `guard` on the current latest version (for conditional writes), then
   * records `version` as the new latest version. The version id follows the bucket's
   * versioning state read in the same transaction: a fresh id when Enabled, 'null' otherwise
   * (replacing any existing null version, whose data is returned as displaced).
   * MUST be durable when it resolves.
   */
  putObjectVersion(version: NewObjectVersion, guard?: Guard<ObjectVersionRecord | undefined>, deadline?: WriteDeadline): Promise<PutVersionResult>;
  /**
   * Atomically removes one version (guard sees it first); if it was the latest, the next
   * newest becomes latest. Resolves with the removed record, or undefined if none existed.
   */
  deleteObjectVersion(
    bucket: string,
    key: string,
    versionId: string,
    guard?: Guard<ObjectVersionRecord>,
  ): Promise<ObjectVersionRecord | undefined>;
  /** Every version and delete marker under `prefix`: keys ascending (UTF-8 bytes), newest version first within a key. */
  scanVersions(bucket: string, options: VersionScanOptions): Promise<readonly ObjectVersionRecord[]>;
  /** Latest, non-delete-marker versions with keys starting with `prefix`, ascending by UTF-8 bytes. */
  scanLatest(bucket: string, options: ListScanOptions): Promise<readonly ObjectVersionRecord[]>;

  createUpload(upload: MultipartUploadRecord): Promise<void>;
  getUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUploadRecord | undefined>;
  /** Records a part, replacing a previous upload of the same number (its data is returned). */
  putPart(bucket: string, key: string, part: UploadPartRecord, deadline?: WriteDeadline): Promise<{ readonly displaced: readonly StoredData[] }>;
  listParts(uploadId: string, afterPartNumber: number, limit: number): Promise<readonly UploadPartRecord[]>;
  listUploads(bucket: string, options: ListUploadsOptions): Promise<readonly MultipartUploadRecord[]>;
  /**
   * Atomically removes the upload and its parts and records the assembled version (same
   * semantics as putObjectVersion). Parts not used by the version are returned as displaced.
   * MUST throw S3Error NoSuchUpload if the upload no longer exists.
   */
  completeUpload(
    bucket: string,
    key: string,
    uploadId: string,
    version: NewObjectVersion,
    usedPartNumbers: readonly number[],
    guard?: Guard<ObjectVersionRecord | undefined>,
  ): Promise<PutVersionResult>;
  /** Removes an upload and its parts; returns the parts' data, or undefined if it did not exist. */
  abortUpload(bucket: string, key: string, uploadId: string): Promise<readonly StoredData[] | undefined>;
  /** Uploads initiated before `beforeMs`, for the abandoned-upload sweep. */
  listStaleUploads(beforeMs: number, limit: number): Promise<readonly MultipartUploadRecord[]>;
  /** Every blob id that a version or an uploaded part references (for the orphan sweep). */
  referencedBlobIds(): Promise<ReadonlySet<string>>;

  /** Small key/value settings the vault keeps (access keys, instance id). */
  /**
   * Versions and bytes under protection at `nowMs` (retention not yet expired; legal hold on),
   * for the metrics. Delete markers are not counted. May scan: callers cache the answer.
   */
  lockStatistics(nowMs: number): Promise<LockStatistics>;
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;
  /**
   * Atomically sets `name` to `next` only if its current value is `expected` (undefined: only if
   * it has none); resolves whether it did. Several processes sharing one store use it for
   * read-modify-write of a setting: whoever read a stale value is refused and reads again.
   */
  compareAndSetSetting(name: string, expected: string | undefined, next: string): Promise<boolean>;
  /**
   * Runs `work` while holding the lock `lockName`, which every process sharing this store
   * respects (one at a time per name, cluster-wide); for a check and a write that depend on each
   * other's data but live in different places (separation of duties: identities and bucket
   * policies). `work` MUST NOT take the same lock again.
   */
  exclusively<T>(lockName: string, work: () => Promise<T>): Promise<T>;

  close(): Promise<void>;
}
