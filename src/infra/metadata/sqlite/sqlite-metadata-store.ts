import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { S3Error, s3errors } from '../../../domain/errors.js';
import type { DefaultRetention, RetentionBounds } from '../../../domain/object-lock.js';
import type {
  BucketControls,
  BucketRecord,
  MultipartUploadRecord,
  ObjectVersionRecord,
  StoredData,
  UploadPartRecord,
} from '../../../domain/model.js';
import type {
  Guard,
  ListScanOptions,
  ListUploadsOptions,
  LockStatistics,
  MetadataStore,
  NewObjectVersion,
  PutVersionResult,
  VersionScanOptions,
  WriteDeadline,
} from '../../../domain/ports.js';
import { GroupCommitQueue } from './group-commit-queue.js';
import { LatestVersionCache } from './latest-version-cache.js';
import { addedColumns, schema } from './schema.js';
import { type SqliteStatements, prepareStatements } from './statements.js';
import {
  type BucketRow,
  type PartRow,
  type UploadRow,
  type VersionRow,
  bucketFromRow,
  dataColumns,
  dataFromColumns,
  partFromRow,
  uploadFromRow,
  versionFromRow,
} from './rows.js';
import { openWalSyncedDatabase } from '../../sqlite/open-wal-synced-database.js';
import type { WalFileSync } from '../../sqlite/wal-file-sync.js';
import { NamedQueues } from '../named-queues.js';

/**
 * Metadata in one SQLite file, for the embedded deployment.
 *
 * Durability: a write resolves only once its commit is on disk (WAL journal, synchronous=NORMAL,
 * then an fdatasync of the -wal file on the thread pool: see openWalSyncedDatabase). Writes from
 * concurrent requests are grouped into one transaction per event-loop turn (each in its own
 * savepoint, so one failing write does not undo the others), and the batches committed while one
 * fdatasync runs share the next: one sync covers many acknowledged writes. Reads run directly;
 * because a batch runs synchronously from BEGIN to COMMIT, a read never sees a half-applied
 * batch, and a read that may have seen a batch still being synced waits for that sync before it
 * answers, so nothing is ever reported that a crash could take back.
 */
export class SqliteMetadataStore implements MetadataStore {
  readonly #db: Database.Database;
  readonly #wal: WalFileSync;
  readonly #writes: GroupCommitQueue;
  readonly #stmt: SqliteStatements;
  /** Callers of `exclusively`, queued per lock name. */
  readonly #exclusive = new NamedQueues();
  readonly #bucketCache = new Map<string, BucketRecord>();
  /** Latest versions of recently read keys (see LatestVersionCache for why this is exact here). */
  readonly #latest = new LatestVersionCache(LATEST_CACHE_ENTRIES, LATEST_CACHE_INLINE_BYTES);
  /** The write batch that last changed a bucket: bucket reads wait for it alone to be durable. */
  #bucketsChangedInBatch = 0;
  /** Orders versions of a key, newest highest; unique across the store. */
  #seq: number;

