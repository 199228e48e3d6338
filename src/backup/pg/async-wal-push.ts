import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { systemClock, type Clock } from '../../infra/clock.js';
import type { WalArchiver } from './wal-archiver.js';
import { parseWalFileName } from './wal-file-name.js';
import { sha256OfFile, type WalPushSpool } from './wal-push-spool.js';

/**
 * Asynchronous, parallel archiving, as pgBackRest's `archive-async`: PostgreSQL's archiver runs
 * `archive_command` for one file at a time and waits for it, so one slow upload holds back every
 * later segment. Here `archive_command` (`waitForAsyncPush`) only waits for a status file, and a
 * background worker (`runAsyncWalPushWorker`) pushes every file PostgreSQL has marked ready
 * (`pg_wal/archive_status/NAME.ready`) several at a time, ahead of the archiver asking.
 *
 * Nothing about durability changes: a status is `.ok` only after `WalArchiver.push` returned —
 * stored, read back, verified — and `archive_command` exits 0 only for an `.ok` whose SHA-256 is
 * that of the file PostgreSQL hands it now.
 */

export class AsyncWalPushError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AsyncWalPushError';
  }
}

export interface AsyncPushWaitOptions {
  readonly spool: WalPushSpool;
  /** Starts a worker (detached); called when none holds the lock. */
  readonly startWorker: () => void;
  readonly timeoutMs: number;
  readonly clock?: Clock;
}

export interface AsyncPushOutcome {
  readonly name: string;
  readonly sha256: string;
  readonly waitedMs: number;
  readonly workerStarted: boolean;
}

/** archive_command's side: resolves once the worker reported this file pushed; throws its error otherwise. */
export async function waitForAsyncPush(path: string, options: AsyncPushWaitOptions): Promise<AsyncPushOutcome> {
  const clock = options.clock ?? systemClock;
  const began = clock.nowMs();
  const name = basename(path);
  await options.spool.ensure();
  let sha256: string | undefined;
  let workerStarted = false;
  let lastStartMs = -Infinity;
  let pauseMs = 5;
  for (;;) {
    const status = await options.spool.status(name);
    if (status.kind === 'ok') {
      sha256 ??= await sha256OfFile(path);
      if (status.sha256 === sha256) {
        // PostgreSQL marks the file done once this command exits 0 and never asks again; the
        // status has served. (If PostgreSQL crashes first, it asks again and the worker's push
        // finds the identical copy in the archive.)
        await options.spool.clear(name, 'ok');
        return { name, sha256, waitedMs: clock.nowMs() - began, workerStarted };
      }
      // A status about other bytes under this name (another cluster's spool, an earlier life):
      // it acknowledges nothing. Drop it; the worker pushes this file, and the archive's own
      // checks decide whether it conflicts with what is stored.
      await options.spool.clear(name, 'ok');
    } else if (status.kind === 'error') {
      await options.spool.clear(name, 'error');
      throw new AsyncWalPushError(status.message);
    }
    const now = clock.nowMs();
    if (now - began > options.timeoutMs) {
      throw new AsyncWalPushError(`${name} was not archived within ${Math.round(options.timeoutMs / 1000)} s by the background worker; see ${options.spool.logPath}. PostgreSQL will call again.`);
    }
    if (now - lastStartMs > 1_000 && !(await options.spool.lock.isHeld())) {
      options.startWorker();
      workerStarted = true;
      lastStartMs = now;
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    pauseMs = Math.min(pauseMs * 2, 100);
  }
}

export interface AsyncWalPushWorkerOptions {
  readonly archiver: WalArchiver;
  readonly spool: WalPushSpool;
  /** The cluster's pg_wal directory (the one holding archive_status/). */
  readonly pgWalDirectory: string;
  /** Files pushed at once (default 4). */
  readonly parallel: number;
  /** The worker ends after this long with nothing ready (default 2 s); the next archive_command starts another. */
  readonly idleExitMs?: number;
  readonly log: (line: string) => void;
  readonly clock?: Clock;
}

export interface AsyncWalPushWorkerSummary {
  readonly pushed: number;
  readonly failed: number;
}

/**
 * The worker: holds the spool's lock, pushes every `.ready` file that has no status yet (timeline
 * history files first, then oldest first, as PostgreSQL's archiver orders them, pgarch.c), writes
 * `.ok`/`.error`, removes `.ok` files PostgreSQL is done with, and exits when idle.
 */
export async function runAsyncWalPushWorker(options: AsyncWalPushWorkerOptions): Promise<AsyncWalPushWorkerSummary> {
  const clock = options.clock ?? systemClock;
  const { spool } = options;
  await spool.ensure();
  if (!(await spool.lock.tryLock(process.pid))) return { pushed: 0, failed: 0 };
  let pushed = 0;
  let failed = 0;
  try {
    let idleSince = clock.nowMs();
    const statusDir = join(options.pgWalDirectory, 'archive_status');
    // Pushed by this worker and still marked ready: archive_command may already have taken the
    // status (and removed it) before PostgreSQL renamed .ready to .done; not pushed twice.
    const pushedHere = new Set<string>();
    for (;;) {
      const ready = new Set((await readdir(statusDir)).filter((f) => f.endsWith('.ready')).map((f) => f.slice(0, -'.ready'.length)));
      const statuses = await spool.statusNames();
      for (const done of statuses.ok) if (!ready.has(done)) await spool.clear(done, 'ok');
      for (const done of pushedHere) if (!ready.has(done)) pushedHere.delete(done);
      const pending = [...ready]
        .filter((name) => parseWalFileName(name) !== undefined && !statuses.ok.has(name) && !statuses.error.has(name) && !pushedHere.has(name))
        .sort(archiveOrder);
      if (pending.length === 0) {
        if (clock.nowMs() - idleSince > (options.idleExitMs ?? 2_000)) return { pushed, failed };
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      let next = 0;
      const worker = async () => {
        while (next < pending.length) {
          const name = pending[next++]!;
          try {
            const result = await options.archiver.push(join(options.pgWalDirectory, name));
            await spool.markOk(name, result.sha256);
            pushedHere.add(name);
            pushed += 1;
            options.log(`${new Date(clock.nowMs()).toISOString()} ${result.outcome} ${name} (${result.size} → ${result.storedSize} bytes, ${result.durationMs} ms)`);
          } catch (error) {
            failed += 1;
            const message = error instanceof Error ? error.message : String(error);
            await spool.markError(name, message);
            options.log(`${new Date(clock.nowMs()).toISOString()} FAILED ${name}: ${message}`);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, pending.length)) }, worker));
      idleSince = clock.nowMs();
    }
  } finally {
    await spool.lock.unlock();
  }
}

/** History files before everything else, then by name (which is WAL order within a timeline). */
function archiveOrder(a: string, b: string): number {
  const ah = a.endsWith('.history') ? 0 : 1;
  const bh = b.endsWith('.history') ? 0 : 1;
  if (ah !== bh) return ah - bh;
  return a < b ? -1 : a > b ? 1 : 0;
}
