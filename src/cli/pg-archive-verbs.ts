import { resolve } from 'node:path';
import { formatRepositoryLocation } from '../backup/pg/backup-repository.js';
import { parseWalFileName } from '../backup/pg/wal-file-name.js';
import { isWalSegmentSize } from '../backup/pg/wal-position.js';
import { runWalPrefetchWorker } from '../backup/pg/wal-prefetch.js';
import { WalPrefetchSpool } from '../backup/pg/wal-prefetch-spool.js';
import { startPrefetchWorker } from './pg-prefetch-worker-launch.js';
import { S3WalArchiveStore } from '../backup/pg/s3-wal-archive-store.js';
import { WalArchiver } from '../backup/pg/wal-archiver.js';
import { WalFetcher, type WalFetchResult } from '../backup/pg/wal-fetcher.js';
import { S3Client } from '../infra/s3-client/s3-client.js';
import { s3ClientOptionsFromEnvironment } from '../infra/s3-client/s3-client-environment.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import { reportFetch, reportPush } from './pg-command-reports.js';
import { boundedInteger, DEFAULT_PUSH_PARALLEL, type PgVerbContext, repositoryKeyFor, UsageError } from './pg-options.js';

/** `wal-push` (synchronous), `wal-fetch` and the asynchronous push worker: archive_command and restore_command. */


function clientFor(context: PgVerbContext): S3Client {
  return new S3Client({ ...s3ClientOptionsFromEnvironment(context.endpoint, context.io.env), clock: context.io.clock });
}

export async function walPush(context: PgVerbContext): Promise<number> {
  const [path, extra] = context.positionals;
  if (path === undefined || extra !== undefined) throw new UsageError('wal-push takes one PATH: the %p of archive_command.');
  const client = clientFor(context);
  try {
    const archiver = new WalArchiver(new S3WalArchiveStore(client, context.location, context.retention), context.location.prefix, { clock: context.io.clock, encryption: await repositoryKeyFor(context) });
    const result = await archiver.push(resolve(path));
    reportPush(result, context.json, context.io);
    return EXIT_OK;
  } finally {
    client.close();
  }
}

export async function walFetch(context: PgVerbContext): Promise<number> {
  const { values, io } = context;
  const [name, destination, extra] = context.positionals;
  if (name === undefined || destination === undefined || extra !== undefined) {
    throw new UsageError('wal-fetch takes NAME and DEST: the %f and %p of restore_command.');
  }
  const prefetch = boundedInteger('prefetch', values.prefetch, 1, 1000);
  if ((prefetch === undefined) !== (values.spool === undefined)) {
    throw new UsageError('--prefetch N and --spool DIR go together: the spool (writable by the postgres user, e.g. pg_wal/holdfast-prefetch of the restored copy) is where the next N segments wait.');
  }
  boundedInteger('parallel', values.parallel, 1, 64);
  const segment = parseWalFileName(name)?.kind === 'segment';
  const spool = values.spool === undefined ? undefined : new WalPrefetchSpool(resolve(values.spool), context.endpoint, formatRepositoryLocation(context.location));
  const started = io.clock.nowMs();
  // pg-wal-fetch-command.ts serves from the spool without loading this module; this take is for
  // the rare file that arrived between its look and now.
  const fromSpool = spool !== undefined && segment ? await spool.take(name, resolve(destination)) : undefined;
  let result: WalFetchResult;
  if (fromSpool !== undefined) {
    result = { outcome: 'restored', name, key: spool!.pathOf(name), size: fromSpool, sha256: 'verified-when-prefetched', durationMs: io.clock.nowMs() - started };
  } else {
    const client = clientFor(context);
    try {
      const fetcher = new WalFetcher(new S3WalArchiveStore(client, context.location), context.location.prefix, { clock: io.clock, encryption: await repositoryKeyFor(context) });
      result = await fetcher.fetch(name, resolve(destination), { sync: false });
    } finally {
      client.close();
    }
  }
  if (spool !== undefined && segment && result.outcome === 'restored') {
    try {
      await spool.ensure();
      if (await spool.lock.isHeld()) await spool.recordPosition(name);
      else startPrefetchWorker({ spool, spoolRoot: resolve(values.spool!), after: name, count: prefetch!, segmentBytes: result.size, repository: formatRepositoryLocation(context.location), endpoint: context.endpoint, parallel: values.parallel, keyFile: values['encryption-key-file'], env: io.env });
    } catch (error) {
      // The segment is in place: prefetching is an optimisation, and recovery must go on without it.
      io.stderr(`holdfast pg wal-fetch: warning: prefetch into ${spool.directory} is not possible (${error instanceof Error ? error.message : String(error)}); every segment is fetched when asked for.\n`);
    }
  }
  reportFetch(result, context.json, io);
  return result.outcome === 'restored' ? EXIT_OK : EXIT_FAILURE;
}

/** The prefetch worker: started detached by wal-fetch --prefetch. */
export async function walFetchWorker(context: PgVerbContext): Promise<number> {
  const { values } = context;
  if (context.positionals.length > 0) throw new UsageError('wal-fetch-worker takes no arguments.');
  const after = values.after;
  const segmentBytes = boundedInteger('segment-bytes', values['segment-bytes'], 1 << 20, 1 << 30);
  if (values.spool === undefined || after === undefined || parseWalFileName(after)?.kind !== 'segment' || segmentBytes === undefined || !isWalSegmentSize(segmentBytes)) {
    throw new UsageError('wal-fetch-worker needs --spool DIR, --after SEGMENT and --segment-bytes N; wal-fetch --prefetch starts it.');
  }
  const spool = new WalPrefetchSpool(resolve(values.spool), context.endpoint, formatRepositoryLocation(context.location));
  const client = clientFor(context);
  try {
    const fetcher = new WalFetcher(new S3WalArchiveStore(client, context.location), context.location.prefix, { clock: context.io.clock, encryption: await repositoryKeyFor(context) });
    await runWalPrefetchWorker({
      fetcher,
      spool,
      after,
      count: boundedInteger('prefetch', values.prefetch, 1, 1000) ?? 8,
      segmentBytes,
      parallel: boundedInteger('parallel', values.parallel, 1, 64),
      log: (line) => context.io.stderr(`${line}\n`),
      clock: context.io.clock,
    });
    return EXIT_OK;
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
    const archiver = new WalArchiver(new S3WalArchiveStore(client, context.location, context.retention), context.location.prefix, { clock: context.io.clock, encryption: await repositoryKeyFor(context) });
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
