import { bucketOf } from '../params.js';
import { renderXml } from '../xml.js';
import { type S3Operation, XML_HEADERS } from './context.js';

/** GetBucketLocation: GET /bucket?location — us-east-1 is reported as an empty constraint, as AWS does. */
export const getBucketLocation: S3Operation = async (req, { vault }) => {
  const bucket = await vault.getBucket(bucketOf(req));
  const constraint = bucket.region === 'us-east-1' ? '' : bucket.region;
  return { status: 200, headers: XML_HEADERS, body: renderXml('LocationConstraint', {}).replace('></LocationConstraint>', `>${constraint}</LocationConstraint>`) };
};
