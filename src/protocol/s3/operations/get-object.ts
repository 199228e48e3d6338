import { S3Error, s3errors } from '../../../domain/errors.js';
import type { Vault, RangeRequest } from '../../../domain/vault.js';
import { objectResponseHeaders } from '../object-headers.js';
import { bucketOf, intParam, keyOf, optionalParam, parseRange, readConditions } from '../params.js';
import { checksumResponseHeaders } from './checksum-headers.js';
import type { S3Operation } from './context.js';

/**
 * GetObject / HeadObject: GET|HEAD /bucket/key. Range → 206 with Content-Range; conditional
 * headers → 304/412; `x-amz-checksum-mode: ENABLED` returns the stored checksum on full reads.
 */
export const getObject: S3Operation = async (req, { vault }) => {
  const bucket = bucketOf(req);
  const key = keyOf(req);
  const versionId = optionalParam(req, 'versionId');
  const conditions = readConditions(req);
  const isVersioned = async () => (await vault.getBucket(bucket)).versioning !== 'Unversioned';
  const checksumMode = req.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
  const partNumber = req.query.has('partNumber') ? intParam(req, 'partNumber', 0, { min: 1, max: 10_000 }) : undefined;
  if (partNumber !== undefined && req.header('range') !== undefined) {
    throw s3errors.invalidRequest('Cannot specify both Range header and partNumber query parameter');
  }

  try {
    if (req.method === 'HEAD' && partNumber === undefined) {
      const version = await vault.headObject(bucket, key, versionId, conditions);
      return {
        status: 200,
        headers: {
          ...objectResponseHeaders(version, req.query, await isVersioned()),
          'content-length': String(version.size),
          ...(checksumMode ? checksumResponseHeaders(version.checksum) : {}),
        },
      };
    }
    const range = partNumber === undefined ? parseRange(req.header('range')) : await partRange(vault, bucket, key, versionId, partNumber);
    const read = await vault.getObject(bucket, key, versionId, conditions, range);
    const headers: Record<string, string> = objectResponseHeaders(read.version, req.query, await isVersioned());
    if (read.range === undefined) {
      Object.assign(headers, { 'content-length': String(read.version.size) }, checksumMode ? checksumResponseHeaders(read.version.checksum) : {});
      return { status: 200, headers, body: read.body };
    }
    headers['content-length'] = String(read.range.end - read.range.start + 1);
    headers['content-range'] = `bytes ${read.range.start}-${read.range.end}/${read.version.size}`;
    return { status: 206, headers, body: read.body };
  } catch (error) {
    // A 304 carries the validators of the object, per RFC 9110 15.4.5.
    if (error instanceof S3Error && error.code === 'NotModified') {
      const version = await vault.metadata.getObjectVersion(bucket, key, versionId);
      const headers: Record<string, string> = {};
      if (version !== undefined) {
        headers['etag'] = version.etag;
        headers['last-modified'] = new Date(version.lastModifiedMs).toUTCString();
      }
      return { status: 304, headers };
    }
    throw error;
  }
};

/**
 * `?partNumber=N` reads one part of a multipart object (206 with its Content-Range); on a
 * single-part object, part 1 is the whole object.
 */
async function partRange(vault: Vault, bucket: string, key: string, versionId: string | undefined, partNumber: number): Promise<RangeRequest> {
  const version = await vault.headObject(bucket, key, versionId, {});
  const sizes = version.partSizes.length === 0 ? [version.size] : version.partSizes;
  if (partNumber > sizes.length) throw s3errors.invalidRange(version.size);
  const start = sizes.slice(0, partNumber - 1).reduce((sum, size) => sum + size, 0);
  return { kind: 'from', start, end: start + sizes[partNumber - 1]! - 1 };
}
