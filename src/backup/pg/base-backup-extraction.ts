import { createHash } from 'node:crypto';
import { checkKeyFor, contentDigest, type RepositoryKey } from './repository-key.js';
import { readWriteOnceObject } from './write-once-object.js';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { TarExtractor, type TarExtractSummary } from '../../infra/tar/tar-extractor.js';
import { backupPartAssociatedData, type BackupManifest, type BackupPart } from './backup-manifest.js';
import type { BackupRepositoryLocation } from './backup-repository.js';

/**
 * A stored base backup back into a directory: the parts are fetched in order (the next ones
 * already downloading while one is unpacked), each checked against the manifest's size and
 * SHA-256, the gzip stream decoded and checked as a whole (size and SHA-256 of the tar), and the
 * tar written out by `TarExtractor`, which fsyncs what it writes. Any mismatch stops the restore
 * and removes what was written: a half-restored data directory is never left to be started.
 */

export class BackupIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupIntegrityError';
  }
}

export class RestoreTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreTargetError';
  }
}

export interface ExtractionProgress {
  /** Compressed bytes fetched and checked so far, of `totalBytes`. */
  readonly bytes: number;
  readonly totalBytes: number;
}

export interface ExtractBaseBackupOptions {
  readonly client: S3Client;
  readonly location: BackupRepositoryLocation;
  readonly manifest: BackupManifest;
  /** A directory that does not exist yet, or is empty. */
  readonly into: string;
  /** Parts downloaded ahead of the one being unpacked (default 2; memory: that many parts). */
  readonly prefetchParts?: number;
  readonly sync?: boolean;
  readonly onProgress?: (progress: ExtractionProgress) => void;
  /** The repository key, required when the manifest says the parts are sealed. */
  readonly encryption?: RepositoryKey | undefined;
  /** Stops the restore (a drill over its budget): no further part is fetched, what was written is removed, and it rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/** Creates `into` (mode 0700) or checks that it is empty; says whether it was created. */
export async function prepareRestoreTarget(into: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir(into);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      await mkdir(into, { recursive: true, mode: 0o700 });
      return true;
    }
    if (code === 'ENOTDIR') throw new RestoreTargetError(`${into} is a file, not a directory: give --into a new or empty directory.`);
    throw error;
  }
  if (entries.length > 0) {
    throw new RestoreTargetError(`${into} is not empty (${entries.length} entries, e.g. ${entries.slice(0, 3).join(', ')}): a restore never writes over existing files; give --into a new or empty directory.`);
  }
  return false;
}

export async function extractBaseBackup(options: ExtractBaseBackupOptions): Promise<TarExtractSummary & { readonly createdTarget: boolean }> {
  const { manifest, into } = options;
  const key = manifest.encryption === undefined ? undefined : checkKeyFor(`backup ${manifest.id}`, manifest.encryption.keyId, options.encryption);
  const created = await prepareRestoreTarget(into);
  const extractor = new TarExtractor(into, { sync: options.sync ?? true });
  const compressedHash = contentDigest(key);
  let compressedBytes = 0;
  try {
    let fetchedBytes = 0;
    const parts = Readable.from(
      fetchParts(options, key, (stored, plain) => {
        compressedHash.update(plain);
        compressedBytes += plain.length;
        fetchedBytes += stored;
        options.onProgress?.({ bytes: fetchedBytes, totalBytes: manifest.parts.reduce((sum, p) => sum + p.size, 0) });
      }),
    );
    // 1 MiB output chunks: a callback and a write per MiB rather than per 16 KiB (the default).
    await pipeline(parts, createGunzip({ chunkSize: 1024 * 1024 }), extractor, ...(options.signal === undefined ? [] : [{ signal: options.signal }]));
    options.signal?.throwIfAborted();
    const compressedSha256 = compressedHash.digest('hex');
    if (compressedBytes !== manifest.compressedBytes || compressedSha256 !== manifest.compressedSha256) {
      throw new BackupIntegrityError(`backup ${manifest.id}: the stored parts add up to ${compressedBytes} bytes with sha256 ${compressedSha256}, the manifest says ${manifest.compressedBytes} bytes with ${manifest.compressedSha256}.`);
    }
    // The tar stream's own SHA-256 (manifest.tarSha256) is not recomputed here: it would cost a
    // second of one core per GiB on the path to a usable database and prove nothing more. The
    // compressed bytes are proven above, inflating the same bytes gives the same stream (gzip's
    // CRC-32 and length trailer check that too), and pg_verifybackup then checks every file
    // against the SHA-256 PostgreSQL itself computed (--manifest-checksums=SHA256). The digest stays
    // in the manifest: what the backup streamed, for anyone who unpacks the parts by hand.
    if (extractor.streamBytes !== manifest.tarBytes) {
      throw new BackupIntegrityError(`backup ${manifest.id}: the unpacked tar is ${extractor.streamBytes} bytes, the manifest says ${manifest.tarBytes}.`);
    }
    return { ...extractor.summary(), createdTarget: created };
  } catch (error) {
    await removeRestoredFiles(into, created);
    // An abort surfaces from the pipeline as a generic AbortError; the signal's reason says why.
    options.signal?.throwIfAborted();
    throw error;
  }
}

