import { watch, type FSWatcher } from 'node:fs';
import { systemClock, type Clock } from '../../infra/clock.js';
import type { WalFetcher } from './wal-fetcher.js';
import { parseWalFileName } from './wal-file-name.js';
import { timelineHex, walSegmentName, walSegmentNumber } from './wal-position.js';
import type { WalPrefetchSpool } from './wal-prefetch-spool.js';

export { WalPrefetchSpool } from './wal-prefetch-spool.js';

/**
 * Prefetch for `restore_command` (`wal-fetch --prefetch N --spool DIR`), as pgBackRest's
 * asynchronous archive-get: recovery asks for one segment at a time and waits for each, so a
 * restore from a remote archive is bound by round trips and by the download, decompression and
 * checks of each segment. The first wal-fetch starts this worker, which then stays: it keeps the
 * N segments after the one recovery took last in the spool (each verified and written atomically
 * by `WalFetcher`, nearest first, `parallel` at a time), and every later wal-fetch only moves its
 * segment from there (cli/pg-wal-fetch-command.ts: no S3 client is loaded for that).
 *
 * Where recovery is: the newest segment this worker stored that is gone from the spool (taken),
 * or the `position` a wal-fetch recorded when the spool could not serve it (a timeline switch,
 * recovery overtaking the worker). Segments recovery will not ask for — older, or on another
 * timeline — are removed. The worker stops at the first segment the archive does not hold (yet;
 * it asks again every second), and keeps that answer, and whether this and the next timeline's
 * history files exist, in the spool as `NAME.absent`, so a wal-fetch for them answers "missing" without
 * a request of its own (ABSENT_FRESH_MS in wal-prefetch-spool.ts). It exits after `idleMs` without progress — recovery
 * has ended or paused — removing what nobody took. A wal-fetch that finds no worker starts one.
 */

export interface WalPrefetchWorkerOptions {
  readonly fetcher: WalFetcher;
  readonly spool: WalPrefetchSpool;
  /** The segment just served: the worker keeps the `count` after it. */
  readonly after: string;
  readonly count: number;
  readonly segmentBytes: number;
  /** Downloads at once (default 2: recovery's replay needs a core too). */
  readonly parallel?: number;
  /** Exit after this long without recovery taking a segment. Default 20 s. */
  readonly idleMs?: number;
  readonly log: (line: string) => void;
  readonly clock?: Clock;
}

export interface WalPrefetchSummary {
  readonly fetched: number;
  /** Segments fetched that recovery took from the spool. */
  readonly taken: number;
  /** The first segment the archive did not hold when last asked: where prefetching stopped. */
  readonly stoppedAt: string | undefined;
}

export const DEFAULT_PREFETCH_IDLE_MS = 20_000;
/** How often the spool is looked at when no file-system event came (fs.watch can miss some). */
const POLL_MS = 250;
/** How often a file found missing is asked for again. */
const ABSENT_RECHECK_MS = 1_000;

