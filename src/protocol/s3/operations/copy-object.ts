import { s3errors } from '../../../domain/errors.js';
import { authorizedRequestedLock } from '../lock-headers.js';
import { storedHeadersFrom } from '../object-headers.js';
import { bucketOf, keyOf, parseCopySource, readConditions, writeConditions } from '../params.js';
import { isoDate, renderXml } from '../xml.js';
import { checksumResponseHeaders, checksumXml } from './checksum-headers.js';
import { type S3Operation, XML_HEADERS } from './context.js';

/** CopyObject: PUT /bucket/key with x-amz-copy-source; metadata directive COPY (default) or REPLACE. */
export const copyObject: S3Operation = async (req, { vault }) => {
  const directive = (req.header('x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw s3errors.invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  }
  const copySource = parseCopySource(req.header('x-amz-copy-source') ?? '');
  await req.authorize(copySource.versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion', copySource);
  const { source, copy } = await vault.copyObject({
    source: copySource,
    sourceConditions: readConditions(req, 'x-amz-copy-source-'),
    bucket: bucketOf(req),
    key: keyOf(req),
    replaceHeaders: directive === 'REPLACE' ? storedHeadersFrom(req.headers) : undefined,
    conditions: writeConditions(req),
    lock: await authorizedRequestedLock(req, vault.clock.nowMs()),
  });
  const headers: Record<string, string> = { ...XML_HEADERS, ...checksumResponseHeaders(copy.checksum) };
  if (source.versionId !== 'null') headers['x-amz-copy-source-version-id'] = source.versionId;
  if (copy.versionId !== 'null') headers['x-amz-version-id'] = copy.versionId;
  return {
    status: 200,
    headers,
    body: renderXml('CopyObjectResult', { LastModified: isoDate(copy.lastModifiedMs), ETag: copy.etag, ...checksumXml(copy.checksum) }),
  };
};
