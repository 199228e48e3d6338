import type { S3Client } from '../../s3-client/s3-client.js';
import { isAlreadyExists } from '../../s3-client/s3-client-errors.js';
import { readAll } from '../../streams/read-all.js';

/** Who holds a blob prefix: the metadata store whose references decide which blobs are live. */
export interface BlobPrefixOwner {
  /** Stable for one metadata store (the vault's node id, kept in its metadata). */
  readonly id: string;
  /** For the operator reading a refusal: where that metadata lives (no credentials). */
  readonly metadata: string;
}

/** The prefix is held by another metadata store. */
export class BlobPrefixOwnedError extends Error {
  constructor(
    readonly markerUrl: string,
    readonly holder: BlobPrefixOwner,
  ) {
    super(`${markerUrl} says the blobs under it belong to vault ${holder.id} (metadata: ${holder.metadata})`);
    this.name = 'BlobPrefixOwnedError';
  }
}

/**
 * Claims `PREFIX/holdfast-owner.json` for `owner` with a create-only PutObject (If-None-Match: *),
 * or confirms this owner already holds it. The orphan sweep deletes every blob its own metadata
 * does not reference, so two vaults with different metadata on one prefix would delete each
 * other's blobs: a prefix is claimed once and a second owner is refused.
 * The marker lives beside `blobs/`, not in it, so list() never sees it.
 */
export async function claimBlobPrefix(client: S3Client, bucket: string, prefix: string, owner: BlobPrefixOwner): Promise<void> {
  const key = `${prefix}holdfast-owner.json`;
  const body = Buffer.from(`${JSON.stringify({ id: owner.id, metadata: owner.metadata })}\n`);
  try {
    await client.putObject({ bucket, key, body: { kind: 'bytes', bytes: body }, createOnly: true, contentType: 'application/json' });
    return;
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  const { body: stored } = await client.getObject({ bucket, key });
  const holder = parseOwner(await readAll(stored));
  if (holder?.id !== owner.id) throw new BlobPrefixOwnedError(`s3://${bucket}/${key}`, holder ?? { id: '(unreadable marker)', metadata: 'unknown' });
}

function parseOwner(bytes: Buffer): BlobPrefixOwner | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const { id, metadata } = value as Record<string, unknown>;
    return typeof id === 'string' ? { id, metadata: typeof metadata === 'string' ? metadata : 'unknown' } : undefined;
  } catch {
    return undefined;
  }
}
