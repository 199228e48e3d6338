import { bypassGovernance } from '../lock-headers.js';
import { bucketOf, keyOf, optionalParam } from '../params.js';
import type { S3Operation } from './context.js';

/** DeleteObject: DELETE /bucket/key — 204 whether or not the key existed, as S3 answers. */
export const deleteObject: S3Operation = async (req, { vault }) => {
  const result = await vault.deleteObject(bucketOf(req), keyOf(req), optionalParam(req, 'versionId'), {
    bypassGovernance: bypassGovernance(req),
  });
  const headers: Record<string, string> = {};
  if (result.versionId !== undefined) headers['x-amz-version-id'] = result.versionId;
  if (result.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  return { status: 204, headers };
};
