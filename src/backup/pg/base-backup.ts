import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { systemClock, type Clock } from '../../infra/clock.js';
import type { ObjectLockRequest, S3Client } from '../../infra/s3-client/s3-client.js';
import { isNoSuchKey } from '../../infra/s3-client/s3-client-errors.js';
import { mapInOrder } from '../../infra/streams/map-in-order.js';
import { newBackupId } from './backup-id.js';
import { contentDigest, ENCRYPTION_ALGORITHM, type RepositoryKey } from './repository-key.js';
import { backupManifestKey, basePartKey } from './backup-layout.js';
import { BACKUP_MANIFEST_FORMAT, BACKUP_MANIFEST_VERSION, type BackupManifest, backupPartAssociatedData, type BackupPart, serializeBackupManifest } from './backup-manifest.js';
import type { BackupRepositoryLocation } from './backup-repository.js';
import { findArchivedBackupHistory } from './backup-history-file.js';
import { findPgTool, PgToolError, queryClusterFacts, switchWal } from './pg-client-tools.js';
import { walObjectKey } from './wal-archive-layout.js';
import { parseWalFileName } from './wal-file-name.js';
import { backupHistoryFileName, parseLsn, walSegmentNameAt, walSegmentNameBefore } from './wal-position.js';

/** Bytes of tar per stored part: each is gzipped on its own (a gzip member), so parts inflate in parallel at restore. */
export const DEFAULT_PART_TAR_BYTES = 32 * 1024 * 1024;
/** Parts compressing and uploading at once (and tar slices held in memory: this many plus one filling). */
const PARTS_IN_FLIGHT = 2;
/** zlib output per callback: a few per part rather than thousands of the default 16 KiB. */
const GZIP_CHUNK_BYTES = 1024 * 1024;
const gzipAsync = promisify(gzip);
const DEFAULT_ARCHIVE_WAIT_MS = 60_000;
/** Base backups are read once, at restore; level 1 keeps the cluster's read rate the limit, not gzip. */
const BASE_BACKUP_GZIP_LEVEL = 1;
const DAY_MS = 24 * 3600 * 1000;

export interface BaseBackupOptions {
  readonly client: S3Client;
  readonly location: BackupRepositoryLocation;
  /** libpq conninfo for pg_basebackup `-d` and psql; without it the PG* environment applies. */
  readonly connection?: string | undefined;
  /** The environment of pg_basebackup and psql (PGHOST, PGPORT, PGUSER, PGPASSWORD, PATH…). */
  readonly env: NodeJS.ProcessEnv;
  /** COMPLIANCE retention for every object, in days from its write; else the bucket default. */
  readonly retainDays?: number | undefined;
  /**
   * Bytes of tar per stored part (default 32 MiB), each compressed on its own; the backup holds
   * about three of them in memory at once, a restore about as many inflated.
   */
  readonly partTarBytes?: number;
  /** How long to wait for the stop segment to reach the archive after pg_basebackup ends. */
  readonly archiveWaitMs?: number;
  readonly clock?: Clock;
  /** Seal every part with this key (client-side AES-256-GCM); digests become keyed. */
  readonly encryption?: RepositoryKey | undefined;
  /** Called as the tar streams: bytes read from pg_basebackup so far, parts stored so far. */
  readonly onProgress?: (progress: { readonly tarBytes: number; readonly parts: number }) => void;
  /** Stops the backup (a scheduled job's time budget): pg_basebackup is killed, no manifest is written. */
  readonly signal?: AbortSignal;
}

export interface BaseBackupResult {
  readonly manifestKey: string;
  readonly manifest: BackupManifest;
  readonly durationMs: number;
  /** Whether every object has explicit or default retention (false: deletable; warn). */
  readonly retained: boolean;
}

/** The backup did not complete: no manifest was written, so it does not exist for list/restore. */
export class BaseBackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BaseBackupError';
  }
}

