/**
 * The vault's records, as the domain sees them. Storage adapters persist exactly these shapes;
 * the protocol layer renders them. All readonly: a record is a fact at one moment, and changes
 * go through the metadata store's atomic operations.
 */
import type { ChecksumAlgorithm } from '../infra/checksum/checksum.js';
import type { DefaultRetention, Retention, RetentionBounds } from './object-lock.js';

export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';

export interface BucketRecord {
  readonly name: string;
  readonly createdAtMs: number;
  readonly region: string;
  readonly versioning: VersioningState;
  readonly objectLockEnabled: boolean;
  /** The default retention new versions get (PutObjectLockConfiguration's Rule), if any. */
  readonly defaultRetention: DefaultRetention | undefined;
  /** Holdfast retention bounds (not S3): undefined when none are set. */
  readonly retentionBounds: RetentionBounds | undefined;
  /** Holdfast bucket controls: the bucket policy and the `protected` flag (not S3 state). */
  readonly controls: BucketControls;
}

/**
 * `policy`: the bucket policy's JSON text as given (PutBucketPolicy round-trips it).
 * `protected`: a backup bucket — loosening its default retention needs a second admin.
 */
export interface BucketControls {
  readonly policy?: string;
  readonly protected?: boolean;
}

/** Where an object's bytes are: small objects inline in the metadata row, others as blobs in order. */
export type StoredData =
  | { readonly kind: 'inline'; readonly data: Buffer }
  | { readonly kind: 'blobs'; readonly blobs: readonly BlobRef[] };

export interface BlobRef {
  readonly blobId: string;
  readonly size: number;
}

export interface StoredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64 digest; for a composite multipart checksum, `<base64>-<parts>`. */
  readonly value: string;
  readonly type: 'FULL_OBJECT' | 'COMPOSITE';
}

/**
 * Headers stored with an object and returned on GET/HEAD: content headers
 * (content-type, content-encoding, content-disposition, content-language, cache-control,
 * expires) and user metadata (`x-amz-meta-*`), names lower-case.
 */
export type StoredHeaders = Readonly<Record<string, string>>;

export interface ObjectVersionRecord {
  readonly bucket: string;
  readonly key: string;
  /** 'null' for writes to unversioned or suspended buckets, as S3 names it. */
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly isDeleteMarker: boolean;
  readonly size: number;
  /** Quoted, as sent in the ETag header: `"<md5 hex>"` or `"<md5 of md5s>-<parts>"`. */
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly headers: StoredHeaders;
  readonly checksum: StoredChecksum | undefined;
  /** Sizes of the parts of a multipart object (for GET ?partNumber=), empty for single-part. */
  readonly partSizes: readonly number[];
  readonly data: StoredData;
  /** Object Lock retention of this version, if any (expired retention is kept as a fact). */
  readonly retention: Retention | undefined;
  /** Legal hold; undefined when never set (S3 then omits the header). */
  readonly legalHold: boolean | undefined;
}

export interface MultipartUploadRecord {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly initiatedMs: number;
  readonly headers: StoredHeaders;
  readonly checksumAlgorithm: ChecksumAlgorithm | undefined;
  /** Lock settings asked for at CreateMultipartUpload, applied at completion. */
  readonly lock: { readonly retention: Retention | undefined; readonly legalHold: boolean | undefined };
}

export interface UploadPartRecord {
  readonly uploadId: string;
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly checksum: StoredChecksum | undefined;
  readonly data: StoredData;
}
