import type { ChecksumAlgorithm } from '../../checksum/checksum.js';
import type { DefaultRetention, RetentionBounds, RetentionMode } from '../../../domain/object-lock.js';
import type {
  BlobRef,
  BucketControls,
  BucketRecord,
  MultipartUploadRecord,
  ObjectVersionRecord,
  StoredChecksum,
  StoredData,
  UploadPartRecord,
  VersioningState,
} from '../../../domain/model.js';

/** Row shapes as SQLite returns them, and their mapping to domain records. */
export interface BucketRow {
  name: string;
  created_ms: number;
  region: string;
  versioning: string;
  object_lock: number;
  default_retention: string | null;
  retention_bounds: string | null;
  controls: string | null;
}

export interface VersionRow {
  bucket: string;
  key: string;
  version_id: string;
  seq: number;
  is_latest: number;
  is_delete_marker: number;
  size: number;
  etag: string;
  last_modified_ms: number;
  headers: string;
  checksum: string | null;
  part_sizes: string;
  inline_data: Buffer | null;
  blobs: string | null;
  retention_mode: string | null;
  retain_until_ms: number | null;
  legal_hold: number | null;
}

export interface UploadRow {
  upload_id: string;
  bucket: string;
  key: string;
  initiated_ms: number;
  headers: string;
  checksum_algorithm: string | null;
  lock: string | null;
}

export interface PartRow {
  upload_id: string;
  part_number: number;
  size: number;
  etag: string;
  last_modified_ms: number;
  checksum: string | null;
  inline_data: Buffer | null;
  blobs: string | null;
}

export function bucketFromRow(row: BucketRow): BucketRecord {
  return {
    name: row.name,
    createdAtMs: row.created_ms,
    region: row.region,
    versioning: row.versioning as VersioningState,
    objectLockEnabled: row.object_lock === 1,
    defaultRetention: row.default_retention === null ? undefined : (JSON.parse(row.default_retention) as DefaultRetention),
    retentionBounds: row.retention_bounds === null ? undefined : (JSON.parse(row.retention_bounds) as RetentionBounds),
    controls: row.controls === null ? {} : (JSON.parse(row.controls) as BucketControls),
  };
}

export function dataFromColumns(inline: Buffer | null, blobs: string | null): StoredData {
  if (inline !== null) return { kind: 'inline', data: inline };
  return { kind: 'blobs', blobs: JSON.parse(blobs ?? '[]') as BlobRef[] };
}

export function dataColumns(data: StoredData): { inline: Buffer | null; blobs: string | null } {
  return data.kind === 'inline'
    ? { inline: data.data, blobs: null }
    : { inline: null, blobs: JSON.stringify(data.blobs) };
}

function checksumFromColumn(column: string | null): StoredChecksum | undefined {
  return column === null ? undefined : (JSON.parse(column) as StoredChecksum);
}

export function versionFromRow(row: VersionRow): ObjectVersionRecord {
  return {
    bucket: row.bucket,
    key: row.key,
    versionId: row.version_id,
    isLatest: row.is_latest === 1,
    isDeleteMarker: row.is_delete_marker === 1,
    size: row.size,
    etag: row.etag,
    lastModifiedMs: row.last_modified_ms,
    headers: JSON.parse(row.headers) as Record<string, string>,
    checksum: checksumFromColumn(row.checksum),
    partSizes: JSON.parse(row.part_sizes) as number[],
    data: dataFromColumns(row.inline_data, row.blobs),
    retention:
      row.retention_mode === null || row.retain_until_ms === null
        ? undefined
        : { mode: row.retention_mode as RetentionMode, retainUntilMs: row.retain_until_ms },
    legalHold: row.legal_hold === null ? undefined : row.legal_hold === 1,
  };
}

export function uploadFromRow(row: UploadRow): MultipartUploadRecord {
  return {
    bucket: row.bucket,
    key: row.key,
    uploadId: row.upload_id,
    initiatedMs: row.initiated_ms,
    headers: JSON.parse(row.headers) as Record<string, string>,
    checksumAlgorithm: (row.checksum_algorithm ?? undefined) as ChecksumAlgorithm | undefined,
    lock: row.lock === null ? { retention: undefined, legalHold: undefined } : (JSON.parse(row.lock) as MultipartUploadRecord['lock']),
  };
}

export function partFromRow(row: PartRow): UploadPartRecord {
  return {
    uploadId: row.upload_id,
    partNumber: row.part_number,
    size: row.size,
    etag: row.etag,
    lastModifiedMs: row.last_modified_ms,
    checksum: checksumFromColumn(row.checksum),
    data: dataFromColumns(row.inline_data, row.blobs),
  };
}
