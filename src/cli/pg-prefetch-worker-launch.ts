import { spawn } from 'node:child_process';
import { closeSync, openSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WalPrefetchSpool } from '../backup/pg/wal-prefetch-spool.js';

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
    spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], env: launch.env }).unref();
  } finally {
    closeSync(log);
  }
}
