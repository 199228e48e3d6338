import { bucketOf, intParam, keyOf, optionalParam, parseCopySource, parseCopySourceRange, readConditions } from '../params.js';
import { isoDate, renderXml } from '../xml.js';
import { checksumResponseHeaders, checksumXml } from './checksum-headers.js';
import { type S3Operation, XML_HEADERS } from './context.js';
import { checkReadConditions } from '../../../domain/conditions.js';
import { s3errors } from '../../../domain/errors.js';

function uploadIdOf(req: Parameters<S3Operation>[0]): string {
  const uploadId = optionalParam(req, 'uploadId');
  if (uploadId === undefined || uploadId === '') throw s3errors.noSuchUpload('');
  return uploadId;
}

/** UploadPart: PUT /bucket/key?partNumber=N&uploadId=ID */
export const uploadPart: S3Operation = async (req, { multipart }) => {
  if (req.declaredSize === undefined) throw s3errors.missingContentLength();
  const part = await multipart.uploadPart({
    bucket: bucketOf(req),
    key: keyOf(req),
    uploadId: uploadIdOf(req),
    partNumber: intParam(req, 'partNumber', 0),
    body: req.body(),
    declaredSize: req.declaredSize,
    integrity: req.integrity(),
  });
  return { status: 200, headers: { etag: part.etag, ...checksumResponseHeaders(part.checksum) } };
};

/** UploadPartCopy: PUT /bucket/key?partNumber=N&uploadId=ID with x-amz-copy-source[-range]. */
export const uploadPartCopy: S3Operation = async (req, { vault, multipart }) => {
  const source = parseCopySource(req.header('x-amz-copy-source') ?? '');
  await req.authorize(source.versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion', source);
  const version = await vault.headObject(source.bucket, source.key, source.versionId, {});
  checkReadConditions(readConditions(req, 'x-amz-copy-source-'), version, 'x-amz-copy-source-');
  const part = await multipart.uploadPartCopy({
    bucket: bucketOf(req),
    key: keyOf(req),
    uploadId: uploadIdOf(req),
    partNumber: intParam(req, 'partNumber', 0),
    source: version,
    range: parseCopySourceRange(req.header('x-amz-copy-source-range'), version.size),
  });
  return {
    status: 200,
    headers: { ...XML_HEADERS, ...(version.versionId === 'null' ? {} : { 'x-amz-copy-source-version-id': version.versionId }) },
    body: renderXml('CopyPartResult', { LastModified: isoDate(part.lastModifiedMs), ETag: part.etag, ...checksumXml(part.checksum) }),
  };
};

export { uploadIdOf };
