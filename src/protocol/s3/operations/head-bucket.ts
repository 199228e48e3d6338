import { bucketOf } from '../params.js';
import type { S3Operation } from './context.js';

/** HeadBucket: HEAD /bucket */
export const headBucket: S3Operation = async (req, { vault }) => {
  const bucket = await vault.getBucket(bucketOf(req));
  return { status: 200, headers: { 'x-amz-bucket-region': bucket.region } };
};
