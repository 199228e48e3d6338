import { bucketOf, keyOf } from '../params.js';
import type { S3Operation } from './context.js';
import { uploadIdOf } from './upload-part.js';

/** AbortMultipartUpload: DELETE /bucket/key?uploadId=ID */
export const abortMultipartUpload: S3Operation = async (req, { multipart }) => {
  await multipart.abort(bucketOf(req), keyOf(req), uploadIdOf(req));
  return { status: 204 };
};
