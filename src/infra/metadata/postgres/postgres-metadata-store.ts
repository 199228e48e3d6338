import { randomBytes } from 'node:crypto';
import pg from 'pg';
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
import {
  type BucketRow,
  type PartRow,
  type UploadRow,
  type VersionRow,
  bucketFromRow,
  dataColumns,
  jsonParam,
  partFromRow,
  uploadFromRow,
  versionFromRow,
} from './rows.js';
import { migrate } from './schema.js';
import { applyChange, checkGuard, inTransaction, query } from './transactions.js';
import { NamedQueues } from '../named-queues.js';

export interface PostgresMetadataStoreOptions {
  /** The PostgreSQL schema (namespace) holding the tables; created if missing. */
  readonly schema?: string;
  /** Shorter bounds than METADATA_POOL_TIMEOUTS, for tests. */
  readonly timeouts?: Partial<typeof METADATA_POOL_TIMEOUTS>;
}

const versionColumns =
  'bucket, key, version_id, seq, is_latest, is_delete_marker, size, etag, last_modified_ms, headers, checksum, part_sizes, inline_data, blobs, retention_mode, retain_until_ms, legal_hold';

/**
 * Metadata in PostgreSQL, for the scale-out deployment: any number of stateless vault nodes
 * share one database, so nothing is cached and every operation is one transaction that locks
 * what it depends on.
 *
 * Lock order (always the same, so transactions wait rather than deadlock): upload row → bucket
 * row → the key's advisory lock → version rows. Writes to objects take the bucket row FOR KEY
 * SHARE (many writers at once; DeleteBucket and bucket configuration changes take it FOR UPDATE
 * and so wait for, or hold off, every write into the bucket) and a transaction-level advisory
 * lock on (bucket, key), which serializes writers of one key even before it has any row to lock.
 *
 * Durability: the pool's sessions run with synchronous_commit=on, so COMMIT returns only once
 * the commit record is flushed to the WAL (PostgreSQL docs, "Asynchronous Commit").
 */
/**
 * Every wait of the store's own pool is bounded, well under a cluster write's deadline (30 min,
 * see WriteDeadline), so a request stuck behind an exhausted pool, a lock or a stalled server
 * fails instead of hanging: getting a connection (30 s), a statement (5 min, which also bounds
 * lock waits; the orphan sweep's scan of every blob reference is the longest), a session left
 * idle inside a transaction (1 min; PostgreSQL docs, "Client Connection Defaults"), and, on the
 * client, a query whose answer never comes back (a half-open TCP connection after a failover,
 * which no server-side timeout sees), with TCP keepalives on.
 */
export const METADATA_POOL_TIMEOUTS: Readonly<Record<'connectionTimeoutMs' | 'statementTimeoutMs' | 'idleInTransactionTimeoutMs' | 'queryTimeoutMs', number>> = Object.freeze({
  connectionTimeoutMs: 30_000,
  statementTimeoutMs: 5 * 60_000,
  idleInTransactionTimeoutMs: 60_000,
  /** A little over the statement timeout, so the server's own error normally comes first. */
  queryTimeoutMs: 5 * 60_000 + 30_000,
});

export class PostgresMetadataStore implements MetadataStore {
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #schema: string;
  /** This process's callers of `exclusively`, queued per lock name (see there). */
  readonly #exclusive = new NamedQueues();
  /** Table names qualified with the quoted schema. */
  readonly #t: Readonly<Record<'buckets' | 'versions' | 'uploads' | 'parts' | 'settings', string>>;