/**
 * Removes what a failed restore wrote: `into` was new or empty before, so everything in it is
 * the restore's; it is removed too if the restore created it.
 */
export async function removeRestoredFiles(into: string, created: boolean): Promise<void> {
  for (const entry of await readdir(into).catch(() => [])) await rm(join(into, entry), { recursive: true, force: true });
  if (created) await rmdir(into).catch(() => undefined);
}

/** The parts' bytes in order, each verified (and opened); up to `prefetchParts` downloads run ahead. */
async function* fetchParts(options: ExtractBaseBackupOptions, key: RepositoryKey | undefined, onVerified: (storedBytes: number, plain: Buffer) => void): AsyncGenerator<Buffer> {
  const ahead = Math.max(1, options.prefetchParts ?? 2);
  const queue: Promise<Buffer>[] = [];
  let next = 0;
  const parts = options.manifest.parts;
  const startNext = () => {
    const part = parts[next++]!;
    const download = downloadPart(options.client, options.location.bucket, part, options.manifest.id, options.signal);
    download.catch(() => undefined); // handled when awaited in order below
    queue.push(download);
  };
  try {
    while (next < parts.length && queue.length < ahead) startNext();
    for (let index = 0; queue.length > 0; index++) {
      options.signal?.throwIfAborted();
      const stored = await queue.shift()!;
      if (next < parts.length) startNext();
      const plain = key === undefined ? stored : key.open(stored, backupPartAssociatedData(options.manifest.id, index + 1), parts[index]!.key);
      onVerified(stored.length, plain);
      yield plain;
    }
  } finally {
    // A consumer that stopped early (an error downstream) leaves downloads to settle unobserved.
    for (const pending of queue) pending.catch(() => undefined);
  }
}

async function downloadPart(client: S3Client, bucket: string, part: BackupPart, backupId: string, signal: AbortSignal | undefined): Promise<Buffer> {
  const read = await readWriteOnceObject(client, bucket, part.key);
  if (read === undefined) throw new BackupIntegrityError(`backup ${backupId}: ${part.key} is missing from the repository.`);
  const { body } = read;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (signal?.aborted === true) {
      // A download running ahead stops with the restore rather than finishing for nothing.
      body.destroy();
      signal.throwIfAborted();
    }
    size += chunk.length;
    if (size > part.size) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (size !== part.size || sha256 !== part.sha256) {
    throw new BackupIntegrityError(`backup ${backupId}: ${part.key} is ${size} bytes with sha256 ${sha256}, the manifest says ${part.size} bytes with ${part.sha256}.`);
  }
  return bytes;
}
