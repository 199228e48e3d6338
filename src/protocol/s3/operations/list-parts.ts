import { bucketOf, intParam, keyOf, ownerOf } from '../params.js';
import { isoDate, renderXml } from '../xml.js';
import { type S3Operation, XML_HEADERS } from './context.js';
import { uploadIdOf } from './upload-part.js';

/** ListParts: GET /bucket/key?uploadId=ID */
export const listParts: S3Operation = async (req, { multipart }) => {
  const bucket = bucketOf(req);
  const key = keyOf(req);
  const marker = intParam(req, 'part-number-marker', 0);
  const maxParts = intParam(req, 'max-parts', 1000, { min: 0, max: 1000 });
  const { upload, parts, isTruncated } = await multipart.listParts(bucket, key, uploadIdOf(req), marker, maxParts);
  const owner = ownerOf(req);
  return {
    status: 200,
    headers: XML_HEADERS,
    body: renderXml('ListPartsResult', {
      Bucket: bucket,
      Key: key,
      UploadId: upload.uploadId,
      Initiator: owner,
      Owner: owner,
      StorageClass: 'STANDARD',
      PartNumberMarker: marker,
      NextPartNumberMarker: parts.length > 0 ? parts[parts.length - 1]!.partNumber : undefined,
      MaxParts: maxParts,
      IsTruncated: isTruncated,
      ChecksumAlgorithm: upload.checksumAlgorithm,
      Part: parts.map((p) => ({
        PartNumber: p.partNumber,
        LastModified: isoDate(p.lastModifiedMs),
        ETag: p.etag,
        Size: p.size,
        ...(p.checksum === undefined ? {} : { [`Checksum${p.checksum.algorithm}`]: p.checksum.value }),
      })),
    }),
  };
};

