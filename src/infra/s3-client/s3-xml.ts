import { XMLParser } from 'fast-xml-parser';
import { percentDecode } from '../../protocol/s3/auth/uri-encoding.js';

/**
 * The XML S3 answers with that this client reads: error bodies, ListObjectsV2 and
 * ListObjectVersions pages, and the Object Lock state of a bucket and of a version.
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLegalHold.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLockConfiguration.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html)
 */

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  isArray: (_name, jpath) => ARRAY_PATHS.has(String(jpath)),
});

const ARRAY_PATHS = new Set(['ListBucketResult.Contents', 'ListBucketResult.CommonPrefixes', 'ListVersionsResult.Version', 'ListVersionsResult.DeleteMarker', 'ListVersionsResult.CommonPrefixes', 'ListAllMyBucketsResult.Buckets.Bucket']);

function parse(text: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new Error('DOCTYPE and ENTITY declarations are not accepted in S3 answers');
  return parser.parse(text) as Record<string, unknown>;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export interface S3ErrorBody {
  readonly code: string | undefined;
  readonly message: string;
  readonly requestId: string | undefined;
}

/** Code, message and request id of an `<Error>` body; all undefined/empty if it is not one. */
export function parseErrorBody(body: string): S3ErrorBody {
  try {
    const error = parse(body)['Error'] as Record<string, unknown> | undefined;
    return { code: text(error?.['Code'])?.trim(), message: text(error?.['Message'])?.trim() ?? '', requestId: text(error?.['RequestId'])?.trim() };
  } catch {
    return { code: undefined, message: '', requestId: undefined };
  }
}

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModifiedMs: number;
}

export interface ListObjectsV2Page {
  readonly objects: readonly ListedObject[];
  readonly commonPrefixes: readonly string[];
  readonly nextContinuationToken: string | undefined;
  readonly isTruncated: boolean;
}

/**
 * One page of a ListObjectsV2 answer requested with `encoding-type=url`, keys decoded. S3 encodes
 * in form style (space as `+`); decoding `+` as a space is right for both S3 and servers that
 * write `%20`, since a literal `+` in a key always arrives as `%2B`.
 */
export function parseListObjectsV2(body: string): ListObjectsV2Page {
  const result = parse(body)['ListBucketResult'] as Record<string, unknown> | undefined;
  if (result === undefined) throw new Error('the answer is not a ListBucketResult');
  const urlEncoded = text(result['EncodingType'])?.toLowerCase() === 'url';
  const decodeKey = (value: string) => (urlEncoded ? percentDecode(value, true).toString('utf8') : value);
  const objects = ((result['Contents'] as Record<string, unknown>[] | undefined) ?? []).map((entry) => {
    const lastModified = Date.parse(text(entry['LastModified']) ?? '');
    return Object.freeze({
      key: decodeKey(text(entry['Key']) ?? ''),
      size: Number(text(entry['Size']) ?? NaN),
      etag: text(entry['ETag']) ?? '',
      lastModifiedMs: lastModified,
    });
  });
  const commonPrefixes = ((result['CommonPrefixes'] as Record<string, unknown>[] | undefined) ?? []).map((entry) => decodeKey(text(entry['Prefix']) ?? ''));
  const token = text(result['NextContinuationToken']);
  return {
    objects,
    commonPrefixes,
    nextContinuationToken: token === undefined || token === '' ? undefined : token,
    isTruncated: text(result['IsTruncated'])?.trim() === 'true',
  };
}

/** One entry of a ListObjectVersions answer: a version of an object, or a delete marker. */
export interface ListedObjectVersion {
  readonly key: string;
  /** `null` (the text) for the version written while versioning was off. */
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly isDeleteMarker: boolean;
  readonly lastModifiedMs: number;
  /** 0 for a delete marker. */
  readonly size: number;
  readonly etag: string;
}

export interface ListObjectVersionsPage {
  /** Versions and delete markers, in key order and, within a key, newest first. */
  readonly versions: readonly ListedObjectVersion[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker: string | undefined;
  readonly nextVersionIdMarker: string | undefined;
}

/**
 * One page of a ListObjectVersions answer requested with `encoding-type=url`, keys decoded.
 * S3 returns `<Version>` and `<DeleteMarker>` interleaved; the XML parser groups them by element
 * name, so they are put back in S3's order: by key, then newest first.
 */
export function parseListObjectVersions(body: string): ListObjectVersionsPage {
  const result = parse(body)['ListVersionsResult'] as Record<string, unknown> | undefined;
  if (result === undefined) throw new Error('the answer is not a ListVersionsResult');
  const urlEncoded = text(result['EncodingType'])?.toLowerCase() === 'url';
  const decodeKey = (value: string) => (urlEncoded ? percentDecode(value, true).toString('utf8') : value);
  const entry = (isDeleteMarker: boolean) => (raw: Record<string, unknown>): ListedObjectVersion =>
    Object.freeze({
      key: decodeKey(text(raw['Key']) ?? ''),
      versionId: text(raw['VersionId']) ?? 'null',
      isLatest: text(raw['IsLatest'])?.trim() === 'true',
      isDeleteMarker,
      lastModifiedMs: Date.parse(text(raw['LastModified']) ?? ''),
      size: isDeleteMarker ? 0 : Number(text(raw['Size']) ?? NaN),
      etag: text(raw['ETag']) ?? '',
    });
  const versions = [
    ...((result['Version'] as Record<string, unknown>[] | undefined) ?? []).map(entry(false)),
    ...((result['DeleteMarker'] as Record<string, unknown>[] | undefined) ?? []).map(entry(true)),
  ].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : b.lastModifiedMs - a.lastModifiedMs));
  const commonPrefixes = ((result['CommonPrefixes'] as Record<string, unknown>[] | undefined) ?? []).map((p) => decodeKey(text(p['Prefix']) ?? ''));
  const nextKeyMarker = text(result['NextKeyMarker']);
  const nextVersionIdMarker = text(result['NextVersionIdMarker']);
  return {
    versions,
    commonPrefixes,
    isTruncated: text(result['IsTruncated'])?.trim() === 'true',
    nextKeyMarker: nextKeyMarker === undefined || nextKeyMarker === '' ? undefined : decodeKey(nextKeyMarker),
    nextVersionIdMarker: nextVersionIdMarker === undefined || nextVersionIdMarker === '' ? undefined : nextVersionIdMarker,
  };
}

