import { s3errors } from '../../../domain/errors.js';
import { bucketOf } from '../params.js';
import { parseXml } from '../xml.js';
import { MAX_XML_BODY_BYTES, type S3Operation } from './context.js';

/** CreateBucket: PUT /bucket, optionally with a CreateBucketConfiguration body and x-amz-bucket-object-lock-enabled. */
export const createBucket: S3Operation = async (req, { vault }) => {
  const name = bucketOf(req);
  const body = await req.readSmallBody(MAX_XML_BODY_BYTES);
  if (body.length > 0) {
    const xml = parseXml(body);
    const config = xml['CreateBucketConfiguration'] as Record<string, unknown> | '' | undefined;
    if (config === undefined) throw s3errors.malformedXml();
    const constraint = typeof config === 'object' ? config['LocationConstraint'] : undefined;
    if (typeof constraint === 'string' && constraint !== '' && constraint !== vault.options.region) {
      throw s3errors.invalidArgument(
        `The specified location-constraint is not valid: this endpoint serves region ${vault.options.region}.`,
        'LocationConstraint',
        constraint,
      );
    }
  }
  const lockHeader = req.header('x-amz-bucket-object-lock-enabled');
  if (lockHeader !== undefined && !/^(true|false)$/i.test(lockHeader)) {
    throw s3errors.invalidArgument('x-amz-bucket-object-lock-enabled must be true or false', 'x-amz-bucket-object-lock-enabled', lockHeader);
  }
  await vault.createBucket(name, { objectLockEnabled: lockHeader?.toLowerCase() === 'true' });
  return { status: 200, headers: { location: `/${name}` } };
};