/**
 * `holdfast pg backup`: a base backup streamed from `pg_basebackup` into the repository.
 *
 *   pg_basebackup -D - -F tar -X none  →  SHA-256 of the tar  →  slices of `partTarBytes`
 *     →  each slice gzipped on its own (two at once, on the thread pool)  →  one object per slice
 *
 * Nothing is staged on local disk: the tar arrives on pg_basebackup's stdout and only the slices
 * being compressed or uploaded are held in memory; while they are busy the stream is paused,
 * which pauses pg_basebackup (backpressure through the pipe). Each part is its own create-only
 * object with its SHA-256 (verified by the server on PUT) and retention: the lean S3 client has
 * no multipart upload, and separate objects are also what a restore fetches in parallel. Because
 * every part is a complete gzip member (the manifest records its tar bytes), a restore inflates
 * several at once — pgBackRest's process-max does the same per file — instead of decoding one
 * long stream on one core.
 *
 * `-X none`: the WAL needed to make the copy consistent comes from the archive (wal-push). The
 * backup is complete only once its stop segment is archived (PostgreSQL 15 docs, 26.3.3 "Making
 * a Base Backup"), so after pg_basebackup ends this waits — bounded — for that segment and the
 * backup history file to appear under `wal/`, and only then writes `manifest.json`, the commit
 * point. A failure at any step leaves parts without a manifest: an incomplete backup that
 * `list` and restores ignore (the parts are locked like everything else, and expire with it).
 */