  constructor(path: string) {
    ({ db: this.#db, wal: this.#wal } = openWalSyncedDatabase(path, schema));
    addMissingColumns(this.#db);
    this.#stmt = prepareStatements(this.#db);
    this.#seq = (this.#db.prepare('SELECT max(seq) AS seq FROM versions').get() as { seq: number | null }).seq ?? 0;
    this.#writes = new GroupCommitQueue(this.#db, this.#wal);
  }

  /** `value`, once every batch it may have been read from is durable (see GroupCommitQueue.untilDurable). */
  #durably<T>(value: T, throughBatch?: number): T | Promise<T> {
    const durable = this.#writes.untilDurable(throughBatch);
    return durable === undefined ? value : durable.then(() => value);
  }

  /** Inside a write that changes a bucket record: bucket reads from now on wait for this batch. */
  #bucketChanged(name: string): void {
    this.#bucketCache.delete(name);
    this.#bucketsChangedInBatch = this.#writes.applyingBatch;
  }

  async createBucket(bucket: BucketRecord): Promise<void> {
    await this.#writes.run(() => {
      if (this.#stmt.getBucket.get(bucket.name) !== undefined) throw s3errors.bucketAlreadyOwnedByYou(bucket.name);
      this.#stmt.insertBucket.run(
        bucket.name,
        bucket.createdAtMs,
        bucket.region,
        bucket.versioning,
        bucket.objectLockEnabled ? 1 : 0,
        bucket.defaultRetention === undefined ? null : JSON.stringify(bucket.defaultRetention),
      );
      this.#bucketChanged(bucket.name);
    });
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    return this.#durably(this.#bucketNow(name), this.#bucketsChangedInBatch);
  }

  /**
   * Every request looks its bucket up; this process is the database's only writer (the data
   * directory is locked), so a cache invalidated on every bucket write is exact.
   */
  #bucketNow(name: string): BucketRecord | undefined {
    const cached = this.#bucketCache.get(name);
    if (cached !== undefined) return cached;
    const row = this.#stmt.getBucket.get(name) as BucketRow | undefined;
    const bucket = row && bucketFromRow(row);
    if (bucket !== undefined && this.#bucketCache.size < 10_000) this.#bucketCache.set(name, bucket);
    return bucket;
  }

  async listBuckets(): Promise<readonly BucketRecord[]> {
    return this.#durably((this.#stmt.listBuckets.all() as BucketRow[]).map(bucketFromRow), this.#bucketsChangedInBatch);
  }

  async setBucketVersioning(name: string, state: 'Enabled' | 'Suspended'): Promise<BucketRecord> {
    return this.#writes.run(() => {
      const bucket = this.#bucketNow(name);
      if (bucket === undefined) throw s3errors.noSuchBucket(name);
      if (state === 'Suspended' && bucket.objectLockEnabled) {
        throw new S3Error('InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
      }
      this.#stmt.setVersioning.run(state, name);
      this.#bucketChanged(name);
      return { ...bucket, versioning: state };
    });
  }

  async setObjectLockConfiguration(name: string, defaultRetention: DefaultRetention | undefined): Promise<BucketRecord> {
    return this.#writes.run(() => {
      const bucket = this.#bucketNow(name);
      if (bucket === undefined) throw s3errors.noSuchBucket(name);
      if (bucket.versioning !== 'Enabled') {
        throw new S3Error('InvalidBucketState', 'Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration');
      }
      this.#stmt.setObjectLock.run(defaultRetention === undefined ? null : JSON.stringify(defaultRetention), name);
      this.#bucketChanged(name);
      return { ...bucket, objectLockEnabled: true, defaultRetention };
    });
  }

  async setRetentionBounds(name: string, bounds: RetentionBounds | undefined): Promise<BucketRecord> {
    return this.#writes.run(() => {
      const bucket = this.#bucketNow(name);
      if (bucket === undefined) throw s3errors.noSuchBucket(name);
      this.#stmt.setRetentionBounds.run(bounds === undefined ? null : JSON.stringify(bounds), name);
      this.#bucketChanged(name);
      return { ...bucket, retentionBounds: bounds };
    });
  }

  async updateBucketControls(name: string, update: (current: BucketControls) => BucketControls): Promise<BucketRecord> {
    // The write queue runs one write at a time: nothing changes the row between read and write.
    return this.#writes.run(() => {
      const bucket = this.#bucketNow(name);
      if (bucket === undefined) throw s3errors.noSuchBucket(name);
      const controls = update(bucket.controls);
      this.#stmt.setBucketControls.run(JSON.stringify(controls), name);
      this.#bucketChanged(name);
      return { ...bucket, controls };
    });
  }

  async updateVersionLock(
    bucket: string,
    key: string,
    versionId: string,
    change: (current: ObjectVersionRecord) => Pick<ObjectVersionRecord, 'retention' | 'legalHold'>,
  ): Promise<ObjectVersionRecord> {
    return this.#writes.run(() => {
      this.#latest.forget(bucket, key);
      const row = this.#stmt.getVersion.get(bucket, key, versionId) as VersionRow | undefined;
      if (row === undefined) throw s3errors.noSuchVersion(key, versionId);
      const current = versionFromRow(row);
      const next = change(current);
      this.#stmt.setVersionLock.run(
        next.retention?.mode ?? null,
        next.retention?.retainUntilMs ?? null,
        next.legalHold === undefined ? null : next.legalHold ? 1 : 0,
        bucket,
        key,
        versionId,
      );
      return { ...current, ...next };
    });
  }

  async deleteBucket(name: string): Promise<void> {
    await this.#writes.run(() => {
      if (this.#stmt.getBucket.get(name) === undefined) throw s3errors.noSuchBucket(name);
      if (this.#stmt.anyVersion.get(name) !== undefined || this.#stmt.anyUpload.get(name) !== undefined) {
        throw s3errors.bucketNotEmpty(name);
      }
      this.#stmt.deleteBucket.run(name);
      this.#bucketChanged(name);
      this.#latest.clear();
    });
  }

  async getObjectVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersionRecord | undefined> {
    if (versionId !== undefined) {
      const row = this.#stmt.getVersion.get(bucket, key, versionId) as VersionRow | undefined;
      return this.#durably(row && versionFromRow(row));
    }
    const cached = this.#latest.get(bucket, key);
    if (cached !== undefined) return this.#durably(cached);
    const row = this.#stmt.getLatest.get(bucket, key) as VersionRow | undefined;
    const latest = row && versionFromRow(row);
    if (latest !== undefined) this.#latest.remember(latest);
    return this.#durably(latest);
  }

  async putObjectVersion(version: NewObjectVersion, guard?: Guard<ObjectVersionRecord | undefined>, deadline?: WriteDeadline): Promise<PutVersionResult> {
    return this.#writes.run(() => {
      const result = this.#putVersionNow(version, guard);
      refuseIfPassed(deadline);
      return result;
    });
  }

  /** Runs inside a write batch. */
  #putVersionNow(version: NewObjectVersion, guard?: Guard<ObjectVersionRecord | undefined>): PutVersionResult {
    // The hot path of every write: as few statements as the semantics allow.
    this.#latest.forget(version.bucket, version.key);
    const bucket = this.#bucketNow(version.bucket);
    if (bucket === undefined) throw s3errors.noSuchBucket(version.bucket);
    if (guard !== undefined) {
      const latestRow = this.#stmt.getLatest.get(version.bucket, version.key) as VersionRow | undefined;
      guard(latestRow && versionFromRow(latestRow));
    }

    const displaced: StoredData[] = [];
    const versionId = bucket.versioning === 'Enabled' ? newVersionId() : 'null';
    if (versionId === 'null') {
      const previousNull = this.#stmt.deleteNullVersion.get(version.bucket, version.key) as Pick<VersionRow, 'inline_data' | 'blobs'> | undefined;
      if (previousNull !== undefined) displaced.push(dataFromColumns(previousNull.inline_data, previousNull.blobs));
    }
    // A never-versioned bucket holds at most the null version of a key (versioning, once enabled,
    // can only be suspended), and it was just deleted: nothing is left to be un-marked latest.
    if (bucket.versioning !== 'Unversioned') this.#stmt.clearLatest.run(version.bucket, version.key);
    // One writer per database (the data directory is locked), so an in-memory sequence is exact.
    const seq = ++this.#seq;
    const data = dataColumns(version.data);
    this.#stmt.insertVersion.run(
      version.bucket,
      version.key,
      versionId,
      seq,
      version.isDeleteMarker ? 1 : 0,
      version.size,
      version.etag,
      version.lastModifiedMs,
      JSON.stringify(version.headers),
      version.checksum === undefined ? null : JSON.stringify(version.checksum),
      JSON.stringify(version.partSizes),
      data.inline,
      data.blobs,
      version.retention?.mode ?? null,
      version.retention?.retainUntilMs ?? null,
      version.legalHold === undefined ? null : version.legalHold ? 1 : 0,
    );
    const stored: ObjectVersionRecord = { ...version, versionId, isLatest: true };
    return { version: stored, displaced };
  }

  async deleteObjectVersion(
    bucket: string,
    key: string,
    versionId: string,
    guard?: Guard<ObjectVersionRecord>,
  ): Promise<ObjectVersionRecord | undefined> {
    return this.#writes.run(() => {
      this.#latest.forget(bucket, key);
      const row = this.#stmt.getVersion.get(bucket, key, versionId) as VersionRow | undefined;
      if (row === undefined) return undefined;
      const record = versionFromRow(row);
      guard?.(record);
      this.#stmt.deleteVersion.run(bucket, key, versionId);
      if (record.isLatest) this.#stmt.promoteNewest.run(bucket, key, bucket, key);
      return record;
    });
  }

  async scanVersions(bucket: string, options: VersionScanOptions): Promise<readonly ObjectVersionRecord[]> {
    let afterSeq = -1;
    if (options.afterVersionId !== undefined) {
      const marker = this.#stmt.getVersionSeq.get(bucket, options.afterKey, options.afterVersionId) as { seq: number } | undefined;
      afterSeq = marker?.seq ?? -1;
    }
    const rows = this.#stmt.scanVersions.all({
      bucket,
      prefix: options.prefix,
      afterKey: options.afterKey,
      afterSeq,
      limit: options.limit,
    }) as VersionRow[];
    return this.#durably(rows.map(versionFromRow));
  }

  async scanLatest(bucket: string, options: ListScanOptions): Promise<readonly ObjectVersionRecord[]> {
    const rows = this.#stmt.scanLatest.all({
      bucket,
      prefix: options.prefix,
      after: options.after,
      limit: options.limit,
    }) as VersionRow[];
    return this.#durably(rows.map(versionFromRow));
  }

  async createUpload(upload: MultipartUploadRecord): Promise<void> {
    await this.#writes.run(() => {
      if (this.#stmt.getBucket.get(upload.bucket) === undefined) throw s3errors.noSuchBucket(upload.bucket);
      this.#stmt.insertUpload.run(
        upload.uploadId,
        upload.bucket,
        upload.key,
        upload.initiatedMs,
        JSON.stringify(upload.headers),
        upload.checksumAlgorithm ?? null,
        JSON.stringify(upload.lock),
      );
    });
  }

  async getUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUploadRecord | undefined> {
    const row = this.#stmt.getUpload.get(uploadId) as UploadRow | undefined;
    return this.#durably(row === undefined || row.bucket !== bucket || row.key !== key ? undefined : uploadFromRow(row));
  }

  async putPart(bucket: string, key: string, part: UploadPartRecord, deadline?: WriteDeadline): Promise<{ readonly displaced: readonly StoredData[] }> {
    return this.#writes.run(() => {
      const upload = this.#stmt.getUpload.get(part.uploadId) as UploadRow | undefined;
      if (upload === undefined || upload.bucket !== bucket || upload.key !== key) throw s3errors.noSuchUpload(part.uploadId);
      const previous = this.#stmt.getPart.get(part.uploadId, part.partNumber) as PartRow | undefined;
      const data = dataColumns(part.data);
      this.#stmt.upsertPart.run(
        part.uploadId,
        part.partNumber,
        part.size,
        part.etag,
        part.lastModifiedMs,
        part.checksum === undefined ? null : JSON.stringify(part.checksum),
        data.inline,
        data.blobs,
      );
      refuseIfPassed(deadline);
      return { displaced: previous === undefined ? [] : [partFromRow(previous).data] };
    });
  }

  async listParts(uploadId: string, afterPartNumber: number, limit: number): Promise<readonly UploadPartRecord[]> {
    return this.#durably((this.#stmt.listParts.all(uploadId, afterPartNumber, limit) as PartRow[]).map(partFromRow));
  }

  async listUploads(bucket: string, options: ListUploadsOptions): Promise<readonly MultipartUploadRecord[]> {
    const rows = this.#stmt.listUploads.all({ bucket, ...options }) as UploadRow[];
    return this.#durably(rows.map(uploadFromRow));
  }

  async completeUpload(
    bucket: string,
    key: string,
    uploadId: string,
    version: NewObjectVersion,
    usedPartNumbers: readonly number[],
    guard?: Guard<ObjectVersionRecord | undefined>,
  ): Promise<PutVersionResult> {
    return this.#writes.run(() => {
      const upload = this.#stmt.getUpload.get(uploadId) as UploadRow | undefined;
      if (upload === undefined || upload.bucket !== bucket || upload.key !== key) throw s3errors.noSuchUpload(uploadId);
      const used = new Set(usedPartNumbers);
      const unused = (this.#stmt.allParts.all(uploadId) as PartRow[])
        .filter((row) => !used.has(row.part_number))
        .map((row) => partFromRow(row).data);
      const result = this.#putVersionNow(version, guard);
      this.#stmt.deleteParts.run(uploadId);
      this.#stmt.deleteUpload.run(uploadId);
      return { version: result.version, displaced: [...result.displaced, ...unused] };
    });
  }

  async abortUpload(bucket: string, key: string, uploadId: string): Promise<readonly StoredData[] | undefined> {
    return this.#writes.run(() => {
      const upload = this.#stmt.getUpload.get(uploadId) as UploadRow | undefined;
      if (upload === undefined || upload.bucket !== bucket || upload.key !== key) return undefined;
      const parts = (this.#stmt.allParts.all(uploadId) as PartRow[]).map((row) => partFromRow(row).data);
      this.#stmt.deleteParts.run(uploadId);
      this.#stmt.deleteUpload.run(uploadId);
      return parts;
    });
  }

  async listStaleUploads(beforeMs: number, limit: number): Promise<readonly MultipartUploadRecord[]> {
    return this.#durably((this.#stmt.staleUploads.all(beforeMs, limit) as UploadRow[]).map(uploadFromRow));
  }

  async referencedBlobIds(): Promise<ReadonlySet<string>> {
    const ids = new Set<string>();
    for (const row of this.#stmt.allBlobRefs.iterate() as IterableIterator<{ blobs: string }>) {
      for (const blob of JSON.parse(row.blobs) as Array<{ blobId: string }>) ids.add(blob.blobId);
    }
    return this.#durably(ids);
  }

  async lockStatistics(nowMs: number): Promise<LockStatistics> {
    const row = this.#stmt.lockStatistics.get(nowMs, nowMs) as { retained_versions: number; retained_bytes: number; legal_hold_versions: number; legal_hold_bytes: number };
    return this.#durably({
      retainedVersions: row.retained_versions,
      retainedBytes: row.retained_bytes,
      legalHoldVersions: row.legal_hold_versions,
      legalHoldBytes: row.legal_hold_bytes,
    });
  }

  async getSetting(name: string): Promise<string | undefined> {
    const row = this.#stmt.getSetting.get(name) as { value: string } | undefined;
    return this.#durably(row?.value);
  }

  async putSetting(name: string, value: string): Promise<void> {
    await this.#writes.run(() => {
      this.#stmt.putSetting.run(name, value);
    });
  }

  /** The data directory is this process's alone, so an in-process queue per name is the lock. */
  exclusively<T>(lockName: string, work: () => Promise<T>): Promise<T> {
    return this.#exclusive.run(lockName, work);
  }

  async compareAndSetSetting(name: string, expected: string | undefined, next: string): Promise<boolean> {
    return this.#writes.run(() => {
      const row = this.#stmt.getSetting.get(name) as { value: string } | undefined;
      if (row?.value !== expected) return false;
      this.#stmt.putSetting.run(name, next);
      return true;
    });
  }

  async close(): Promise<void> {
    await this.#writes.drain();
    this.#db.close();
    await this.#wal.close();
  }
}

/** Bounds of the latest-version cache: a few thousand hot keys, and their inline bytes (objects up to inlineObjectBytes). */
const LATEST_CACHE_ENTRIES = 8192;
const LATEST_CACHE_INLINE_BYTES = 16 * 1024 * 1024;

/** Brings a data directory created by an earlier release up to the current columns. */
function addMissingColumns(db: Database.Database): void {
  for (const { table, column, type } of addedColumns) {
    const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}

/** Opaque, unique, URL-safe; S3 version ids are opaque strings up to 1024 bytes. */
function newVersionId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * See WriteDeadline: called last in a write's step of a batch (which runs synchronously, and
 * whose throw rolls back the write's savepoint); the batch's commit follows with no await between
 * them but the other writes of the batch.
 */
function refuseIfPassed(deadline: WriteDeadline | undefined): void {
  if (deadline?.passed() === true) throw s3errors.requestTimeout();
}
