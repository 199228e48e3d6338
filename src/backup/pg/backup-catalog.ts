import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { isBackupId } from './backup-id.js';
import { backupsPrefix, MANIFEST_NAME } from './backup-layout.js';
import { type BackupManifest, MAX_BACKUP_MANIFEST_BYTES, parseBackupManifest } from './backup-manifest.js';
import type { BackupRepositoryLocation } from './backup-repository.js';
import { listWalArchive, type WalArchiveListing } from './wal-archive-listing.js';
import { readWriteOnceObject } from './write-once-object.js';

/** The archived WAL segments of one timeline: the first and last by name, and how many. */
export interface WalTimelineRange {
  readonly timeline: string;
  readonly firstSegment: string;
  readonly lastSegment: string;
  readonly segments: number;
  /** When the newest segment of the timeline was stored (server time), ISO-8601. */
  readonly lastArchivedAt: string | undefined;
}

export interface InvalidBackup {
  readonly key: string;
  readonly problem: string;
}

export interface BackupCatalog {
  /** Complete backups (those with a valid manifest), oldest first. */
  readonly backups: readonly BackupManifest[];
  /** Manifests that could not be read or checked: reported, never used. */
  readonly invalid: readonly InvalidBackup[];
  readonly wal: readonly WalTimelineRange[];
  /** Everything under `wal/`, for recovery plans and gap reports. */
  readonly listing: WalArchiveListing;
}

/**
 * What a repository holds, read from the bucket itself: the backups are the `manifest.json`
 * objects under `backups/` (a folder without one is an incomplete backup and is skipped), the WAL
 * ranges come from one listing of `wal/`. Both are linear in the repository's size; the
 * append-only catalog of a later slice replaces them for large archives.
 */
export async function readBackupCatalog(client: S3Client, location: BackupRepositoryLocation): Promise<BackupCatalog> {
  const backups: BackupManifest[] = [];
  const invalid: InvalidBackup[] = [];
  const folder = backupsPrefix(location.prefix);
  for await (const object of client.listObjects({ bucket: location.bucket, prefix: folder })) {
    const [id, name, extra] = object.key.slice(folder.length).split('/');
    if (id === undefined || name !== MANIFEST_NAME || extra !== undefined || !isBackupId(id)) continue;
    try {
      if (object.size > MAX_BACKUP_MANIFEST_BYTES) throw new Error(`${object.size} bytes is too large for a manifest`);
      const manifest = parseBackupManifest(await readText(client, location.bucket, object.key), object.key);
      if (manifest.id !== id) throw new Error(`it names backup ${manifest.id} but is stored under ${id}`);
      backups.push(manifest);
    } catch (error) {
      invalid.push({ key: object.key, problem: (error as Error).message });
    }
  }
  backups.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const listing = await listWalArchive(client, location);
  return { backups, invalid, wal: walRangesOf(listing), listing };
}

/** First and last segment per timeline, and when the newest was stored. */
export function walRangesOf(listing: WalArchiveListing): WalTimelineRange[] {
  return [...listing.segments.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([timeline, segments]) => {
      const last = segments.at(-1)!;
      return Object.freeze({
        timeline,
        firstSegment: segments[0]!.name,
        lastSegment: last.name,
        segments: segments.length,
        lastArchivedAt: Number.isFinite(last.lastModifiedMs) ? new Date(last.lastModifiedMs).toISOString() : undefined,
      });
    });
}

async function readText(client: S3Client, bucket: string, key: string): Promise<string> {
  const read = await readWriteOnceObject(client, bucket, key);
  if (read === undefined) throw new Error('it disappeared while the catalog was read');
  const { body } = read;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BACKUP_MANIFEST_BYTES) {
      body.destroy();
      throw new Error('larger than a manifest can be');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