export async function runBaseBackup(options: BaseBackupOptions): Promise<BaseBackupResult> {
  const clock = options.clock ?? systemClock;
  const began = clock.nowMs();
  const partTarBytes = options.partTarBytes ?? DEFAULT_PART_TAR_BYTES;
  const { client, location } = options;
  const pgBasebackup = findPgTool('pg_basebackup', options.env);
  const psql = findPgTool('psql', options.env);
  const facts = await queryClusterFacts(psql, options.connection, options.env);
  if (facts.archiveMode === 'off') {
    throw new PgToolError('archive_mode is off: the backup takes its WAL from the archive (-X none), so set archive_mode = on and archive_command = \'holdfast pg wal-push %p …\' first.');
  }
  if (facts.inRecovery || facts.currentWalFile === undefined) {
    throw new PgToolError('the cluster is a standby (in recovery): back up the primary; backups from a standby are not supported yet.');
  }
  const fromWalFile = facts.currentWalFile;
  const id = newBackupId(began);
  const label = `holdfast ${id}`;
  const lock = (): ObjectLockRequest | undefined => (options.retainDays === undefined ? undefined : { mode: 'COMPLIANCE', retainUntilMs: clock.nowMs() + options.retainDays * DAY_MS });
  let retained = true;

  const startTime = new Date(clock.nowMs()).toISOString();
  const child = spawn(
    pgBasebackup,
    ['-D', '-', '-F', 'tar', '-X', 'none', '--checkpoint=fast', '--manifest-checksums=SHA256', '-l', label, '--verbose', '--no-password', ...(options.connection === undefined ? [] : ['-d', options.connection])],
    { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-64 * 1024)));
  options.signal?.addEventListener('abort', () => stop(child), { once: true });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  exited.catch(() => undefined);

  const parts: BackupPart[] = [];
  const encryption = options.encryption;
  const tarHash = contentDigest(encryption);
  const gzipHash = contentDigest(encryption);
  let tarBytes = 0;
  let compressedBytes = 0;
  try {
    // Slices go back to this list once compressed: three buffers serve the whole backup, rather
    // than a fresh 32 MiB allocation (and its page faults) per part.
    const spareSlices: Buffer[] = [];
    const tarSlices = sliceStream(child.stdout as AsyncIterable<Buffer>, partTarBytes, spareSlices, (chunk) => {
      tarHash.update(chunk);
      tarBytes += chunk.length;
      options.onProgress?.({ tarBytes, parts: parts.length });
    });
    // Each part is its own gzip member, compressed on the thread pool: two parts compress (and
    // upload) at once, and a restore can inflate them at once too. Concatenated, the parts are
    // still one valid gzip stream, so `compressedSha256` and a serial gunzip keep working.
    const storeSlice = async (tar: Buffer, index: number): Promise<StoredPart> => {
      const compressed = await gzipAsync(tar, { level: BASE_BACKUP_GZIP_LEVEL, chunkSize: GZIP_CHUNK_BYTES });
      const sliceBytes = tar.length;
      if (sliceBytes === partTarBytes) spareSlices.push(tar);
      const number = index + 1;
      const bytes = encryption === undefined ? compressed : encryption.seal(compressed, backupPartAssociatedData(id, number));
      const key = basePartKey(location.prefix, id, number);
      const objectLock = lock();
      const stored = await client.putObject({
        bucket: location.bucket,
        key,
        body: { kind: 'bytes', bytes },
        createOnly: true,
        contentType: 'application/gzip',
        metadata: { 'holdfast-backup-id': id, 'holdfast-part': String(number) },
        ...(objectLock === undefined ? {} : { objectLock }),
      });
      const head = await client.headObject({ bucket: location.bucket, key });
      const part: BackupPart = Object.freeze({ key, size: stored.size, sha256: Buffer.from(stored.checksumSha256, 'base64').toString('hex'), tarBytes: sliceBytes });
      return { part, compressed, retained: head.objectLock !== undefined };
    };
    for await (const stored of mapInOrder(tarSlices, PARTS_IN_FLIGHT, storeSlice)) {
      gzipHash.update(stored.compressed);
      compressedBytes += stored.compressed.length;
      if (!stored.retained) retained = false;
      parts.push(stored.part);
      options.onProgress?.({ tarBytes, parts: parts.length });
    }
    const ended = await exited;
    if (ended.code !== 0) {
      throw new BaseBackupError(`pg_basebackup failed (exit ${ended.code ?? ended.signal}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
    }
    if (parts.length === 0) throw new BaseBackupError(`pg_basebackup wrote no tar stream: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  } catch (error) {
    stop(child);
    throw error;
  }
  const stopTime = new Date(clock.nowMs()).toISOString();

  // PostgreSQL's record of the backup's WAL range, archived by pg_backup_stop before it returned.
  const timelineHex = fromWalFile.slice(0, 8);
  const found = await waitFor(options, clock, `the backup history file of "${label}"`, () => findArchivedBackupHistory(client, location, timelineHex, fromWalFile, label, encryption), undefined);
  const { history } = found;
  const startLsn = parseLsn(history.startLsn)!;
  const stopLsn = parseLsn(history.stopLsn)!;
  const segment = facts.walSegmentSize;
  // A backup cannot cross a timeline switch on a primary, so start and stop share one timeline.
  if (history.startTimeline !== history.stopTimeline) throw new BaseBackupError(`the backup started on timeline ${history.startTimeline} and stopped on ${history.stopTimeline}; take it again.`);
  const startWalSegment = walSegmentNameAt(history.startTimeline, startLsn, segment);
  const stopWalSegment = walSegmentNameBefore(history.stopTimeline, stopLsn, segment);
  const backupHistoryFile = backupHistoryFileName(history.startTimeline, startLsn, segment);
  if (backupHistoryFile !== found.name) throw new BaseBackupError(`the backup history file is archived as ${found.name}, expected ${backupHistoryFile}; is wal_segment_size ${segment}?`);
  const stopKey = walObjectKey(location.prefix, parseWalFileName(stopWalSegment)!);
  await waitFor(options, clock, `the stop segment ${stopWalSegment} (${stopKey})`, async () => {
    try {
      return await client.headObject({ bucket: location.bucket, key: stopKey });
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw error;
    }
  }, psql);

  const manifest: BackupManifest = Object.freeze({
    format: BACKUP_MANIFEST_FORMAT,
    version: BACKUP_MANIFEST_VERSION,
    id,
    label,
    systemIdentifier: facts.systemIdentifier,
    pgVersion: facts.pgVersion,
    pgVersionNum: facts.pgVersionNum,
    walSegmentSize: segment,
    timeline: history.startTimeline,
    startLsn: history.startLsn,
    stopLsn: history.stopLsn,
    startWalSegment,
    stopWalSegment,
    backupHistoryFile,
    startTime,
    stopTime,
    compression: 'gzip',
    tarBytes,
    tarSha256: tarHash.digest('hex'),
    compressedBytes,
    compressedSha256: gzipHash.digest('hex'),
    parts: Object.freeze(parts),
    ...(encryption === undefined ? {} : { encryption: Object.freeze({ algorithm: ENCRYPTION_ALGORITHM, keyId: encryption.keyId }) }),
  });
  const manifestKey = backupManifestKey(location.prefix, id);
  const objectLock = lock();
  await client.putObject({
    bucket: location.bucket,
    key: manifestKey,
    body: { kind: 'bytes', bytes: Buffer.from(serializeBackupManifest(manifest), 'utf8') },
    createOnly: true,
    contentType: 'application/json',
    metadata: { 'holdfast-backup-id': id },
    ...(objectLock === undefined ? {} : { objectLock }),
  });
  return { manifestKey, manifest, durationMs: clock.nowMs() - began, retained };
}

/**
 * Polls `probe` until it finds what it looks for, bounded by `archiveWaitMs`. pg_backup_stop
 * already waits for archiving when pg_basebackup runs without WAL (`-X none`), so the first poll
 * normally succeeds; given `psql`, a WAL switch after a few seconds hastens an archiver that
 * waits for a quiet segment to fill.
 */
async function waitFor<T>(options: BaseBackupOptions, clock: Clock, what: string, probe: () => Promise<T | undefined>, psql: string | undefined): Promise<T> {
  const waitMs = options.archiveWaitMs ?? DEFAULT_ARCHIVE_WAIT_MS;
  const started = clock.nowMs();
  let switched = false;
  for (;;) {
    if (options.signal?.aborted === true) throw new BaseBackupError(`the backup was stopped while waiting for ${what}; no manifest was written.`);
    const found = await probe();
    if (found !== undefined) return found;
    if (clock.nowMs() - started > waitMs) {
      throw new BaseBackupError(
        `the backup is incomplete: ${what} did not reach the archive within ${waitMs} ms. ` +
          'Check archive_command and pg_stat_archiver (failed_count, last_failed_wal); no manifest was written.',
      );
    }
    if (psql !== undefined && !switched && clock.nowMs() - started > 5_000) {
      switched = true;
      await switchWal(psql, options.connection, options.env);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface StoredPart {
  readonly part: BackupPart;
  readonly compressed: Buffer;
  readonly retained: boolean;
}

/**
 * The stream cut into Buffers of exactly `sliceBytes` (the last one shorter), each chunk copied
 * once, into a spare buffer the consumer handed back (`spare`) or a new one; `onChunk` sees
 * every chunk as it arrives (the tar digest, progress).
 */
async function* sliceStream(stream: AsyncIterable<Buffer>, sliceBytes: number, spare: Buffer[], onChunk: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  let slice = spare.pop() ?? Buffer.allocUnsafe(sliceBytes);
  let filled = 0;
  for await (const chunk of stream) {
    onChunk(chunk);
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, sliceBytes - filled);
      chunk.copy(slice, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (filled === sliceBytes) {
        yield slice;
        slice = spare.pop() ?? Buffer.allocUnsafe(sliceBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield slice.subarray(0, filled);
}

function stop(child: ChildProcessByStdio<null, Readable, Readable>): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}
