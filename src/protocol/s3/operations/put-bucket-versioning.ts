import { s3errors } from '../../../domain/errors.js';
import { bucketOf } from '../params.js';
import { parseXml } from '../xml.js';
import { MAX_XML_BODY_BYTES, type S3Operation } from './context.js';

/**
 * PutBucketVersioning: PUT /bucket?versioning with `<VersioningConfiguration><Status>`.
 * MFA delete is not supported: asking to enable it is refused rather than silently ignored.
 */
export const putBucketVersioning: S3Operation = async (req, { vault }) => {
  const bucket = bucketOf(req);
  const xml = parseXml(await req.readSmallBody(MAX_XML_BODY_BYTES));
  const config = xml['VersioningConfiguration'];
  if (config === undefined || typeof config !== 'object' || config === null) throw s3errors.malformedXml();
  const fields = config as Record<string, unknown>;
  const status = fields['Status'];
  if (status !== 'Enabled' && status !== 'Suspended') throw s3errors.malformedXml();
  const mfaDelete = fields['MfaDelete'];
  if (mfaDelete !== undefined && mfaDelete !== 'Disabled') {
    if (mfaDelete === 'Enabled') throw s3errors.notImplemented('MFA delete');
    throw s3errors.malformedXml();
  }
  await vault.setBucketVersioning(bucket, status);
  return { status: 200 };
};
