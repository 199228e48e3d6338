import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatRepositoryLocation } from '../backup/pg/backup-repository.js';
import { parseWalFileName } from '../backup/pg/wal-file-name.js';
import { WalPrefetchSpool } from '../backup/pg/wal-prefetch-spool.js';
import { systemClock } from '../infra/clock.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import { boundedInteger, nonEmpty, OPTION_VERBS, PG_OPTIONS, type PgCommandIo, repositoryFrom } from './pg-options.js';

/**
 * `holdfast pg wal-fetch` — PostgreSQL's restore_command, started once per WAL file recovery
 * replays. main.ts sends it here before anything else is loaded, because with
 * `--prefetch N --spool DIR` (the default restore_command `holdfast pg restore` writes) the
 * segment asked for is almost always in the spool already, fetched and verified by the
 * prefetch worker: serving it is a rename. This path loads only the option parser and the spool
 * — no S3 client, no HTTP/TLS, no zlib, no key — so a call costs about a bare node start.
 * Anything else (no spool, not a segment, not prefetched, any doubt) goes to the full command
 * (pg-command.ts → pg-archive-verbs.ts), which also reports every error.
 */
export async function runWalFetchCommand(args: readonly string[], io: PgCommandIo = processIo()): Promise<number> {
  const served = await serveFromSpool(args, io).catch(() => undefined);
  if (served !== undefined) return served;
  return (await import('./pg-command.js')).runPgCommand(['wal-fetch', ...args], io);
}

function processIo(): PgCommandIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    clock: systemClock,
    interactive: process.stderr.isTTY === true,
  };
}

/** How long a wal-fetch waits for a download the worker has under way before fetching itself. */
const WAIT_FOR_WORKER_MS = 120_000;
const WAIT_POLL_MS = 10;

/**
 * The exit code when the spool served the segment; undefined when the full command must run
 * (also for every usage mistake, which the full command reports).
 */
export async function serveFromSpool(args: readonly string[], io: PgCommandIo): Promise<number | undefined> {
  const { values, positionals } = parseArgs({ args: [...args], options: PG_OPTIONS, allowPositionals: true, strict: true });
  const [name, destination, extra] = positionals;
  if (name === undefined || destination === undefined || extra !== undefined || values.help === true) return undefined;
  for (const [option, verbs] of Object.entries(OPTION_VERBS)) {
    if (values[option as keyof typeof values] !== undefined && !verbs.includes('wal-fetch')) return undefined;
  }
  const kind = parseWalFileName(name)?.kind;
  if (values.spool === undefined || values.prefetch === undefined || (kind !== 'segment' && kind !== 'timeline-history')) return undefined;
  const count = boundedInteger('prefetch', values.prefetch, 1, 1000)!;
  const endpoint = values.endpoint ?? nonEmpty(io.env['HOLDFAST_ENDPOINT']);
  if (endpoint === undefined) return undefined;
  const repository = formatRepositoryLocation(repositoryFrom(values.repo, io.env));
  const spool = new WalPrefetchSpool(resolve(values.spool), endpoint, repository);

  const started = io.clock.nowMs();
  let size = kind === 'segment' ? await spool.take(name, resolve(destination)) : undefined;
  // The worker asked the archive a moment ago and it did not have the file: "missing", quietly.
  if (size === undefined && (await spool.isKnownAbsent(name, started))) {
    if (values.json === true) io.stdout(`${JSON.stringify({ outcome: 'missing', name, key: spool.pathOf(`${name}.absent`), durationMs: io.clock.nowMs() - started })}\n`);
    return EXIT_FAILURE;
  }
  if (kind !== 'segment') return undefined;
  // Recovery caught up with the worker: wait for its download rather than start a second one.
  while (size === undefined && io.clock.nowMs() - started < WAIT_FOR_WORKER_MS && (await spool.isDownloading(name)) && (await spool.lock.isHeld())) {
    await new Promise((done) => setTimeout(done, WAIT_POLL_MS));
    size = await spool.take(name, resolve(destination));
  }
  if (size === undefined) return undefined;
  if (!(await spool.lock.isHeld())) {
    // Loaded only here: child_process pulls in net and friends, which a served segment does not need.
    (await import('./pg-prefetch-worker-launch.js')).startPrefetchWorker({ spool, spoolRoot: resolve(values.spool), after: name, count, segmentBytes: size, repository, endpoint, parallel: values.parallel, keyFile: values['encryption-key-file'], env: io.env });
  }
  if (values.json === true) {
    io.stdout(`${JSON.stringify({ outcome: 'restored', name, key: spool.pathOf(name), size, sha256: 'verified-when-prefetched', durationMs: io.clock.nowMs() - started })}\n`);
  }
  return EXIT_OK;
}
