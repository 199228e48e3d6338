import { bucketOf, keyOf, optionalParam } from '../params.js';
import { S3Error } from '../../../domain/errors.js';
import type { S3Request } from '../request.js';
import type { S3Operation } from './context.js';

/** DeleteObject: DELETE /bucket/key — 204 whether or not the key existed, as S3 answers. */
export const deleteObject: S3Operation = async (req, { vault }) => {
  const versionId = optionalParam(req, 'versionId');
  const bypass = await req.bypassGovernance();
  const result = await vault.deleteObject(bucketOf(req), keyOf(req), versionId, { bypassGovernance: bypass }).catch((error: unknown) => {
    noteLockRefusal(req, error, keyOf(req), versionId);
    throw error;
  });
  const headers: Record<string, string> = {};
  if (result.versionId !== undefined) headers['x-amz-version-id'] = result.versionId;
  if (result.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  return { status: 204, headers };
};

/**
 * Authorization already passed, so an AccessDenied from the vault is Object Lock refusing to
 * delete a protected version: worth an alert (policy: attempts on locked backups are watched).
 */
export function noteLockRefusal(req: S3Request, error: unknown, key: string, versionId: string | undefined): void {
  if (error instanceof S3Error && error.code === 'AccessDenied') req.note({ kind: 'locked-delete-denied', key, versionId, message: error.message });
}
