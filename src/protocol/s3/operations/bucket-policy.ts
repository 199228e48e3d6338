import { s3errors } from '../../../domain/errors.js';
import { parseBucketPolicy } from '../../../domain/identity/access-control.js';
import { bucketOf } from '../params.js';
import type { S3Operation } from './context.js';

/** AWS: "Bucket policies are limited to 20 KB in size." */
const MAX_BUCKET_POLICY_BYTES = 20 * 1024;

/** GetBucketPolicy: GET /bucket?policy — the policy JSON exactly as it was put. */
export const getBucketPolicy: S3Operation = async (req, { vault }) => {
  const bucket = await vault.getBucket(bucketOf(req));
  if (bucket.controls.policy === undefined) throw s3errors.noSuchBucketPolicy(bucket.name);
  return { status: 200, headers: { 'content-type': 'application/json' }, body: bucket.controls.policy };
};

/**
 * PutBucketPolicy: PUT /bucket?policy — validated (MalformedPolicy names the problem) and checked
 * for separation of duties before it is stored.
 */
export const putBucketPolicy: S3Operation = async (req, { vault, duties }) => {
  const name = bucketOf(req);
  const text = (await req.readSmallBody(MAX_BUCKET_POLICY_BYTES)).toString('utf8');
  const document = parseBucketPolicy(text, name);
  await vault.getBucket(name);
  // A bucket policy must not hand one identity (or everyone) both writing and deleting: checked
  // and stored under the lock identity changes take too.
  await duties.storeBucketPolicy(name, document, async () => {
    await vault.metadata.updateBucketControls(name, (controls) => ({ ...controls, policy: text }));
  });
  return { status: 204 };
};

/** DeleteBucketPolicy: DELETE /bucket?policy — 204 also when there was none, as S3 answers. */
export const deleteBucketPolicy: S3Operation = async (req, { vault }) => {
  const name = bucketOf(req);
  await vault.metadata.updateBucketControls(name, ({ policy: _, ...rest }) => rest);
  return { status: 204 };
};
