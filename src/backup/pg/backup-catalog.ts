import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { isBackupId } from './backup-id.js';
import { backupsPrefix, MANIFEST_NAME } from './backup-layout.js';
import { type BackupManifest, MAX_BACKUP_MANIFEST_BYTES, parseBackupManifest } from './backup-manifest.js';
import type { BackupRepositoryLocation } from './backup-repository.js';
import { walPrefix } from './wal-archive-layout.js';
import { parseWalFileName } from './wal-file-name.js';

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
}

/**
 * What a repository holds, read from the bucket itself: the backups are the `manifest.json`
 * objects under `backups/` (a folder without one is an incomplete backup and is skipped), the WAL
 * ranges come from listing `wal/`. A listing of all WAL is linear in the archive's size; the
 * append-only catalog of a later slice replaces it for large archives.
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
  return { backups, invalid, wal: await readWalRanges(client, location) };
}

export async function readWalRanges(client: S3Client, location: BackupRepositoryLocation): Promise<WalTimelineRange[]> {
  const ranges = new Map<string, { first: string; last: string; segments: number; lastModifiedMs: number | undefined }>();
  const folder = walPrefix(location.prefix);
  for await (const object of client.listObjects({ bucket: location.bucket, prefix: folder })) {
    const [timeline, name, extra] = object.key.slice(folder.length).split('/');
    if (timeline === undefined || name === undefined || extra !== undefined) continue;
    const file = parseWalFileName(name);
    if (file?.kind !== 'segment' || file.timeline !== timeline) continue;
    const range = ranges.get(timeline);
    if (range === undefined) {
      ranges.set(timeline, { first: name, last: name, segments: 1, lastModifiedMs: object.lastModifiedMs });
      continue;
    }
    range.segments += 1;
    if (name < range.first) range.first = name;
    // Keys arrive in order, so the last seen is the newest; compare anyway to not depend on it.
    if (name > range.last) {
      range.last = name;
      range.lastModifiedMs = object.lastModifiedMs;
    }
  }
  return [...ranges.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([timeline, r]) =>
      Object.freeze({
        timeline,
        firstSegment: r.first,
        lastSegment: r.last,
        segments: r.segments,
        lastArchivedAt: r.lastModifiedMs === undefined || !Number.isFinite(r.lastModifiedMs) ? undefined : new Date(r.lastModifiedMs).toISOString(),
      }),
    );
}

async function readText(client: S3Client, bucket: string, key: string): Promise<string> {
  const { body } = await client.getObject({ bucket, key });
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
