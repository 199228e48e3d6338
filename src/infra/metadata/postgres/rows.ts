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

/**
 * Row shapes as node-postgres returns them, and their mapping to domain records. `bigint`
 * columns arrive as strings (node-postgres does not narrow int8 to a JS number); every value
 * stored in them came from a JS number, so `Number()` is exact. `jsonb` arrives parsed.
 */
type Int8 = string;

export interface BucketRow {
  name: string;
  created_ms: Int8;
  region: string;
  versioning: string;
  object_lock: boolean;
  default_retention: DefaultRetention | null;
  retention_bounds: RetentionBounds | null;
  controls: BucketControls | null;
}

export interface VersionRow {
  bucket: string;
  key: string;
  version_id: string;
  seq: Int8;
  is_latest: boolean;
  is_delete_marker: boolean;
  size: Int8;
  etag: string;
  last_modified_ms: Int8;
  headers: Record<string, string>;
  checksum: StoredChecksum | null;
  part_sizes: number[];
  inline_data: Buffer | null;
  blobs: BlobRef[] | null;
  retention_mode: string | null;
  retain_until_ms: Int8 | null;
  legal_hold: boolean | null;
}

export interface UploadRow {
  upload_id: string;
  bucket: string;
  key: string;
  initiated_ms: Int8;
  headers: Record<string, string>;
  checksum_algorithm: string | null;
  lock: MultipartUploadRecord['lock'] | null;
}

export interface PartRow {
  upload_id: string;
  part_number: number;
  size: Int8;
  etag: string;
  last_modified_ms: Int8;
  checksum: StoredChecksum | null;
  inline_data: Buffer | null;
  blobs: BlobRef[] | null;
}

/**
 * JSON parameters are passed as text: node-postgres would turn a JS array into a PostgreSQL
 * array literal, not JSON.
 */
export function jsonParam(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

export function bucketFromRow(row: BucketRow): BucketRecord {
  return {
    name: row.name,
    createdAtMs: Number(row.created_ms),
    region: row.region,
    versioning: row.versioning as VersioningState,
    objectLockEnabled: row.object_lock,
    defaultRetention: row.default_retention ?? undefined,
    retentionBounds: row.retention_bounds ?? undefined,
    controls: row.controls ?? {},
  };
}

export function dataFromColumns(inline: Buffer | null, blobs: BlobRef[] | null): StoredData {
  if (inline !== null) return { kind: 'inline', data: inline };
  return { kind: 'blobs', blobs: blobs ?? [] };
}

export function dataColumns(data: StoredData): { inline: Buffer | null; blobs: string | null } {
  return data.kind === 'inline' ? { inline: data.data, blobs: null } : { inline: null, blobs: JSON.stringify(data.blobs) };
}

export function versionFromRow(row: VersionRow): ObjectVersionRecord {
  return {
    bucket: row.bucket,
    key: row.key,
    versionId: row.version_id,
    isLatest: row.is_latest,
    isDeleteMarker: row.is_delete_marker,
    size: Number(row.size),
    etag: row.etag,
    lastModifiedMs: Number(row.last_modified_ms),
    headers: row.headers,
    checksum: row.checksum ?? undefined,
    partSizes: row.part_sizes,
    data: dataFromColumns(row.inline_data, row.blobs),
    retention:
      row.retention_mode === null || row.retain_until_ms === null
        ? undefined
        : { mode: row.retention_mode as RetentionMode, retainUntilMs: Number(row.retain_until_ms) },
    legalHold: row.legal_hold ?? undefined,
  };
}

export function uploadFromRow(row: UploadRow): MultipartUploadRecord {
  return {
    bucket: row.bucket,
    key: row.key,
    uploadId: row.upload_id,
    initiatedMs: Number(row.initiated_ms),
    headers: row.headers,
    checksumAlgorithm: (row.checksum_algorithm ?? undefined) as ChecksumAlgorithm | undefined,
    lock: row.lock ?? { retention: undefined, legalHold: undefined },
  };
}

export function partFromRow(row: PartRow): UploadPartRecord {
  return {
    uploadId: row.upload_id,
    partNumber: row.part_number,
    size: Number(row.size),
    etag: row.etag,
    lastModifiedMs: Number(row.last_modified_ms),
    checksum: row.checksum ?? undefined,
    data: dataFromColumns(row.inline_data, row.blobs),
  };
}
