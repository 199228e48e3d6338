import { bucketOf, encodeKey, encodingType, intParam, optionalParam, ownerOf } from '../params.js';
import { isoDate, renderXml } from '../xml.js';
import { type S3Operation, XML_HEADERS } from './context.js';

/** ListMultipartUploads: GET /bucket?uploads */
export const listMultipartUploads: S3Operation = async (req, { multipart }) => {
  const bucket = bucketOf(req);
  const encoding = encodingType(req);
  const prefix = optionalParam(req, 'prefix') ?? '';
  const keyMarker = optionalParam(req, 'key-marker') ?? '';
  const uploadIdMarker = optionalParam(req, 'upload-id-marker') ?? '';
  const maxUploads = intParam(req, 'max-uploads', 1000, { min: 0, max: 1000 });
  const { uploads, isTruncated } = await multipart.listUploads(bucket, { prefix, keyMarker, uploadIdMarker, maxUploads });
  const last = uploads[uploads.length - 1];
  const owner = ownerOf(req);
  return {
    status: 200,
    headers: XML_HEADERS,
    body: renderXml('ListMultipartUploadsResult', {
      Bucket: bucket,
      KeyMarker: encodeKey(keyMarker, encoding),
      UploadIdMarker: uploadIdMarker,
      NextKeyMarker: isTruncated && last !== undefined ? encodeKey(last.key, encoding) : undefined,
      NextUploadIdMarker: isTruncated && last !== undefined ? last.uploadId : undefined,
      Prefix: encodeKey(prefix, encoding),
      EncodingType: encoding,
      MaxUploads: maxUploads,
      IsTruncated: isTruncated,
      Upload: uploads.map((u) => ({
        Key: encodeKey(u.key, encoding),
        UploadId: u.uploadId,
        Initiator: owner,
        Owner: owner,
        StorageClass: 'STANDARD',
        Initiated: isoDate(u.initiatedMs),
        ...(u.checksumAlgorithm === undefined ? {} : { ChecksumAlgorithm: u.checksumAlgorithm }),
      })),
    }),
  };
};
