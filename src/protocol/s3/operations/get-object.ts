import { S3Error } from '../../../domain/errors.js';
import { objectResponseHeaders } from '../object-headers.js';
import { bucketOf, keyOf, optionalParam, parseRange, readConditions } from '../params.js';
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
  const checksumMode = req.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
  if (req.query.has('partNumber')) throw new S3Error('NotImplemented', 'GetObject by partNumber is not implemented yet.');

  try {
    if (req.method === 'HEAD') {
      const version = await vault.headObject(bucket, key, versionId, conditions);
      return {
        status: 200,
        headers: {
          ...objectResponseHeaders(version, req.query),
          'content-length': String(version.size),
          ...(checksumMode ? checksumResponseHeaders(version.checksum) : {}),
        },
      };
    }
    const read = await vault.getObject(bucket, key, versionId, conditions, parseRange(req.header('range')));
    const headers: Record<string, string> = objectResponseHeaders(read.version, req.query);
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