  /** Uses a pool whose tables already exist (see `open`); `close` ends the pool only if `ownsPool`. */
  constructor(pool: pg.Pool, options: PostgresMetadataStoreOptions & { readonly ownsPool?: boolean } = {}) {
    this.#pool = pool;
    this.#ownsPool = options.ownsPool ?? false;
    this.#schema = options.schema ?? 'holdfast';
    const s = pg.escapeIdentifier(this.#schema);
    this.#t = { buckets: `${s}.buckets`, versions: `${s}.versions`, uploads: `${s}.uploads`, parts: `${s}.parts`, settings: `${s}.settings` };
  }

  /** Connects, creates the schema and tables if missing, and returns a store that owns its pool. */
  static async open(connection: string | pg.Pool, options: PostgresMetadataStoreOptions = {}): Promise<PostgresMetadataStore> {
    const schema = options.schema ?? 'holdfast';
    if (schema.length === 0 || Buffer.byteLength(schema) > 63) {
      throw new Error(`PostgreSQL metadata store: schema name must be 1 to 63 bytes, got '${schema}'`);
    }
    const ownsPool = typeof connection === 'string';
    const t = { ...METADATA_POOL_TIMEOUTS, ...options.timeouts };
    const pool = ownsPool
      ? new pg.Pool({
          connectionString: connection,
          options: `-c synchronous_commit=on -c statement_timeout=${t.statementTimeoutMs} -c idle_in_transaction_session_timeout=${t.idleInTransactionTimeoutMs}`,
          connectionTimeoutMillis: t.connectionTimeoutMs,
          query_timeout: t.queryTimeoutMs,
          keepAlive: true,
        })
      : connection;
    // An idle pooled connection that breaks (server restart, failover) is emitted as 'error' on
    // the pool, which would end the process if unhandled. The pool has already discarded it, and
    // the next query reports any lasting outage as ServiceUnavailable.
    if (ownsPool) pool.on('error', () => undefined);
    try {
      await migrate(pool, schema);
    } catch (e) {
      if (ownsPool) await pool.end();
      throw e;
    }
    return new PostgresMetadataStore(pool, { schema, ownsPool });
  }

  async createBucket(bucket: BucketRecord): Promise<void> {
    // ON CONFLICT rather than catching unique_violation (23505): the answer is the same and the
    // transaction is not aborted.
    const bounds = bucket.retentionBounds;
    const inserted = await query(
      this.#pool,
      `INSERT INTO ${this.#t.buckets} (name, created_ms, region, versioning, object_lock, default_retention, retention_bounds)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING RETURNING name`,
      [bucket.name, bucket.createdAtMs, bucket.region, bucket.versioning, bucket.objectLockEnabled, jsonParam(bucket.defaultRetention), jsonParam(bounds)],
    );
    if (inserted.length === 0) throw s3errors.bucketAlreadyOwnedByYou(bucket.name);
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const [row] = await query<BucketRow>(this.#pool, `SELECT * FROM ${this.#t.buckets} WHERE name = $1`, [name]);
    return row && bucketFromRow(row);
  }

  async listBuckets(): Promise<readonly BucketRecord[]> {
    return (await query<BucketRow>(this.#pool, `SELECT * FROM ${this.#t.buckets} ORDER BY name`, [])).map(bucketFromRow);
  }

  async setBucketVersioning(name: string, state: 'Enabled' | 'Suspended'): Promise<BucketRecord> {
    return inTransaction(this.#pool, async (c) => {
      const bucket = await this.#lockBucket(c, name, 'UPDATE');
      if (state === 'Suspended' && bucket.objectLockEnabled) {
        throw new S3Error('InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
      }
      await c.query(`UPDATE ${this.#t.buckets} SET versioning = $1 WHERE name = $2`, [state, name]);
      return { ...bucket, versioning: state };
    });
  }

  async setObjectLockConfiguration(name: string, defaultRetention: DefaultRetention | undefined): Promise<BucketRecord> {
    return inTransaction(this.#pool, async (c) => {
      const bucket = await this.#lockBucket(c, name, 'UPDATE');
      if (bucket.versioning !== 'Enabled') {
        throw new S3Error('InvalidBucketState', 'Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration');
      }
      await c.query(`UPDATE ${this.#t.buckets} SET object_lock = true, default_retention = $1 WHERE name = $2`, [
        jsonParam(defaultRetention),
        name,
      ]);
      return { ...bucket, objectLockEnabled: true, defaultRetention };
    });
  }

  async setRetentionBounds(name: string, bounds: RetentionBounds | undefined): Promise<BucketRecord> {
    return inTransaction(this.#pool, async (c) => {
      await this.#lockBucket(c, name, 'UPDATE');
      const { rows } = await c.query<BucketRow>(`UPDATE ${this.#t.buckets} SET retention_bounds = $1 WHERE name = $2 RETURNING *`, [
        jsonParam(bounds),
        name,
      ]);
      return bucketFromRow(rows[0]!);
    });
  }

  async updateBucketControls(name: string, update: (current: BucketControls) => BucketControls): Promise<BucketRecord> {
    return inTransaction(this.#pool, async (c) => {
      // FOR UPDATE: a concurrent change of the controls waits, then reads what this one wrote.
      const bucket = await this.#lockBucket(c, name, 'UPDATE');
      const controls = applyChange(update, bucket.controls);
      const { rows } = await c.query<BucketRow>(`UPDATE ${this.#t.buckets} SET controls = $1 WHERE name = $2 RETURNING *`, [jsonParam(controls), name]);
      return bucketFromRow(rows[0]!);
    });
  }

  async updateVersionLock(
    bucket: string,
    key: string,
    versionId: string,
    change: (current: ObjectVersionRecord) => Pick<ObjectVersionRecord, 'retention' | 'legalHold'>,
  ): Promise<ObjectVersionRecord> {
    return inTransaction(this.#pool, async (c) => {
      const row = await this.#version(c, bucket, key, versionId, true);
      if (row === undefined) throw s3errors.noSuchVersion(key, versionId);
      const current = versionFromRow(row);
      const next = applyChange(change, current);
      await c.query(
        `UPDATE ${this.#t.versions} SET retention_mode = $1, retain_until_ms = $2, legal_hold = $3
          WHERE bucket = $4 AND key = $5 AND version_id = $6`,
        [next.retention?.mode ?? null, next.retention?.retainUntilMs ?? null, next.legalHold ?? null, bucket, key, versionId],
      );
      return { ...current, ...next };
    });
  }

