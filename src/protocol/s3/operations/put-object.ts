import { s3errors } from '../../../domain/errors.js';
import { authorizedRequestedLock } from '../lock-headers.js';
import { storedHeadersFrom } from '../object-headers.js';
import { bucketOf, keyOf, writeConditions } from '../params.js';
import { checksumResponseHeaders } from './checksum-headers.js';
import type { S3Operation } from './context.js';

/** PutObject: PUT /bucket/key — the body is durable before the 200 (see Vault.putObject). */
export const putObject: S3Operation = async (req, { vault }) => {
  // S3 refuses a PutObject whose size it cannot know up front.
  if (req.declaredSize === undefined) throw s3errors.missingContentLength();
  const version = await vault.putObject({
    bucket: bucketOf(req),
    key: keyOf(req),
    body: req.body(),
    declaredSize: req.declaredSize,
    headers: storedHeadersFrom(req.headers),
    integrity: req.integrity(),
    conditions: writeConditions(req),
    lock: await authorizedRequestedLock(req, vault.clock.nowMs()),
  });
  return {
    status: 200,
    headers: {
      etag: version.etag,
      ...(version.versionId === 'null' ? {} : { 'x-amz-version-id': version.versionId }),
      ...checksumResponseHeaders(version.checksum),
    },
  };
};
