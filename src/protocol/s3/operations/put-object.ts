import { S3Error, s3errors } from '../../../domain/errors.js';
import { authorizedRequestedLock } from '../lock-headers.js';
import { storedHeadersFrom } from '../object-headers.js';
import { bucketOf, keyOf, writeConditions } from '../params.js';
import { checksumResponseHeaders } from './checksum-headers.js';
import type { S3Operation } from './context.js';

/** PutObject: PUT /bucket/key — the body is durable before the 200 (see Vault.putObject). */
export const putObject: S3Operation = async (req, { vault }) => {
  // S3 refuses a PutObject whose size it cannot know up front.
  if (req.declaredSize === undefined) throw s3errors.missingContentLength();
  const headers = storedHeadersFrom(req.headers);
  const conditions = writeConditions(req);
  let version;
  try {
    version = await vault.putObject({
      bucket: bucketOf(req),
      key: keyOf(req),
      body: req.body(),
      declaredSize: req.declaredSize,
      headers,
      integrity: req.integrity(),
      conditions,
      lock: await authorizedRequestedLock(req, vault.clock.nowMs()),
    });
  } catch (error) {
    if (error instanceof S3Error && error.code === 'PreconditionFailed' && conditions.ifNoneMatch === '*') await noteWriteOnceConflict(req, vault, headers);
    throw error;
  }
  return {
    status: 200,
    headers: {
      etag: version.etag,
      ...(version.versionId === 'null' ? {} : { 'x-amz-version-id': version.versionId }),
      ...checksumResponseHeaders(version.checksum),
    },
  };
};

const WAL_DIGEST = 'x-amz-meta-holdfast-wal-sha256';

/**
 * A create-only write of an archived WAL file that lost to an existing object: a retry of the same
 * file (same digest) is routine; a different file under an archived name is what the issue calls
 * "refused and alerted" — two clusters sharing a repository, a timeline gone wrong, a tampered
 * pg_wal. Noted for the alert rules; the client still gets its 412.
 */
async function noteWriteOnceConflict(req: Parameters<S3Operation>[0], vault: Parameters<S3Operation>[1]['vault'], headers: Readonly<Record<string, string>>): Promise<void> {
  const sent = headers[WAL_DIGEST];
  if (sent === undefined) return;
  try {
    const existing = await vault.headObject(bucketOf(req), keyOf(req), undefined, {});
    const archived = existing.headers[WAL_DIGEST];
    if (archived === sent) return;
    req.note({ kind: 'write-once-conflict', key: keyOf(req), versionId: existing.versionId, message: `archived sha256 ${archived ?? 'unknown (not written by holdfast)'}, refused write sha256 ${sent}` });
  } catch {
    // The existing object vanished or cannot be read: nothing to compare, no note.
  }
}
