import { gunzipSync } from 'node:zlib';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { isNoSuchKey } from '../../infra/s3-client/s3-client-errors.js';
import { type BackupRepositoryLocation, formatRepositoryLocation } from './backup-repository.js';
import { walObjectKey, walPrefix } from './wal-archive-layout.js';
import { parseWalFileName, type WalFileKind } from './wal-file-name.js';
import { readWalObjectMetadata, walAssociatedData } from './wal-object-metadata.js';
import { checkKeyFor, type RepositoryKey } from './repository-key.js';
import { readWriteOnceObject } from './write-once-object.js';

/**
 * Everything under `PREFIX/wal/`, read with one listing: which segments, partial segments and
 * history files the archive holds, and when each was stored (the server's Last-Modified). Keys
 * that are not WAL file names, or sit in the wrong timeline folder, are counted as strays and
 * otherwise ignored — a restore never fetches them.
 */
export interface ArchivedWalFile {
  readonly name: string;
  readonly kind: WalFileKind;
  readonly key: string;
  /** Bytes stored (compressed). */
  readonly size: number;
  readonly lastModifiedMs: number;
}

export interface WalArchiveListing {
  /** Segment names per timeline (8 hex digits), each list in WAL order. */
  readonly segments: ReadonlyMap<string, readonly ArchivedWalFile[]>;
  /** Timelines (as numbers) that have a `.history` file. */
  readonly historyTimelines: ReadonlySet<number>;
  readonly files: readonly ArchivedWalFile[];
  readonly strays: readonly string[];
  has(name: string): boolean;
  get(name: string): ArchivedWalFile | undefined;
}

export async function listWalArchive(client: S3Client, location: BackupRepositoryLocation): Promise<WalArchiveListing> {
  const folder = walPrefix(location.prefix);
  const files: ArchivedWalFile[] = [];
  const strays: string[] = [];
  for await (const object of client.listObjects({ bucket: location.bucket, prefix: folder })) {
    const [timeline, name, extra] = object.key.slice(folder.length).split('/');
    const file = name === undefined ? undefined : parseWalFileName(name);
    if (file === undefined || extra !== undefined || file.timeline !== timeline) {
      strays.push(object.key);
      continue;
    }
    files.push(Object.freeze({ name: file.name, kind: file.kind, key: object.key, size: object.size, lastModifiedMs: object.lastModifiedMs }));
  }
  return walArchiveListingOf(files, strays);
}

/** The listing of a known set of files (also what tests build listings from). */
export function walArchiveListingOf(files: readonly ArchivedWalFile[], strays: readonly string[] = []): WalArchiveListing {
  const byName = new Map(files.map((f) => [f.name, f]));
  const segments = new Map<string, ArchivedWalFile[]>();
  const historyTimelines = new Set<number>();
  for (const file of files) {
    if (file.kind === 'timeline-history') historyTimelines.add(parseInt(file.name.slice(0, 8), 16));
    if (file.kind !== 'segment') continue;
    const timeline = file.name.slice(0, 8);
    const list = segments.get(timeline) ?? [];
    list.push(file);
    segments.set(timeline, list);
  }
  for (const list of segments.values()) list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Object.freeze({
    segments,
    historyTimelines,
    files: Object.freeze([...files]),
    strays: Object.freeze([...strays]),
    has: (name: string) => byName.has(name),
    get: (name: string) => byName.get(name),
  });
}

const MAX_TEXT_FILE_BYTES = 1024 * 1024;

/**
 * A small archived file (history file, backup history file) as text, decoded as wal-push stored
 * it. The client checks the stored SHA-256 as the bytes stream; undefined if there is no such file.
 */
export async function readArchivedWalText(client: S3Client, location: BackupRepositoryLocation, name: string, encryption?: RepositoryKey): Promise<string | undefined> {
  const file = parseWalFileName(name);
  if (file === undefined) throw new RangeError(`not a WAL file name: ${name}`);
  const key = walObjectKey(location.prefix, file);
  let answer;
  try {
    answer = await readWriteOnceObject(client, location.bucket, key);
  } catch (error) {
    if (isNoSuchKey(error)) return undefined;
    throw error;
  }
  if (answer === undefined) return undefined;
  const { head, body } = answer;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_TEXT_FILE_BYTES) {
      body.destroy();
      throw new RangeError(`${key} is larger than a ${file.kind} file can be`);
    }
    chunks.push(chunk);
  }
  const description = readWalObjectMetadata(head.metadata);
  let stored: Buffer = Buffer.concat(chunks);
  if (description?.encryptionKeyId !== undefined) {
    stored = checkKeyFor(`${name} in ${formatRepositoryLocation(location)}`, description.encryptionKeyId, encryption).open(stored, walAssociatedData(name), key);
  }
  return ((description?.compression ?? 'none') === 'gzip' ? gunzipSync(stored) : stored).toString('utf8');
}
