import { S3Error } from '../../../domain/errors.js';
import { parseChecksumAlgorithm } from '../../../infra/checksum/checksum.js';
import { authorizedRequestedLock } from '../lock-headers.js';
import { storedHeadersFrom } from '../object-headers.js';
import { bucketOf, keyOf } from '../params.js';
import { renderXml } from '../xml.js';
import { type S3Operation, XML_HEADERS } from './context.js';

/** CreateMultipartUpload: POST /bucket/key?uploads */
export const createMultipartUpload: S3Operation = async (req, { vault, multipart }) => {
  const algorithmHeader = req.header('x-amz-checksum-algorithm');
  const algorithm = algorithmHeader === undefined ? undefined : parseChecksumAlgorithm(algorithmHeader);
  if (algorithmHeader !== undefined && algorithm === undefined) {
    throw new S3Error('InvalidRequest', `Checksum algorithm ${algorithmHeader} is not supported.`);
  }
  const upload = await multipart.create(bucketOf(req), keyOf(req), storedHeadersFrom(req.headers), algorithm, await authorizedRequestedLock(req, vault.clock.nowMs()));
  return {
    status: 200,
    headers: { ...XML_HEADERS, ...(algorithm === undefined ? {} : { 'x-amz-checksum-algorithm': algorithm }) },
    body: renderXml('InitiateMultipartUploadResult', { Bucket: upload.bucket, Key: upload.key, UploadId: upload.uploadId }),
  };
};