export async function runWalPrefetchWorker(options: WalPrefetchWorkerOptions): Promise<WalPrefetchSummary> {
  const clock = options.clock ?? systemClock;
  const { spool, segmentBytes } = options;
  const idleMs = options.idleMs ?? DEFAULT_PREFETCH_IDLE_MS;
  const parallel = Math.max(1, options.parallel ?? 2);
  await spool.ensure();
  if (!(await spool.lock.tryLock(process.pid))) return { fetched: 0, taken: 0, stoppedAt: undefined };

  const order = (name: string) => walSegmentNumber(name, segmentBytes);
  let position = options.after;
  let lastProgressMs = clock.nowMs();
  let stoppedAt: string | undefined;
  let fetched = 0;
  let taken = 0;
  let failure: unknown;
  /** Segments this worker stored that are still in the spool. */
  const stored = new Set<string>();
  const inFlight = new Map<string, Promise<void>>();
  let stoppedCheckedMs = 0;
  let historyProbe: { readonly done: Promise<void> } | undefined;
  let historyCheckedMs = 0;
  const wake = new Wake(spool.directory);
  const stamp = () => new Date(clock.nowMs()).toISOString();

  const moveTo = (name: string, why: string) => {
    position = name;
    stoppedAt = undefined; // the end of the archive may have moved on too: ask again
    lastProgressMs = clock.nowMs();
    if (why !== 'taken') options.log(`${stamp()} recovery at ${name} (${why})`);
  };

  try {
    // Temporary files of a worker killed mid-download, and a position it never acted on.
    for (const entry of await spool.entries()) if (entry.endsWith('.tmp')) await spool.remove(entry);
    let lastHint = await spool.readPosition();
    while (failure === undefined) {
      const entries = await spool.entries();
      if (entries.length === 0) break; // the spool was removed under us: nothing to serve
      const present = new Set(entries);
      for (const name of [...stored]) {
        if (present.has(name)) continue;
        stored.delete(name);
        taken += 1;
        if (name.slice(0, 8) === position.slice(0, 8) && order(name) > order(position)) moveTo(name, 'taken');
      }
      // Only a new hint counts: the file stays after it was read.
      const hint = await spool.readPosition();
      if (hint !== undefined && hint !== lastHint) {
        lastHint = hint;
        if (hint !== position) moveTo(hint, 'not in the spool when asked for');
      }

      const timeline = parseInt(position.slice(0, 8), 16);
      const wanted: string[] = [];
      for (let i = 1n; i <= BigInt(options.count); i++) wanted.push(walSegmentName(timeline, order(position) + i, segmentBytes));
      const wantedSet = new Set(wanted);
      for (const entry of entries) {
        if (parseWalFileName(entry)?.kind !== 'segment' || inFlight.has(entry)) continue;
        // A complete file (final names appear only by rename), maybe left by an earlier worker.
        if (wantedSet.has(entry)) stored.add(entry);
        else {
          // Older than recovery, on another timeline, or beyond the window after a switch.
          stored.delete(entry);
          present.delete(entry);
          await spool.remove(entry);
        }
      }

      // History files PostgreSQL asks for when recovery starts and ends: the next timeline's (to
      // find the newest timeline, and to choose the new one at promotion) and this timeline's
      // (copied into the new timeline's history at promotion; asked for on timeline 1 too).
      if (historyProbe === undefined && clock.nowMs() - historyCheckedMs >= ABSENT_RECHECK_MS) {
        const histories = [timeline + 1, timeline].map((t) => `${timelineHex(t)}.history`);
        const done = Promise.all(
          histories.map((history) =>
            options.fetcher.fetch(history, spool.pathOf(`probe-${history}`)).then(
              async (result) => {
                if (result.outcome === 'missing') await spool.markAbsent(history);
                else await Promise.all([spool.clearAbsent(history), spool.remove(`probe-${history}`)]);
              },
              () => spool.clearAbsent(history), // unsure: let wal-fetch ask the archive itself
            ),
          ),
        );
        historyProbe = {
          done: done.then(() => {
            historyProbe = undefined;
            historyCheckedMs = clock.nowMs();
          }),
        };
      }

      for (const name of wanted) {
        if (inFlight.size >= parallel) break;
        // The end of the archive: asked again once a second, nothing fetched past it.
        if (stoppedAt !== undefined && (order(name) > order(stoppedAt) || (name === stoppedAt && clock.nowMs() - stoppedCheckedMs < ABSENT_RECHECK_MS))) break;
        if (present.has(name) || inFlight.has(name)) continue;
        const started = clock.nowMs();
        const download = options.fetcher.fetch(name, spool.pathOf(name)).then(
          (result) => {
            inFlight.delete(name);
            if (result.outcome === 'missing') {
              if (stoppedAt === undefined || order(name) <= order(stoppedAt)) {
                stoppedAt = name;
                stoppedCheckedMs = clock.nowMs();
              }
              void spool.markAbsent(name);
              return;
            }
            if (name === stoppedAt) stoppedAt = undefined;
            void spool.clearAbsent(name);
            fetched += 1;
            // Fetched past the end of the archive (in parallel) or past a timeline switch: not usable.
            if ((stoppedAt !== undefined && order(name) > order(stoppedAt)) || name.slice(0, 8) !== position.slice(0, 8)) {
              void spool.remove(name);
              return;
            }
            stored.add(name);
            options.log(`${stamp()} prefetched ${name} (${result.size} bytes, ${clock.nowMs() - started} ms)`);
          },
          (error: unknown) => {
            inFlight.delete(name);
            failure ??= error;
          },
        );
        inFlight.set(name, download);
      }
      if (inFlight.size === 0 && clock.nowMs() - lastProgressMs >= idleMs) break;
      await Promise.race([wake.next(POLL_MS), ...inFlight.values()]);
    }
    if (failure !== undefined) options.log(`${stamp()} stopped: ${describe(failure)}`);
    else options.log(`${stamp()} idle for ${Math.round(idleMs / 1000)} s after ${position}: recovery has ended or paused; removing what was not taken`);
    return { fetched, taken, stoppedAt };
  } finally {
    wake.close();
    await Promise.allSettled([...inFlight.values(), historyProbe?.done]);
    // Nobody is taking segments: the next wal-fetch that misses starts a new worker.
    for (const entry of await spool.entries().catch(() => [])) {
      if (parseWalFileName(entry)?.kind === 'segment' || entry === 'position' || entry.endsWith('.tmp') || entry.endsWith('.absent') || entry.startsWith('probe-')) await spool.remove(entry);
    }
    await spool.lock.unlock();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves on a change in the spool directory, or after a timeout (fs.watch is a hint only). */
class Wake {
  #watcher: FSWatcher | undefined;
  #waiters: (() => void)[] = [];

  constructor(directory: string) {
    try {
      // 'rename' is a file appearing or going; 'change' (a download's every write) is not news.
      this.#watcher = watch(directory, { persistent: false }, (event) => {
        if (event === 'rename') this.#fire();
      });
      this.#watcher.on('error', () => this.close());
    } catch {
      this.#watcher = undefined;
    }
  }

  next(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#fire(), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#fire();
  }

  #fire(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }
}
