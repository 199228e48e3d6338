import { s3errors } from '../../../domain/errors.js';
import type { ObjectVersionRecord } from '../../../domain/model.js';
import { bucketOf, encodeKey, encodingType, intParam, optionalParam, ownerOf } from '../params.js';
import type { S3Request } from '../request.js';
import { isoDate, renderXml } from '../xml.js';
import { type OperationContext, type S3Operation, XML_HEADERS } from './context.js';

function contentsEntry(record: ObjectVersionRecord, encoding: 'url' | undefined, owner: { ID: string; DisplayName: string } | undefined) {
  return {
    Key: encodeKey(record.key, encoding),
    LastModified: isoDate(record.lastModifiedMs),
    ETag: record.etag,
    ...(record.checksum === undefined ? {} : { ChecksumAlgorithm: record.checksum.algorithm, ChecksumType: record.checksum.type }),
    Size: record.size,
    Owner: owner,
    StorageClass: record.headers['x-amz-storage-class'] ?? 'STANDARD',
  };
}

async function page(req: S3Request, { vault }: OperationContext, after: string) {
  const prefix = optionalParam(req, 'prefix') ?? '';
  const delimiter = optionalParam(req, 'delimiter') ?? '';
  const maxKeys = intParam(req, 'max-keys', 1000, { min: 0, max: 1000 });
  const result = await vault.listObjects(bucketOf(req), { prefix, delimiter, after, maxKeys });
  return { prefix, delimiter, maxKeys, result };
}

/** Continuation tokens are opaque to clients; ours carry the last key returned. */
function encodeToken(marker: string): string {
  return Buffer.from(marker, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const marker = Buffer.from(token, 'base64url').toString('utf8');
  if (token === '' || encodeToken(marker) !== token) throw s3errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  return marker;
}

/** ListObjectsV2: GET /bucket?list-type=2 */
export const listObjectsV2: S3Operation = async (req, ctx) => {
  const encoding = encodingType(req);
  const token = optionalParam(req, 'continuation-token');
  const startAfter = optionalParam(req, 'start-after') ?? '';
  const after = token !== undefined ? decodeToken(token) : startAfter;
  const { prefix, delimiter, maxKeys, result } = await page(req, ctx, after);
  const fetchOwner = optionalParam(req, 'fetch-owner') === 'true';
  const owner = fetchOwner ? ownerOf(req) : undefined;
  return {
    status: 200,
    headers: XML_HEADERS,
    body: renderXml('ListBucketResult', {
      Name: bucketOf(req),
      Prefix: encodeKey(prefix, encoding),
      Delimiter: delimiter === '' ? undefined : encodeKey(delimiter, encoding),
      MaxKeys: maxKeys,
      EncodingType: encoding,
      KeyCount: result.contents.length + result.commonPrefixes.length,
      ContinuationToken: token,
      NextContinuationToken: result.isTruncated && result.nextMarker !== undefined ? encodeToken(result.nextMarker) : undefined,
      StartAfter: startAfter === '' ? undefined : encodeKey(startAfter, encoding),
      IsTruncated: result.isTruncated,
      Contents: result.contents.map((r) => contentsEntry(r, encoding, owner)),
      CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: encodeKey(p, encoding) })),
    }),
  };
};

/** ListObjects (v1): GET /bucket — still what rclone (provider Other) and s3cmd use. */
export const listObjectsV1: S3Operation = async (req, ctx) => {
  const encoding = encodingType(req);
  const marker = optionalParam(req, 'marker') ?? '';
  const { prefix, delimiter, maxKeys, result } = await page(req, ctx, marker);
  const owner = ownerOf(req);
  return {
    status: 200,
    headers: XML_HEADERS,
    body: renderXml('ListBucketResult', {
      Name: bucketOf(req),
      Prefix: encodeKey(prefix, encoding),
      Marker: encodeKey(marker, encoding),
      // AWS returns NextMarker only with a delimiter; clients fall back to the last key otherwise.
      NextMarker: result.isTruncated && delimiter !== '' && result.nextMarker !== undefined ? encodeKey(result.nextMarker, encoding) : undefined,
      MaxKeys: maxKeys,
      Delimiter: delimiter === '' ? undefined : encodeKey(delimiter, encoding),
      EncodingType: encoding,
      IsTruncated: result.isTruncated,
      Contents: result.contents.map((r) => contentsEntry(r, encoding, owner)),
      CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: encodeKey(p, encoding) })),
    }),
  };
};
