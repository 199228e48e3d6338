import { spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WalPrefetchSpool } from '../backup/pg/wal-prefetch-spool.js';
import { walSegmentName, walSegmentNumber } from '../backup/pg/wal-position.js';

/** How wal-fetch --prefetch starts its background worker (`holdfast pg wal-fetch-worker`). */

export interface PrefetchWorkerLaunch {
  readonly spool: WalPrefetchSpool;
  /** The --spool directory, absolute: the worker does not run in the data directory's context. */
  readonly spoolRoot: string;
  readonly after: string;
  readonly count: number;
  readonly segmentBytes: number;
  readonly repository: string;
  readonly endpoint: string;
  readonly parallel: string | undefined;
  readonly keyFile: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** Run the worker as this user (we are root and PostgreSQL is not). */
  readonly user?: { readonly uid: number; readonly gid: number } | undefined;
}

const MAX_WORKER_LOG_BYTES = 10 * 1024 * 1024;

/** Starts the prefetch worker detached, its output appended to worker.log in the spool (rotated once past 10 MiB). */
export function startPrefetchWorker(launch: PrefetchWorkerLaunch): void {
  const logPath = join(launch.spool.directory, 'worker.log');
  try {
    if (statSync(logPath).size > MAX_WORKER_LOG_BYTES) renameSync(logPath, `${logPath}.1`);
  } catch {
    // no log yet
  }
  const log = openSync(logPath, 'a', 0o600);
  try {
    const args = [
      fileURLToPath(new URL('./main.js', import.meta.url)),
      'pg',
      'wal-fetch-worker',
      '--spool',
      launch.spoolRoot,
      '--after',
      launch.after,
      '--prefetch',
      String(launch.count),
      '--segment-bytes',
      String(launch.segmentBytes),
      '--repo',
      launch.repository,
      '--endpoint',
      launch.endpoint,
      ...(launch.parallel === undefined ? [] : ['--parallel', launch.parallel]),
      // The key's path, never the key (the worker reads the same file, or the same environment).
      ...(launch.keyFile === undefined ? [] : ['--encryption-key-file', resolve(launch.keyFile)]),
    ];
    spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], env: launch.env, ...(launch.user === undefined ? {} : { uid: launch.user.uid, gid: launch.user.gid }) }).unref();
  } finally {
    closeSync(log);
  }
}

export interface RecoveryPrefetchStart {
  /** The --spool of the restore_command written into the copy, absolute. */
  readonly spoolRoot: string;
  /** The first segment recovery will ask for (the backup's start segment). */
  readonly firstSegment: string;
  readonly segmentBytes: number;
  readonly count: number;
  readonly repository: string;
  readonly endpoint: string;
  readonly keyFile: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Starts the prefetch worker for a recovery that is about to begin, from `holdfast pg restore`
 * (and drills) once the copy is unpacked: the first segments are in the spool before PostgreSQL
 * asks for them. Without this the first restore_command call finds an empty spool, downloads its
 * segment itself (loading an S3 client, opening a connection) and only then starts the worker, so
 * the first few files of every recovery cost a full process each. The worker gives up after its
 * idle time if nobody starts the server; the first wal-fetch then starts one as before.
 * When we are root, the worker runs as the owner of the spool's nearest existing directory (a
 * spool of PostgreSQL's user, as drills make). False when that is root — PostgreSQL never runs
 * as root, so the copy will be handed to a user we do not know yet, and a spool made now would be
 * root's (wal-fetch starts the worker then, as that user) — and when there is nothing to start
 * from (a first segment at the very beginning of WAL).
 */
export function startRecoveryPrefetch(start: RecoveryPrefetchStart): boolean {
  const number = walSegmentNumber(start.firstSegment, start.segmentBytes);
  if (number === 0n) return false;
  const after = walSegmentName(parseInt(start.firstSegment.slice(0, 8), 16), number - 1n, start.segmentBytes);
  const owner = process.getuid?.() === 0 ? statSync(nearestExisting(start.spoolRoot)) : undefined;
  if (owner?.uid === 0) return false;
  const user = owner === undefined ? undefined : { uid: owner.uid, gid: owner.gid };
  const spool = new WalPrefetchSpool(start.spoolRoot, start.endpoint, start.repository);
  // The spool's directories belong to whoever runs PostgreSQL (its wal-fetch writes there too).
  const created = mkdirSync(spool.directory, { recursive: true, mode: 0o700 });
  if (user !== undefined && created !== undefined) {
    for (let dir = spool.directory; dir.length >= created.length; dir = join(dir, '..')) chownSync(dir, user.uid, user.gid);
  }
  startPrefetchWorker({ spool, spoolRoot: start.spoolRoot, after, count: start.count, segmentBytes: start.segmentBytes, repository: start.repository, endpoint: start.endpoint, parallel: undefined, keyFile: start.keyFile, env: start.env, user });
  if (user !== undefined) chownSync(join(spool.directory, 'worker.log'), user.uid, user.gid);
  return true;
}

function nearestExisting(path: string): string {
  for (let dir = path; ; dir = join(dir, '..')) {
    if (existsSync(dir) || dir === join(dir, '..')) return dir;
  }
}
