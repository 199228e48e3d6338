/**
 * The embedded metadata schema. Keys are TEXT compared with SQLite's default BINARY collation,
 * i.e. by UTF-8 bytes: S3's listing order. STRICT tables make a wrong type an error, not a
 * silent coercion.
 */
export const schema = `
CREATE TABLE IF NOT EXISTS buckets (
  name TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL,
  region TEXT NOT NULL,
  versioning TEXT NOT NULL,
  object_lock INTEGER NOT NULL,
  default_retention TEXT,
  retention_bounds TEXT,
  controls TEXT
) STRICT;

CREATE TABLE IF NOT EXISTS versions (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  version_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  is_latest INTEGER NOT NULL,
  is_delete_marker INTEGER NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified_ms INTEGER NOT NULL,
  headers TEXT NOT NULL,
  checksum TEXT,
  part_sizes TEXT NOT NULL,
  inline_data BLOB,
  blobs TEXT,
  retention_mode TEXT,
  retain_until_ms INTEGER,
  legal_hold INTEGER,
  PRIMARY KEY (bucket, key, version_id)
) STRICT;
CREATE INDEX IF NOT EXISTS versions_by_seq ON versions (bucket, key, seq);
CREATE UNIQUE INDEX IF NOT EXISTS versions_one_latest ON versions (bucket, key) WHERE is_latest = 1;
-- Listing and the latest-version lookup both use versions_one_latest (EXPLAIN QUERY PLAN); this
-- narrower copy of it was never read and cost every write a fifth B-tree insert.
DROP INDEX IF EXISTS versions_latest;

CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  initiated_ms INTEGER NOT NULL,
  headers TEXT NOT NULL,
  checksum_algorithm TEXT,
  lock TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, upload_id);
CREATE INDEX IF NOT EXISTS uploads_by_age ON uploads (initiated_ms);

CREATE TABLE IF NOT EXISTS parts (
  upload_id TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified_ms INTEGER NOT NULL,
  checksum TEXT,
  inline_data BLOB,
  blobs TEXT,
  PRIMARY KEY (upload_id, part_number)
) STRICT;

CREATE TABLE IF NOT EXISTS settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`;

/** Columns added after the first schema: added in place to data directories created before them. */
export const addedColumns: ReadonlyArray<{ table: string; column: string; type: string }> = [
  { table: 'buckets', column: 'default_retention', type: 'TEXT' },
  { table: 'buckets', column: 'retention_bounds', type: 'TEXT' },
  { table: 'versions', column: 'retention_mode', type: 'TEXT' },
  { table: 'versions', column: 'retain_until_ms', type: 'INTEGER' },
  { table: 'versions', column: 'legal_hold', type: 'INTEGER' },
  { table: 'uploads', column: 'lock', type: 'TEXT' },
  { table: 'buckets', column: 'controls', type: 'TEXT' },
];
