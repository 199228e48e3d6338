import { bucketOf } from '../params.js';
import type { S3Operation } from './context.js';

/** DeleteBucket: DELETE /bucket — refused with BucketNotEmpty while any version or upload remains. */
export const deleteBucket: S3Operation = async (req, { vault }) => {
  await vault.deleteBucket(bucketOf(req));
  return { status: 204 };
};
