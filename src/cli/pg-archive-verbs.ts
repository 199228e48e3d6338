import { resolve } from 'node:path';
import { S3WalArchiveStore } from '../backup/pg/s3-wal-archive-store.js';
import { WalArchiver } from '../backup/pg/wal-archiver.js';
import { WalFetcher } from '../backup/pg/wal-fetcher.js';
import { S3Client } from '../infra/s3-client/s3-client.js';
import { s3ClientOptionsFromEnvironment } from '../infra/s3-client/s3-client-environment.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import { reportFetch, reportPush } from './pg-command-reports.js';
import { boundedInteger, DEFAULT_PUSH_PARALLEL, type PgVerbContext, UsageError } from './pg-options.js';

/** `wal-push` (synchronous), `wal-fetch` and the asynchronous push worker: archive_command and restore_command. */


function clientFor(context: PgVerbContext): S3Client {
  return new S3Client({ ...s3ClientOptionsFromEnvironment(context.endpoint, context.io.env), clock: context.io.clock });
}

export async function walPush(context: PgVerbContext): Promise<number> {
  const [path, extra] = context.positionals;
  if (path === undefined || extra !== undefined) throw new UsageError('wal-push takes one PATH: the %p of archive_command.');
  const client = clientFor(context);
  try {
    const archiver = new WalArchiver(new S3WalArchiveStore(client, context.location, context.retention), context.location.prefix, { clock: context.io.clock });
    const result = await archiver.push(resolve(path));
    reportPush(result, context.json, context.io);
    return EXIT_OK;
  } finally {
    client.close();
  }
}

export async function walFetch(context: PgVerbContext): Promise<number> {
  const [name, destination, extra] = context.positionals;
  if (name === undefined || destination === undefined || extra !== undefined) {
    throw new UsageError('wal-fetch takes NAME and DEST: the %f and %p of restore_command.');
  }
  const client = clientFor(context);
  try {
    const fetcher = new WalFetcher(new S3WalArchiveStore(client, context.location), context.location.prefix, { clock: context.io.clock });
    const result = await fetcher.fetch(name, resolve(destination));
    reportFetch(result, context.json, context.io);
    return result.outcome === 'restored' ? EXIT_OK : EXIT_FAILURE;
  } finally {
    client.close();
  }
}

/**
 * The background worker of `wal-push --async`: started detached by archive_command, its output
 * appended to the spool's worker.log (rotated once past 10 MiB).
 */
export async function walPushWorker(context: PgVerbContext): Promise<number> {
  const { values } = context;
  if (context.positionals.length > 0) throw new UsageError('wal-push-worker takes no arguments.');
  if (values.spool === undefined || values['pg-wal'] === undefined) throw new UsageError('wal-push-worker needs --spool DIR and --pg-wal DIR; archive_command starts it (wal-push --async).');
  const { WalPushSpool } = await import('../backup/pg/wal-push-spool.js');
  const { runAsyncWalPushWorker } = await import('../backup/pg/async-wal-push.js');
  const spool = new WalPushSpool(resolve(values.spool));
  const client = clientFor(context);
  try {
    const archiver = new WalArchiver(new S3WalArchiveStore(client, context.location, context.retention), context.location.prefix, { clock: context.io.clock });
    await runAsyncWalPushWorker({
      archiver,
      spool,
      pgWalDirectory: resolve(values['pg-wal']),
      parallel: boundedInteger('parallel', values.parallel, 1, 64) ?? DEFAULT_PUSH_PARALLEL,
      log: (line) => context.io.stderr(`${line}\n`),
      clock: context.io.clock,
    });
    return EXIT_OK;
  } finally {
    client.close();
  }
}