export interface ObjectRetention {
  readonly mode: string;
  readonly retainUntilMs: number;
}

/** A `<Retention>` answer (GetObjectRetention). */
export function parseRetention(body: string): ObjectRetention {
  const retention = parse(body)['Retention'] as Record<string, unknown> | undefined;
  const mode = text(retention?.['Mode'])?.trim();
  const retainUntilMs = Date.parse(text(retention?.['RetainUntilDate'])?.trim() ?? '');
  if (mode === undefined || mode === '' || !Number.isFinite(retainUntilMs)) throw new Error('the answer is not a Retention with a Mode and a RetainUntilDate');
  return Object.freeze({ mode, retainUntilMs });
}

/** A `<LegalHold>` answer (GetObjectLegalHold): whether the hold is ON. */
export function parseLegalHold(body: string): boolean {
  const status = text((parse(body)['LegalHold'] as Record<string, unknown> | undefined)?.['Status'])?.trim();
  if (status !== 'ON' && status !== 'OFF') throw new Error('the answer is not a LegalHold with Status ON or OFF');
  return status === 'ON';
}

export interface BucketObjectLock {
  readonly enabled: boolean;
  /** The bucket's default retention rule, if it has one. */
  readonly defaultRetention: { readonly mode: string; readonly days: number | undefined; readonly years: number | undefined } | undefined;
}

/** An `<ObjectLockConfiguration>` answer (GetObjectLockConfiguration). */
export function parseObjectLockConfiguration(body: string): BucketObjectLock {
  const config = parse(body)['ObjectLockConfiguration'] as Record<string, unknown> | undefined;
  if (config === undefined) throw new Error('the answer is not an ObjectLockConfiguration');
  const rule = (config['Rule'] as Record<string, unknown> | undefined)?.['DefaultRetention'] as Record<string, unknown> | undefined;
  const count = (value: unknown) => (text(value) === undefined ? undefined : Number(text(value)));
  return Object.freeze({
    enabled: text(config['ObjectLockEnabled'])?.trim() === 'Enabled',
    defaultRetention: rule === undefined ? undefined : Object.freeze({ mode: text(rule['Mode'])?.trim() ?? '', days: count(rule['Days']), years: count(rule['Years']) }),
  });
}

/** The bucket names of a `<ListAllMyBucketsResult>` answer (ListBuckets). */
export function parseListBuckets(body: string): string[] {
  const result = parse(body)['ListAllMyBucketsResult'] as Record<string, unknown> | undefined;
  if (result === undefined) throw new Error('the answer is not a ListAllMyBucketsResult');
  const buckets = (result['Buckets'] as Record<string, unknown> | undefined)?.['Bucket'];
  return (Array.isArray(buckets) ? buckets : []).map((bucket) => text((bucket as Record<string, unknown>)['Name'])?.trim() ?? '').filter((name) => name !== '');
}

/**
 * A `<VersioningConfiguration>` answer (GetBucketVersioning): `Enabled`, `Suspended`, or
 * `Disabled` for a bucket that was never versioned (the answer then has no Status).
 */
export function parseBucketVersioning(body: string): { readonly status: string; readonly mfaDelete: string | undefined } {
  const config = parse(body)['VersioningConfiguration'];
  if (config === undefined) throw new Error('the answer is not a VersioningConfiguration');
  const fields = typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : {};
  return Object.freeze({ status: text(fields['Status'])?.trim() || 'Disabled', mfaDelete: text(fields['MfaDelete'])?.trim() });
}

/** The UploadId of an `<InitiateMultipartUploadResult>`. https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html */
export function parseInitiateMultipartUpload(body: string): string {
  const result = parse(body)['InitiateMultipartUploadResult'] as Record<string, unknown> | undefined;
  const uploadId = text(result?.['UploadId'])?.trim();
  if (uploadId === undefined || uploadId === '') throw new Error('no InitiateMultipartUploadResult.UploadId');
  return uploadId;
}
