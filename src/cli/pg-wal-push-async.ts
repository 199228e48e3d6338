import { spawn } from 'node:child_process';
import { closeSync, openSync, renameSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForAsyncPush } from '../backup/pg/async-wal-push.js';
import { formatRepositoryLocation } from '../backup/pg/backup-repository.js';
import { WalPushSpool } from '../backup/pg/wal-push-spool.js';
import { EXIT_OK } from './exit-codes.js';
import { boundedInteger, DEFAULT_PUSH_PARALLEL, keyFileArguments, type PgVerbContext, UsageError } from './pg-options.js';

/**
 * archive_command with `--async`: PostgreSQL runs it once per segment and waits, so it loads only
 * the spool and waits for the background worker's status (no S3 client, no compression).
 */

const MAX_WORKER_LOG_BYTES = 10 * 1024 * 1024;

/** `wal-push PATH --async --spool DIR`: waits for the worker's status, starting a worker when none runs. */
export async function walPushAsync(context: PgVerbContext): Promise<number> {
  const { values, io } = context;
  const [path, extra] = context.positionals;
  if (path === undefined || extra !== undefined) throw new UsageError('wal-push takes one PATH: the %p of archive_command.');
  if (values.spool === undefined) throw new UsageError('--async needs --spool DIR: a directory outside the data directory, owned by the postgres user, for the worker\'s status files (e.g. /var/spool/holdfast/main).');
  const parallel = boundedInteger('parallel', values.parallel, 1, 64) ?? DEFAULT_PUSH_PARALLEL;
  const timeoutMs = (boundedInteger('async-timeout', values['async-timeout'], 1, 86_400) ?? 60) * 1000;
  const spool = new WalPushSpool(resolve(values.spool));
  const absolutePath = resolve(path);
  const outcome = await waitForAsyncPush(absolutePath, {
    spool,
    timeoutMs,
    clock: io.clock,
    startWorker: () => {
      rotateLog(spool.logPath);
      const log = openSync(spool.logPath, 'a', 0o600);
      try {
        const args = [
          fileURLToPath(new URL('./main.js', import.meta.url)),
          'pg',
          'wal-push-worker',
          '--pg-wal',
          dirname(absolutePath),
          '--spool',
          resolve(values.spool!),
          '--repo',
          formatRepositoryLocation(context.location),
          '--endpoint',
          context.endpoint,
          '--parallel',
          String(parallel),
          ...(context.retention === undefined ? [] : ['--retain-days', String(context.retention.retainDays)]),
          ...keyFileArguments(context),
        ];
        spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], env: io.env }).unref();
      } finally {
        closeSync(log);
      }
    },
  });
  if (context.json) io.stdout(`${JSON.stringify({ outcome: 'archived-async', ...outcome })}\n`);
  return EXIT_OK;
}

function rotateLog(path: string): void {
  try {
    if (statSync(path).size > MAX_WORKER_LOG_BYTES) renameSync(path, `${path}.1`);
  } catch {
    // no log yet
  }
}
