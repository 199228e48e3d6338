import type Database from 'better-sqlite3';

/**
 * Every statement the SQLite metadata store runs, prepared once. Keys compare as UTF-8 bytes
 * (BINARY collation), which is S3's listing order; prefix tests use substr rather than LIKE/GLOB
 * so that no key character is ever a wildcard.
 */
export type SqliteStatements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  const versionColumns =
    'bucket, key, version_id, seq, is_latest, is_delete_marker, size, etag, last_modified_ms, headers, checksum, part_sizes, inline_data, blobs, retention_mode, retain_until_ms, legal_hold';
  return {
    getBucket: db.prepare('SELECT * FROM buckets WHERE name = ?'),
    listBuckets: db.prepare('SELECT * FROM buckets ORDER BY name'),
    insertBucket: db.prepare(
      'INSERT INTO buckets (name, created_ms, region, versioning, object_lock, default_retention) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    deleteBucket: db.prepare('DELETE FROM buckets WHERE name = ?'),
    setVersioning: db.prepare('UPDATE buckets SET versioning = ? WHERE name = ?'),
    setRetentionBounds: db.prepare('UPDATE buckets SET retention_bounds = ? WHERE name = ?'),
    setBucketControls: db.prepare('UPDATE buckets SET controls = ? WHERE name = ?'),
    setObjectLock: db.prepare('UPDATE buckets SET object_lock = 1, default_retention = ? WHERE name = ?'),
    setVersionLock: db.prepare(
      'UPDATE versions SET retention_mode = ?, retain_until_ms = ?, legal_hold = ? WHERE bucket = ? AND key = ? AND version_id = ?',
    ),
    getVersionSeq: db.prepare('SELECT seq FROM versions WHERE bucket = ? AND key = ? AND version_id = ?'),
    scanVersions: db.prepare(
      `SELECT ${versionColumns} FROM versions
        WHERE bucket = @bucket AND key >= @prefix AND substr(key, 1, length(@prefix)) = @prefix
          AND (key > @afterKey OR (key = @afterKey AND seq < @afterSeq))
        ORDER BY key, seq DESC LIMIT @limit`,
    ),
    anyVersion: db.prepare('SELECT 1 FROM versions WHERE bucket = ? LIMIT 1'),
    anyUpload: db.prepare('SELECT 1 FROM uploads WHERE bucket = ? LIMIT 1'),
    getLatest: db.prepare(`SELECT ${versionColumns} FROM versions WHERE bucket = ? AND key = ? AND is_latest = 1`),
    getVersion: db.prepare(`SELECT ${versionColumns} FROM versions WHERE bucket = ? AND key = ? AND version_id = ?`),
    deleteNullVersion: db.prepare(
      "DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = 'null' RETURNING inline_data, blobs",
    ),
    clearLatest: db.prepare('UPDATE versions SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1'),
    insertVersion: db.prepare(
      `INSERT INTO versions (${versionColumns}) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteVersion: db.prepare('DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?'),
    promoteNewest: db.prepare(
      `UPDATE versions SET is_latest = 1 WHERE bucket = ? AND key = ? AND seq =
         (SELECT max(seq) FROM versions WHERE bucket = ? AND key = ?)`,
    ),
    // Keys compare as UTF-8 bytes (BINARY collation), which is S3's listing order. The prefix test
    // uses substr rather than LIKE/GLOB so that no key character is ever a wildcard.
    scanLatest: db.prepare(
      `SELECT ${versionColumns} FROM versions
        WHERE bucket = @bucket AND is_latest = 1 AND is_delete_marker = 0
          AND key >= @prefix AND key > @after AND substr(key, 1, length(@prefix)) = @prefix
        ORDER BY key LIMIT @limit`,
    ),
    insertUpload: db.prepare(
      'INSERT INTO uploads (upload_id, bucket, key, initiated_ms, headers, checksum_algorithm, lock) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    getUpload: db.prepare('SELECT * FROM uploads WHERE upload_id = ?'),
    // Without an upload-id marker, uploads of the key-marker's key itself are excluded (S3 semantics).
    listUploads: db.prepare(
      `SELECT * FROM uploads
        WHERE bucket = @bucket AND key >= @prefix AND substr(key, 1, length(@prefix)) = @prefix
          AND (key > @keyMarker OR (@uploadIdMarker <> '' AND key = @keyMarker AND upload_id > @uploadIdMarker))
        ORDER BY key, upload_id LIMIT @limit`,
    ),
    staleUploads: db.prepare('SELECT * FROM uploads WHERE initiated_ms < ? ORDER BY initiated_ms LIMIT ?'),
    deleteUpload: db.prepare('DELETE FROM uploads WHERE upload_id = ?'),
    getPart: db.prepare('SELECT * FROM parts WHERE upload_id = ? AND part_number = ?'),
    upsertPart: db.prepare(
      `INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, last_modified_ms, checksum, inline_data, blobs)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    listParts: db.prepare('SELECT * FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?'),
    allParts: db.prepare('SELECT * FROM parts WHERE upload_id = ? ORDER BY part_number'),
    deleteParts: db.prepare('DELETE FROM parts WHERE upload_id = ?'),
    allBlobRefs: db.prepare('SELECT blobs FROM versions WHERE blobs IS NOT NULL UNION ALL SELECT blobs FROM parts WHERE blobs IS NOT NULL'),
    getSetting: db.prepare('SELECT value FROM settings WHERE name = ?'),
    lockStatistics: db.prepare(
      `SELECT
         coalesce(sum(CASE WHEN retain_until_ms > ? THEN 1 ELSE 0 END), 0) AS retained_versions,
         coalesce(sum(CASE WHEN retain_until_ms > ? THEN size ELSE 0 END), 0) AS retained_bytes,
         coalesce(sum(CASE WHEN legal_hold = 1 THEN 1 ELSE 0 END), 0) AS legal_hold_versions,
         coalesce(sum(CASE WHEN legal_hold = 1 THEN size ELSE 0 END), 0) AS legal_hold_bytes
       FROM versions WHERE is_delete_marker = 0 AND (retain_until_ms IS NOT NULL OR legal_hold = 1)`,
    ),
    putSetting: db.prepare('INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)'),
  };
}
