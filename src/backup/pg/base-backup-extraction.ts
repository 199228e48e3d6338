import { createHash } from 'node:crypto';
import { checkKeyFor, type RepositoryKey } from './repository-key.js';
import { readWriteOnceObject } from './write-once-object.js';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { mapInOrder } from '../../infra/streams/map-in-order.js';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { TarExtractor, type TarExtractSummary, type TarFileDigest } from '../../infra/tar/tar-extractor.js';
import { backupPartAssociatedData, type BackupManifest, type BackupPart, hasIndependentParts } from './backup-manifest.js';
import type { BackupRepositoryLocation } from './backup-repository.js';

/** Parts downloading (and, for independent parts, inflating) at once, by default. */
const DEFAULT_PARTS_IN_FLIGHT = 3;

/**
 * A stored base backup back into a directory: the parts are fetched in order (the next ones
 * already downloading while one is unpacked), each checked against the manifest's size and
 * SHA-256, inflated — each part on its own and several at once when every part is a gzip member
 * of its own, else as one stream — and checked (sizes, and the compressed bytes' SHA-256), and the
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
  /**
   * Parts downloading (and inflating, when each is its own gzip member) at once, default 3:
   * while one is written out the others run on the thread pool. Memory: that many parts, inflated.
   */
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

export interface ExtractedBaseBackup extends TarExtractSummary {
  readonly createdTarget: boolean;
  /** Each regular file's size and SHA-256, taken as it was written (for the backup_manifest check). */
  readonly fileDigests: ReadonlyMap<string, TarFileDigest>;
}

export async function extractBaseBackup(options: ExtractBaseBackupOptions): Promise<ExtractedBaseBackup> {
  const { manifest, into } = options;
  const key = manifest.encryption === undefined ? undefined : checkKeyFor(`backup ${manifest.id}`, manifest.encryption.keyId, options.encryption);
  const created = await prepareRestoreTarget(into);
  const extractor = new TarExtractor(into, { sync: options.sync ?? true, digestFiles: true });
  let compressedBytes = 0;
  try {
    let fetchedBytes = 0;
    const totalBytes = manifest.parts.reduce((sum, p) => sum + p.size, 0);
    const onVerified = (stored: number, plain: Buffer) => {
      compressedBytes += plain.length;
      fetchedBytes += stored;
      options.onProgress?.({ bytes: fetchedBytes, totalBytes });
    };
    const signal = options.signal === undefined ? [] : [{ signal: options.signal }];
    if (hasIndependentParts(manifest)) {
      // Each part is a gzip member of its own: several download and inflate on the thread pool
      // while the one before them is written out, in order.
      await pipeline(Readable.from(partsInOrder(options, key, true, onVerified)), extractor, ...signal);
    } else {
      // One gzip stream cut into parts (backups written before parts were members of their own).
      // 1 MiB output chunks: a callback and a write per MiB rather than per 16 KiB (the default).
      await pipeline(Readable.from(partsInOrder(options, key, false, onVerified)), createGunzip({ chunkSize: 1024 * 1024 }), extractor, ...signal);
    }
    options.signal?.throwIfAborted();
    // Neither the whole compressed stream's digest (manifest.compressedSha256) nor the tar's
    // (manifest.tarSha256) is recomputed here: each would cost a core-second per GiB or so on the
    // path to a usable database and prove nothing more. Every part's stored bytes were checked
    // against its SHA-256 in the manifest (and sealed parts opened with AES-GCM, bound to the
    // backup and the part number), so the compressed stream is the one the backup wrote; gzip's
    // CRC-32 and length trailer check the inflate; and every file is checked against the
    // SHA-256 PostgreSQL itself computed (backup_manifest, --manifest-checksums=SHA256), from
    // digests taken as the files were written. The digests stay in the manifest for `verify` and
    // for anyone who unpacks the parts by hand.
    if (compressedBytes !== manifest.compressedBytes) {
      throw new BackupIntegrityError(`backup ${manifest.id}: the stored parts add up to ${compressedBytes} bytes of gzip, the manifest says ${manifest.compressedBytes}.`);
    }
    if (extractor.streamBytes !== manifest.tarBytes) {
      throw new BackupIntegrityError(`backup ${manifest.id}: the unpacked tar is ${extractor.streamBytes} bytes, the manifest says ${manifest.tarBytes}.`);
    }
    return { ...extractor.summary(), createdTarget: created, fileDigests: extractor.fileDigests() };
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

/**
 * The parts in order, each downloaded, verified and opened, `prefetchParts` at once. With
 * `inflate` (every part a gzip member of its own) each is also inflated on the thread pool while
 * the ones before it are written, and must give exactly the tar bytes the manifest says; the
 * generator then yields tar, else the compressed bytes for one gunzip of the whole stream.
 */
async function* partsInOrder(options: ExtractBaseBackupOptions, key: RepositoryKey | undefined, inflate: boolean, onVerified: (storedBytes: number, plain: Buffer) => void): AsyncGenerator<Buffer> {
  const { manifest } = options;
  const ready = mapInOrder(manifest.parts, Math.max(1, options.prefetchParts ?? DEFAULT_PARTS_IN_FLIGHT), async (part, index) => {
    const stored = await downloadPart(options.client, options.location.bucket, part, manifest.id, options.signal);
    const plain = key === undefined ? stored : key.open(stored, backupPartAssociatedData(manifest.id, index + 1), part.key);
    options.signal?.throwIfAborted();
    const tar = inflate ? await inflatePart(plain, part.tarBytes!, `backup ${manifest.id}: ${part.key}`) : undefined;
    return { stored: stored.length, plain, tar };
  });
  for await (const { stored, plain, tar } of ready) {
    options.signal?.throwIfAborted();
    onVerified(stored, plain);
    yield tar ?? plain;
  }
}

/**
 * One gzip member inflated on the thread pool into a single buffer of the expected size (one
 * zlib call, no re-assembly of pieces, no second copy), refusing more or fewer bytes than that:
 * a damaged or hostile part can neither inflate past its place nor come up short.
 */
function inflatePart(compressed: Buffer, expectedBytes: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // One byte more than expected: the whole output fits in the first chunk with room to spare,
    // so zlib never allocates a second one just to find the end.
    const gunzip = createGunzip({ chunkSize: Math.max(64 * 1024, expectedBytes + 1) });
    const chunks: Buffer[] = [];
    let total = 0;
    gunzip.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total > expectedBytes) gunzip.destroy(new BackupIntegrityError(`${what} inflates to more than the ${expectedBytes} bytes of tar the manifest says.`));
    });
    gunzip.once('error', (error) => reject(error instanceof BackupIntegrityError ? error : new BackupIntegrityError(`${what} does not inflate (${error.message}).`)));
    gunzip.once('end', () => {
      if (total !== expectedBytes) reject(new BackupIntegrityError(`${what} inflates to ${total} bytes of tar, the manifest says ${expectedBytes}.`));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    });
    gunzip.end(compressed);
  });
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
