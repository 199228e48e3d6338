import type { IncomingHttpHeaders } from 'node:http';
import { S3Error, s3errors } from '../../domain/errors.js';
import type { ObjectVersionRecord, StoredHeaders } from '../../domain/model.js';
import { lockResponseHeaders } from './lock-headers.js';
import { httpDate } from './xml.js';
import type { QueryParameters } from './query-parameters.js';

/** Content headers S3 stores with an object and returns on GET/HEAD. */
const STORED_CONTENT_HEADERS = ['content-type', 'content-disposition', 'content-language', 'cache-control', 'expires'] as const;
/** AWS: "the user-defined metadata is limited to 2 KB in size" (keys and values, UTF-8). */
const MAX_USER_METADATA_BYTES = 2048;
const STORAGE_CLASSES = new Set([
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING',
  'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR', 'OUTPOSTS', 'SNOW', 'EXPRESS_ONEZONE',
]);

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/** The headers to keep with a new object, from a PutObject/CreateMultipartUpload/CopyObject(REPLACE) request. */
export function storedHeadersFrom(headers: IncomingHttpHeaders): StoredHeaders {
  const stored: Record<string, string> = {};
  for (const name of STORED_CONTENT_HEADERS) {
    const value = single(headers[name]);
    if (value !== undefined) stored[name] = value;
  }
  // aws-chunked is transfer framing, not a property of the object (AWS: sigv4-streaming).
  const encoding = single(headers['content-encoding'])
    ?.split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e.toLowerCase() !== 'aws-chunked')
    .join(',');
  if (encoding) stored['content-encoding'] = encoding;
  const storageClass = single(headers['x-amz-storage-class']);
  if (storageClass !== undefined) {
    if (!STORAGE_CLASSES.has(storageClass)) throw new S3Error('InvalidStorageClass', 'The storage class you specified is not valid');
    if (storageClass !== 'STANDARD') stored['x-amz-storage-class'] = storageClass;
  }
  let metadataBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = single(value)!;
    metadataBytes += Buffer.byteLength(name.slice('x-amz-meta-'.length)) + Buffer.byteLength(text);
    stored[name] = text;
  }
  if (metadataBytes > MAX_USER_METADATA_BYTES) throw s3errors.metadataTooLarge();
  return stored;
}

/** Response-header overrides allowed on GetObject (typically in presigned URLs). */
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/**
 * Headers of a GET/HEAD response. In a bucket that is or was versioned the null version is
 * named (`x-amz-version-id: null`), as S3 does; in a never-versioned bucket no version is.
 */
export function objectResponseHeaders(version: ObjectVersionRecord, query: QueryParameters, bucketVersioned: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'last-modified': httpDate(version.lastModifiedMs),
    etag: version.etag,
    'accept-ranges': 'bytes',
    'content-type': 'binary/octet-stream',
  };
  for (const [name, value] of Object.entries(version.headers)) headers[name] = value;
  if (version.versionId !== 'null' || bucketVersioned) headers['x-amz-version-id'] = version.versionId;
  for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = query.get(param);
    if (value !== null) headers[header] = value;
  }
  if (version.partSizes.length > 0) headers['x-amz-mp-parts-count'] = String(version.partSizes.length);
  Object.assign(headers, lockResponseHeaders(version));
  return headers;
}

/** `x-amz-version-id`, omitted for the null version as S3 does for unversioned writes. */
export function versionIdHeader(versionId: string): Record<string, string> {
  return versionId === 'null' ? {} : { 'x-amz-version-id': versionId };
}
