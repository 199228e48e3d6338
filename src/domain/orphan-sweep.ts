import type { BlobStore, MetadataStore } from './ports.js';

/**
 * Removes blobs no metadata references: the leftovers of writes interrupted by a crash (bytes
 * made durable, metadata never committed) or of deletions interrupted after their commit.
 *
 * Only blobs last written before `writtenBeforeMs` are candidates — pass the moment the server
 * started, before it accepted requests — so a write in flight is never mistaken for an orphan.
 * The referenced set is read after listing, so a blob committed meanwhile is seen as referenced.
 *
 * It relies on no blob older than the cut-off still being about to be referenced. The embedded
 * deployment guarantees that by sweeping at start-up only (one locked data directory); an S3 blob
 * store is claimed by one vault's metadata (a second is refused) and the cut-off moves back by a
 * grace for the backend's clock (S3_ORPHAN_SWEEP_GRACE_MS). Cluster nodes sharing the store sweep
 * while others write: there the cut-off is the grace before now and every node aborts a blob
 * write that runs past half the grace (CLUSTER_MAX_BLOB_WRITE_MS), so a write in flight is never
 * old enough. Still to do for very large vaults: a batched reference check instead of the whole
 * referenced set in memory.
 */
export async function sweepOrphanBlobs(
  metadata: MetadataStore,
  blobs: BlobStore,
  writtenBeforeMs: number,
): Promise<{ readonly examined: number; readonly removed: number }> {
  const candidates: string[] = [];
  let examined = 0;
  for await (const blobId of blobs.list()) {
    examined++;
    const modified = await blobs.modifiedMs(blobId);
    if (modified !== undefined && modified < writtenBeforeMs) candidates.push(blobId);
  }
  if (candidates.length === 0) return { examined, removed: 0 };
  const referenced = await metadata.referencedBlobIds();
  let removed = 0;
  for (const blobId of candidates) {
    if (referenced.has(blobId)) continue;
    await blobs.delete(blobId);
    removed++;
  }
  return { examined, removed };
}
