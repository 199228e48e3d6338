import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { systemClock, type Clock } from '../../infra/clock.js';
import { syncDirectory } from '../../infra/fs/sync-directory.js';
import { writeFileAtomically } from '../../infra/fs/write-file-atomically.js';
import { SpoolWorkerLock } from './spool-worker-lock.js';
import type { WalFetcher } from './wal-fetcher.js';
import { parseWalFileName } from './wal-file-name.js';
import { walSegmentName, walSegmentNumber } from './wal-position.js';

/**
 * Prefetch for `restore_command` (`wal-fetch --prefetch N --spool DIR`), as pgBackRest's
 * archive-get queue: recovery asks for one segment at a time and waits for each, so a restore
 * from a remote archive is bound by round trips. After serving a segment, wal-fetch starts a
 * background worker that downloads the next N segments of the same timeline into the spool
 * (each verified and written atomically by `WalFetcher`); the next wal-fetch finds its segment
 * there and only moves it into place.
 *
 *   DIR/archive-get/REPO/NAME          a verified segment, ready to be handed over
 *   DIR/archive-get/REPO/worker.lock   the running worker
 *
 * REPO is a digest of endpoint and repository: a spool reused for another archive never hands
 * over another archive's segment (the same name there would be different bytes). Segments older
 * than the one asked for are removed — recovery moves forward only.
 */

export class WalPrefetchSpool {
  readonly directory: string;
  readonly lock: SpoolWorkerLock;

  constructor(spoolDirectory: string, endpoint: string, repository: string) {
    const repoKey = createHash('sha256').update(`${endpoint}\n${repository}`).digest('hex').slice(0, 16);
    this.directory = join(spoolDirectory, 'archive-get', repoKey);
    this.lock = new SpoolWorkerLock(join(this.directory, 'worker.lock'));
  }

  async ensure(): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
  }

  pathOf(name: string): string {
    return join(this.directory, name);
  }

  /**
   * Moves a prefetched `name` to `destination`; the size of what was handed over, or undefined
   * when the spool does not have it. A rename where possible; across file systems a copy through
   * a temporary file (fsync, rename), then the spool copy is removed.
   */
  async take(name: string, destination: string): Promise<number | undefined> {
    const source = this.pathOf(name);
    let size: number;
    try {
      size = (await stat(source)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      await rename(source, destination);
      await syncDirectory(dirname(destination));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await writeFileAtomically(destination, (out) => pipeline(createReadStream(source), out));
      await unlink(source);
    }
    return size;
  }

  /** Removes prefetched segments before `name` (any timeline): recovery will not ask for them. */
  async removeOlderThan(name: string, segmentBytes: number): Promise<void> {
    const current = walSegmentNumber(name, segmentBytes);
    for (const entry of await readdir(this.directory).catch(() => [] as string[])) {
      if (parseWalFileName(entry)?.kind === 'segment' && walSegmentNumber(entry, segmentBytes) < current) await unlink(this.pathOf(entry)).catch(() => undefined);
      // Temporary files of a worker killed mid-download.
      if (entry.endsWith('.tmp')) await unlink(this.pathOf(entry)).catch(() => undefined);
    }
  }
}

export interface WalPrefetchWorkerOptions {
  readonly fetcher: WalFetcher;
  readonly spool: WalPrefetchSpool;
  /** The segment just served: the worker fetches the `count` after it. */
  readonly after: string;
  readonly count: number;
  readonly segmentBytes: number;
  /** Downloads at once (default 4). */
  readonly parallel?: number;
  readonly log: (line: string) => void;
  readonly clock?: Clock;
}

export interface WalPrefetchSummary {
  readonly fetched: number;
  /** The first segment the archive does not hold (yet): where prefetching stopped. */
  readonly stoppedAt: string | undefined;
}

export async function runWalPrefetchWorker(options: WalPrefetchWorkerOptions): Promise<WalPrefetchSummary> {
  const clock = options.clock ?? systemClock;
  const { spool } = options;
  await spool.ensure();
  if (!(await spool.lock.tryLock(process.pid))) return { fetched: 0, stoppedAt: undefined };
  try {
    await spool.removeOlderThan(options.after, options.segmentBytes);
    const timeline = parseInt(options.after.slice(0, 8), 16);
    const first = walSegmentNumber(options.after, options.segmentBytes) + 1n;
    const present = new Set(await readdir(spool.directory));
    const names: string[] = [];
    for (let i = 0n; i < BigInt(options.count); i++) names.push(walSegmentName(timeline, first + i, options.segmentBytes));
    let fetched = 0;
    const stop: { at: string | undefined } = { at: undefined };
    let next = 0;
    const worker = async () => {
      while (next < names.length && stop.at === undefined) {
        const name = names[next++]!;
        if (present.has(name)) continue;
        const started = clock.nowMs();
        const result = await options.fetcher.fetch(name, spool.pathOf(name));
        if (result.outcome === 'missing') {
          stop.at = firstOf(stop.at, name);
          return;
        }
        fetched += 1;
        options.log(`${new Date(clock.nowMs()).toISOString()} prefetched ${name} (${result.size} bytes, ${clock.nowMs() - started} ms)`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 4) }, worker));
    // Past the first missing segment nothing is usable: a later one fetched in parallel goes.
    const stoppedAt = stop.at;
    if (stoppedAt !== undefined) {
      for (const name of names) if (name > stoppedAt) await unlink(spool.pathOf(name)).catch(() => undefined);
    }
    return { fetched, stoppedAt };
  } finally {
    await spool.lock.unlock();
  }
}

/** The earlier (in WAL order) of two segment names; `a` may be unset. */
function firstOf(a: string | undefined, b: string): string {
  return a === undefined || b < a ? b : a;
}