  async deleteBucket(name: string): Promise<void> {
    await inTransaction(this.#pool, async (c) => {
      // FOR UPDATE waits for every write into the bucket that holds it FOR KEY SHARE, and holds
      // off new ones; once granted, what the checks below read is final.
      await this.#lockBucket(c, name, 'UPDATE');
      const { rows } = await c.query(
        `SELECT EXISTS (SELECT 1 FROM ${this.#t.versions} WHERE bucket = $1)
             OR EXISTS (SELECT 1 FROM ${this.#t.uploads} WHERE bucket = $1) AS in_use`,
        [name],
      );
      if ((rows[0] as { in_use: boolean } | undefined)?.in_use !== false) throw s3errors.bucketNotEmpty(name);
      await c.query(`DELETE FROM ${this.#t.buckets} WHERE name = $1`, [name]);
    });
  }

  async getObjectVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersionRecord | undefined> {
    const [row] =
      versionId === undefined
        ? await query<VersionRow>(this.#pool, `SELECT ${versionColumns} FROM ${this.#t.versions} WHERE bucket = $1 AND key = $2 AND is_latest`, [bucket, key])
        : await query<VersionRow>(this.#pool, `SELECT ${versionColumns} FROM ${this.#t.versions} WHERE bucket = $1 AND key = $2 AND version_id = $3`, [bucket, key, versionId]);
    return row && versionFromRow(row);
  }

  async putObjectVersion(version: NewObjectVersion, guard?: Guard<ObjectVersionRecord | undefined>, deadline?: WriteDeadline): Promise<PutVersionResult> {
    return inTransaction(this.#pool, (c) => this.#putVersion(c, version, guard), deadline);
  }

  /** Runs inside a transaction. */
  async #putVersion(c: pg.PoolClient, version: NewObjectVersion, guard?: Guard<ObjectVersionRecord | undefined>): Promise<PutVersionResult> {
    const bucket = await this.#lockBucket(c, version.bucket, 'KEY SHARE');
    await this.#lockKey(c, version.bucket, version.key);
    const { rows: latestRows } = await c.query<VersionRow>(
      `SELECT ${versionColumns} FROM ${this.#t.versions} WHERE bucket = $1 AND key = $2 AND is_latest FOR UPDATE`,
      [version.bucket, version.key],
    );
    const latest = latestRows[0] && versionFromRow(latestRows[0]);
    checkGuard(guard, latest);

    const displaced: StoredData[] = [];
    const versionId = bucket.versioning === 'Enabled' ? newVersionId() : 'null';
    if (versionId === 'null') {
      const { rows } = await c.query<Pick<VersionRow, 'inline_data' | 'blobs'>>(
        `DELETE FROM ${this.#t.versions} WHERE bucket = $1 AND key = $2 AND version_id = 'null' RETURNING inline_data, blobs`,
        [version.bucket, version.key],
      );
      for (const row of rows) displaced.push(row.inline_data !== null ? { kind: 'inline', data: row.inline_data } : { kind: 'blobs', blobs: row.blobs ?? [] });
    }
    // The null version, if it was the latest, is already gone.
    if (latest !== undefined && !(versionId === 'null' && latest.versionId === 'null')) {
      await c.query(`UPDATE ${this.#t.versions} SET is_latest = false WHERE bucket = $1 AND key = $2 AND is_latest`, [version.bucket, version.key]);
    }
    const data = dataColumns(version.data);
    await c.query(
      `INSERT INTO ${this.#t.versions} (bucket, key, version_id, is_latest, is_delete_marker, size, etag, last_modified_ms,
         headers, checksum, part_sizes, inline_data, blobs, retention_mode, retain_until_ms, legal_hold)
       VALUES ($1, $2, $3, true, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        version.bucket,
        version.key,
        versionId,
        version.isDeleteMarker,
        version.size,
        version.etag,
        version.lastModifiedMs,
        jsonParam(version.headers),
        jsonParam(version.checksum),
        jsonParam(version.partSizes),
        data.inline,
        data.blobs,
        version.retention?.mode ?? null,
        version.retention?.retainUntilMs ?? null,
        version.legalHold ?? null,
      ],
    );
    return { version: { ...version, versionId, isLatest: true }, displaced };
  }

  async deleteObjectVersion(
    bucket: string,
    key: string,
    versionId: string,
    guard?: Guard<ObjectVersionRecord>,
  ): Promise<ObjectVersionRecord | undefined> {
    return inTransaction(this.#pool, async (c) => {
      await this.#lockKey(c, bucket, key);
      const row = await this.#version(c, bucket, key, versionId, true);
      if (row === undefined) return undefined;
      const record = versionFromRow(row);
      checkGuard(guard, record);
      await c.query(`DELETE FROM ${this.#t.versions} WHERE bucket = $1 AND key = $2 AND version_id = $3`, [bucket, key, versionId]);
      if (record.isLatest) {
        await c.query(
          `UPDATE ${this.#t.versions} SET is_latest = true WHERE bucket = $1 AND key = $2 AND seq =
             (SELECT max(seq) FROM ${this.#t.versions} WHERE bucket = $1 AND key = $2)`,
          [bucket, key],
        );
      }
      return record;
    });
  }

  async scanVersions(bucket: string, options: VersionScanOptions): Promise<readonly ObjectVersionRecord[]> {
    // Without a version marker (or with one that no longer exists), every version of afterKey is skipped.
    const rows = await query<VersionRow>(
      this.#pool,
      `SELECT ${versionColumns} FROM ${this.#t.versions}
        WHERE bucket = $1 AND key >= $2 AND starts_with(key, $2)
          AND (key > $3 OR (key = $3 AND seq < coalesce(
            (SELECT seq FROM ${this.#t.versions} WHERE bucket = $1 AND key = $3 AND version_id = $4), -1)))
        ORDER BY key, seq DESC LIMIT $5`,
      [bucket, options.prefix, options.afterKey, options.afterVersionId ?? null, options.limit],
    );
    return rows.map(versionFromRow);
  }

  async scanLatest(bucket: string, options: ListScanOptions): Promise<readonly ObjectVersionRecord[]> {
    // starts_with, not LIKE: no key character is ever a wildcard.
    const rows = await query<VersionRow>(
      this.#pool,
      `SELECT ${versionColumns} FROM ${this.#t.versions}
        WHERE bucket = $1 AND is_latest AND NOT is_delete_marker
          AND key >= $2 AND key > $3 AND starts_with(key, $2)
        ORDER BY key LIMIT $4`,
      [bucket, options.prefix, options.after, options.limit],
    );
    return rows.map(versionFromRow);
  }

  async createUpload(upload: MultipartUploadRecord): Promise<void> {
    await inTransaction(this.#pool, async (c) => {
      await this.#lockBucket(c, upload.bucket, 'KEY SHARE');
      await c.query(
        `INSERT INTO ${this.#t.uploads} (upload_id, bucket, key, initiated_ms, headers, checksum_algorithm, lock)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [upload.uploadId, upload.bucket, upload.key, upload.initiatedMs, jsonParam(upload.headers), upload.checksumAlgorithm ?? null, jsonParam(upload.lock)],
      );
    });
  }

  async getUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUploadRecord | undefined> {
    const [row] = await query<UploadRow>(this.#pool, `SELECT * FROM ${this.#t.uploads} WHERE upload_id = $1`, [uploadId]);
    if (row === undefined || row.bucket !== bucket || row.key !== key) return undefined;
    return uploadFromRow(row);
  }

  async putPart(bucket: string, key: string, part: UploadPartRecord, deadline?: WriteDeadline): Promise<{ readonly displaced: readonly StoredData[] }> {
    return inTransaction(this.#pool, async (c) => {
      // FOR SHARE: parts of one upload are written concurrently; complete and abort take FOR UPDATE.
      await this.#lockUpload(c, bucket, key, part.uploadId, 'SHARE');
      const data = dataColumns(part.data);
      const values = [part.uploadId, part.partNumber, part.size, part.etag, part.lastModifiedMs, jsonParam(part.checksum), data.inline, data.blobs];
      // A first upload of this number inserts. Otherwise (ON CONFLICT waits for a concurrent
      // insert of the same number to commit), lock the existing part to return its data.
      const inserted = await c.query(
        `INSERT INTO ${this.#t.parts} (upload_id, part_number, size, etag, last_modified_ms, checksum, inline_data, blobs)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (upload_id, part_number) DO NOTHING`,
        values,
      );
      if (inserted.rowCount === 1) return { displaced: [] };
      const { rows } = await c.query<PartRow>(
        `SELECT * FROM ${this.#t.parts} WHERE upload_id = $1 AND part_number = $2 FOR UPDATE`,
        [part.uploadId, part.partNumber],
      );
      await c.query(
        `UPDATE ${this.#t.parts} SET size = $3, etag = $4, last_modified_ms = $5, checksum = $6, inline_data = $7, blobs = $8
          WHERE upload_id = $1 AND part_number = $2`,
        values,
      );
      return { displaced: rows.map((row) => partFromRow(row).data) };
    }, deadline);
  }

  async listParts(uploadId: string, afterPartNumber: number, limit: number): Promise<readonly UploadPartRecord[]> {
    const rows = await query<PartRow>(
      this.#pool,
      `SELECT * FROM ${this.#t.parts} WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3`,
      [uploadId, afterPartNumber, limit],
    );
    return rows.map(partFromRow);
  }

  async listUploads(bucket: string, options: ListUploadsOptions): Promise<readonly MultipartUploadRecord[]> {
    // Without an upload-id marker, uploads of the key-marker's key itself are excluded (S3 semantics).
    const rows = await query<UploadRow>(
      this.#pool,
      `SELECT * FROM ${this.#t.uploads}
        WHERE bucket = $1 AND key >= $2 AND starts_with(key, $2)
          AND (key > $3 OR ($4 <> '' AND key = $3 AND upload_id > $4))
        ORDER BY key, upload_id LIMIT $5`,
      [bucket, options.prefix, options.keyMarker, options.uploadIdMarker, options.limit],
    );
    return rows.map(uploadFromRow);
  }

  async completeUpload(
    bucket: string,
    key: string,
    uploadId: string,
    version: NewObjectVersion,
    usedPartNumbers: readonly number[],
    guard?: Guard<ObjectVersionRecord | undefined>,
  ): Promise<PutVersionResult> {
    return inTransaction(this.#pool, async (c) => {
      await this.#lockUpload(c, bucket, key, uploadId, 'UPDATE');
      const used = new Set(usedPartNumbers);
      const result = await this.#putVersion(c, version, guard);
      const { rows } = await c.query<PartRow>(`DELETE FROM ${this.#t.parts} WHERE upload_id = $1 RETURNING *`, [uploadId]);
      await c.query(`DELETE FROM ${this.#t.uploads} WHERE upload_id = $1`, [uploadId]);
      const unused = rows
        .sort((a, b) => a.part_number - b.part_number)
        .filter((row) => !used.has(row.part_number))
        .map((row) => partFromRow(row).data);
      return { version: result.version, displaced: [...result.displaced, ...unused] };
    });
  }

  async abortUpload(bucket: string, key: string, uploadId: string): Promise<readonly StoredData[] | undefined> {
    return inTransaction(this.#pool, async (c) => {
      const { rows: uploads } = await c.query<UploadRow>(`SELECT * FROM ${this.#t.uploads} WHERE upload_id = $1 FOR UPDATE`, [uploadId]);
      const upload = uploads[0];
      if (upload === undefined || upload.bucket !== bucket || upload.key !== key) return undefined;
      const { rows } = await c.query<PartRow>(`DELETE FROM ${this.#t.parts} WHERE upload_id = $1 RETURNING *`, [uploadId]);
      await c.query(`DELETE FROM ${this.#t.uploads} WHERE upload_id = $1`, [uploadId]);
      return rows.sort((a, b) => a.part_number - b.part_number).map((row) => partFromRow(row).data);
    });
  }

  async listStaleUploads(beforeMs: number, limit: number): Promise<readonly MultipartUploadRecord[]> {
    const rows = await query<UploadRow>(
      this.#pool,
      `SELECT * FROM ${this.#t.uploads} WHERE initiated_ms < $1 ORDER BY initiated_ms LIMIT $2`,
      [beforeMs, limit],
    );
    return rows.map(uploadFromRow);
  }

  async referencedBlobIds(): Promise<ReadonlySet<string>> {
    const rows = await query<{ id: string }>(
      this.#pool,
      `SELECT blob ->> 'blobId' AS id FROM ${this.#t.versions}, jsonb_array_elements(blobs) AS blob WHERE blobs IS NOT NULL
       UNION
       SELECT blob ->> 'blobId' AS id FROM ${this.#t.parts}, jsonb_array_elements(blobs) AS blob WHERE blobs IS NOT NULL`,
      [],
    );
    return new Set(rows.map((row) => row.id));
  }

  async lockStatistics(nowMs: number): Promise<LockStatistics> {
    const [row] = await query<{ retained_versions: string; retained_bytes: string; legal_hold_versions: string; legal_hold_bytes: string }>(
      this.#pool,
      `SELECT
         count(*) FILTER (WHERE retain_until_ms > $1) AS retained_versions,
         coalesce(sum(size) FILTER (WHERE retain_until_ms > $1), 0) AS retained_bytes,
         count(*) FILTER (WHERE legal_hold) AS legal_hold_versions,
         coalesce(sum(size) FILTER (WHERE legal_hold), 0) AS legal_hold_bytes
       FROM ${this.#t.versions} WHERE NOT is_delete_marker AND (retain_until_ms IS NOT NULL OR legal_hold)`,
      [nowMs],
    );
    return {
      retainedVersions: Number(row?.retained_versions ?? 0),
      retainedBytes: Number(row?.retained_bytes ?? 0),
      legalHoldVersions: Number(row?.legal_hold_versions ?? 0),
      legalHoldBytes: Number(row?.legal_hold_bytes ?? 0),
    };
  }

  async getSetting(name: string): Promise<string | undefined> {
    const [row] = await query<{ value: string }>(this.#pool, `SELECT value FROM ${this.#t.settings} WHERE name = $1`, [name]);
    return row?.value;
  }

  async putSetting(name: string, value: string): Promise<void> {
    await query(
      this.#pool,
      `INSERT INTO ${this.#t.settings} (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`,
      [name, value],
    );
  }

  /**
   * A session advisory lock on a connection of its own, held while `work` runs (its queries use
   * other pooled connections). Callers in this process queue first, so at most one pooled
   * connection per name waits for the lock and the pool cannot be filled with waiters while the
   * holder needs a connection. The wait is bounded by statement_timeout.
   */
  exclusively<T>(lockName: string, work: () => Promise<T>): Promise<T> {
    return this.#exclusive.run(lockName, async () => {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch {
        throw s3errors.serviceUnavailable();
      }
      const key = `${this.#schema}/${lockName}`;
      let locked = false;
      try {
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
        locked = true;
        return await work();
      } finally {
        const unlocked = locked ? await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).then(() => true, () => false) : true;
        // A session that may still hold the lock is ended rather than returned to the pool.
        client.release(unlocked ? undefined : true);
      }
    });
  }

  async compareAndSetSetting(name: string, expected: string | undefined, next: string): Promise<boolean> {
    // One statement each: at READ COMMITTED an UPDATE that waited for a concurrent one re-checks
    // its WHERE against the row that one committed (PostgreSQL docs, "Read Committed Isolation
    // Level"), so of two writers that read the same value only one matches.
    const rows =
      expected === undefined
        ? await query(this.#pool, `INSERT INTO ${this.#t.settings} (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name`, [name, next])
        : await query(this.#pool, `UPDATE ${this.#t.settings} SET value = $3 WHERE name = $1 AND value = $2 RETURNING name`, [name, expected, next]);
    return rows.length === 1;
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.end();
  }

  /** Reads and locks a bucket row, or throws NoSuchBucket. */
  async #lockBucket(c: pg.PoolClient, name: string, mode: 'UPDATE' | 'KEY SHARE'): Promise<BucketRecord> {
    const { rows } = await c.query<BucketRow>(`SELECT * FROM ${this.#t.buckets} WHERE name = $1 FOR ${mode}`, [name]);
    if (rows[0] === undefined) throw s3errors.noSuchBucket(name);
    return bucketFromRow(rows[0]);
  }

  /** Reads and locks an upload row, or throws NoSuchUpload. */
  async #lockUpload(c: pg.PoolClient, bucket: string, key: string, uploadId: string, mode: 'UPDATE' | 'SHARE'): Promise<void> {
    const { rows } = await c.query<UploadRow>(`SELECT bucket, key FROM ${this.#t.uploads} WHERE upload_id = $1 FOR ${mode}`, [uploadId]);
    const upload = rows[0];
    if (upload === undefined || upload.bucket !== bucket || upload.key !== key) throw s3errors.noSuchUpload(uploadId);
  }

  /**
   * Serializes the writers of one key until commit, including the first writers of a key that
   * has no row yet to lock. The lock id is a 64-bit hash: a collision only makes two keys wait
   * for each other. Bucket names cannot contain '/', so the text is unambiguous.
   */
  async #lockKey(c: pg.PoolClient, bucket: string, key: string): Promise<void> {
    await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${this.#schema}/${bucket}/${key}`]);
  }

  async #version(c: pg.PoolClient, bucket: string, key: string, versionId: string, forUpdate: boolean): Promise<VersionRow | undefined> {
    const { rows } = await c.query<VersionRow>(
      `SELECT ${versionColumns} FROM ${this.#t.versions} WHERE bucket = $1 AND key = $2 AND version_id = $3${forUpdate ? ' FOR UPDATE' : ''}`,
      [bucket, key, versionId],
    );
    return rows[0];
  }
}

/** Opaque, unique, URL-safe; S3 version ids are opaque strings up to 1024 bytes. */
function newVersionId(): string {
  return randomBytes(16).toString('base64url');
}
