import { S3Error, s3errors } from '../../../domain/errors.js';
import { bucketOf } from '../params.js';
import { noteLockRefusal } from './delete-object.js';
import { parseXml, renderXml } from '../xml.js';
import { MAX_DELETE_BODY_BYTES, type S3Operation, XML_HEADERS } from './context.js';

/** AWS: "The request can contain a list of up to 1000 keys". */
const MAX_DELETE_KEYS = 1000;

/**
 * DeleteObjects: POST /bucket?delete. One result per key: the request succeeds as a whole and
 * each key reports Deleted or Error; Quiet mode reports errors only.
 */
export const deleteObjects: S3Operation = async (req, { vault }) => {
  const bucket = bucketOf(req);
  // S3 requires Content-MD5 or an x-amz-checksum-* here; newer SDKs send CRC32 instead of MD5.
  const integrity = req.integrity();
  if (integrity.contentMd5 === undefined && integrity.checksum === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 or x-amz-checksum-*');
  }
  const xml = parseXml(await req.readSmallBody(MAX_DELETE_BODY_BYTES));
  const root = xml['Delete'] as Record<string, unknown> | undefined;
  if (root === undefined || typeof root !== 'object') throw s3errors.malformedXml();
  const objects = (root['Object'] ?? []) as Array<Record<string, unknown>>;
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw s3errors.malformedXml();
  const quiet = typeof root['Quiet'] === 'string' && root['Quiet'].toLowerCase() === 'true';
  await vault.getBucket(bucket);

  const deleted: Array<Record<string, string | undefined>> = [];
  const errors: Array<Record<string, string | undefined>> = [];
  for (const object of objects) {
    const key = object['Key'];
    const versionId = typeof object['VersionId'] === 'string' ? object['VersionId'] : undefined;
    if (typeof key !== 'string' || key === '') throw s3errors.malformedXml();
    try {
      // Authorized per key, as S3 does: one refused key does not fail the others.
      await req.authorize(versionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion', { bucket, key });
      // The bypass header is harmless on a bucket without Object Lock: tools send it in clean-up code.
      const bypass = await req.bypassGovernance({ bucket, key });
      const result = await vault.deleteObject(bucket, key, versionId, { bypassGovernance: bypass }).catch((error: unknown) => {
        noteLockRefusal(req, error, key, versionId);
        throw error;
      });
      if (!quiet) {
        deleted.push({
          Key: key,
          VersionId: versionId,
          DeleteMarker: result.deleteMarker ? 'true' : undefined,
          // Set when a marker was created, or when the version deleted by id was itself a marker.
          DeleteMarkerVersionId: result.deleteMarker ? result.versionId : undefined,
        });
      }
    } catch (error) {
      if (!(error instanceof S3Error) || error.isServerFault) throw error;
      errors.push({ Key: key, VersionId: versionId, Code: error.code, Message: error.message });
    }
  }
  return {
    status: 200,
    headers: XML_HEADERS,
    body: renderXml('DeleteResult', { Deleted: deleted, Error: errors }),
  };
};
