import { mapInOrder } from '../infra/streams/map-in-order.js';

/**
 * Blob requests at once for one version. A multipart version may hold up to 10,000 blobs; one
 * request each at once would open as many sockets to an S3 blob backend (and as many file
 * handles on disk). Four keep a remote backend busy without flooding it.
 */
export const BLOB_REQUESTS_AT_ONCE = 4;

/**
 * Runs `act` on every blob id, at most BLOB_REQUESTS_AT_ONCE at a time, and returns the
 * failures: each blob is tried whatever happened to the others, so one unreachable blob does
 * not leave the rest unprotected or undeleted.
 */
export async function forEachBlob(blobIds: readonly string[], act: (blobId: string) => Promise<void>): Promise<unknown[]> {
  const failures: unknown[] = [];
  const settled = mapInOrder(blobIds, BLOB_REQUESTS_AT_ONCE, (blobId) =>
    act(blobId).then(
      () => undefined,
      (error: unknown) => ({ error }),
    ),
  );
  for await (const outcome of settled) if (outcome !== undefined) failures.push(outcome.error);
  return failures;
}
