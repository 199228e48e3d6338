import { s3errors } from '../../../domain/errors.js';
import { bucketOf, keyOf, writeConditions } from '../params.js';
import { parseXml, renderXml } from '../xml.js';
import { checksumResponseHeaders, checksumXml } from './checksum-headers.js';
import { MAX_XML_BODY_BYTES, type S3Operation, XML_HEADERS } from './context.js';
import { uploadIdOf } from './upload-part.js';

/** CompleteMultipartUpload: POST /bucket/key?uploadId=ID with the part list. */
export const completeMultipartUpload: S3Operation = async (req, { multipart }) => {
  const bucket = bucketOf(req);
  const key = keyOf(req);
  const uploadId = uploadIdOf(req);
  // 10,000 parts × ~100 bytes of XML each fits well under the cap.
  const xml = parseXml(await req.readSmallBody(MAX_XML_BODY_BYTES));
  const root = xml['CompleteMultipartUpload'] as Record<string, unknown> | undefined;
  if (root === undefined || typeof root !== 'object') throw s3errors.malformedXml();
  const parts = ((root['Part'] ?? []) as Array<Record<string, unknown>>).map((part) => {
    const number = Number(part['PartNumber']);
    const etag = part['ETag'];
    if (!Number.isInteger(number) || typeof etag !== 'string') throw s3errors.malformedXml();
    return { partNumber: number, etag };
  });
  const version = await multipart.complete(bucket, key, uploadId, parts, writeConditions(req));
  return {
    status: 200,
    headers: {
      ...XML_HEADERS,
      ...(version.versionId === 'null' ? {} : { 'x-amz-version-id': version.versionId }),
      ...checksumResponseHeaders(version.checksum),
    },
    body: renderXml('CompleteMultipartUploadResult', {
      Location: `/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
      Bucket: bucket,
      Key: key,
      ETag: version.etag,
      ...checksumXml(version.checksum),
    }),
  };
};
