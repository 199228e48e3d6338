import type { Clock } from '../../infra/clock.js';
import { walPrefix } from './wal-archive-layout.js';
import { parseWalFileName } from './wal-file-name.js';

/**
 * RPO visibility for PostgreSQL archives kept in this vault: for each watched repository, when
 * the newest WAL segment arrived, as a metric, and an alert when that is older than the bound —
 * archiving has stopped or fallen behind, and every minute more is data a restore cannot bring
 * back. A segment reaches the archive within `archive_timeout` of its first write even on an
 * idle cluster, so the default bound is twice the cluster's archive_timeout.
 *
 * The monitor reads the vault's own listing: the first check lists the repository's `wal/`
 * once; later checks list only keys after the newest one seen (keys sort in WAL order, and a new
 * timeline's folder sorts after the old one), so a check costs what arrived since the last one.
 */

export interface WalArchiveWatch {
  readonly bucket: string;
  /** The repository prefix, as in `--repo s3://BUCKET/PREFIX`. */
  readonly prefix: string;
  readonly maxArchiveAgeSeconds: number;
}

export class WalArchiveWatchConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalArchiveWatchConfigError';
  }
}

/**
 * `pgArchiveWatches` from the server configuration: a list of
 * `{ "bucket": "pg", "prefix": "main", "archiveTimeoutSeconds": 60 }` (bound = 2 × archive_timeout)
 * or with `"maxArchiveAgeSeconds"` given directly.
 */
export function parseWalArchiveWatches(value: unknown): readonly WalArchiveWatch[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new WalArchiveWatchConfigError('pgArchiveWatches is not a list; give [{"bucket": "…", "prefix": "…", "archiveTimeoutSeconds": 60}].');
  const seen = new Set<string>();
  return value.map((entry: unknown, index) => {
    const where = `pgArchiveWatches[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new WalArchiveWatchConfigError(`${where} is not an object.`);
    const o = entry as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!['bucket', 'prefix', 'archiveTimeoutSeconds', 'maxArchiveAgeSeconds'].includes(key)) throw new WalArchiveWatchConfigError(`${where} has an unknown field "${key}"; the fields are bucket, prefix, archiveTimeoutSeconds, maxArchiveAgeSeconds.`);
    }
    if (typeof o['bucket'] !== 'string' || o['bucket'] === '') throw new WalArchiveWatchConfigError(`${where}.bucket must name the bucket of the repository.`);
    const prefix = o['prefix'] ?? '';
    if (typeof prefix !== 'string') throw new WalArchiveWatchConfigError(`${where}.prefix must be a string (the PREFIX of s3://BUCKET/PREFIX).`);
    const seconds = (field: string): number | undefined => {
      const v = o[field];
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 7 * 86_400) throw new WalArchiveWatchConfigError(`${where}.${field} must be a whole number of seconds from 1 to 604800.`);
      return v;
    };
    const timeout = seconds('archiveTimeoutSeconds');
    const max = seconds('maxArchiveAgeSeconds');
    if (timeout === undefined && max === undefined) {
      throw new WalArchiveWatchConfigError(`${where} needs archiveTimeoutSeconds (the cluster's archive_timeout; the bound is twice it) or maxArchiveAgeSeconds.`);
    }
    const watch = { bucket: o['bucket'], prefix: prefix.replace(/^\/+|\/+$/g, ''), maxArchiveAgeSeconds: max ?? 2 * timeout! };
    const id = `${watch.bucket}/${watch.prefix}`;
    if (seen.has(id)) throw new WalArchiveWatchConfigError(`${where} watches s3://${id} a second time.`);
    seen.add(id);
    return Object.freeze(watch);
  });
}

/** What the monitor needs from the store: keys after a point, in order, with their times. */
export interface ArchivedKeyLister {
  listKeys(bucket: string, prefix: string, after: string | undefined): AsyncIterable<{ readonly key: string; readonly lastModifiedMs: number }>;
}

export interface WalArchiveStatus {
  readonly watch: WalArchiveWatch;
  readonly lastSegment: string | undefined;
  readonly lastArchivedMs: number | undefined;
  /** Seconds since the newest segment arrived, or since watching began when none has. */
  readonly ageSeconds: number;
  readonly stale: boolean;
  /** Why the last check could not list the repository (e.g. the bucket does not exist). */
  readonly checkError: string | undefined;
}

export interface WalArchiveMonitorEvents {
  stale(status: WalArchiveStatus): void;
  resumed(status: WalArchiveStatus, staleForSeconds: number): void;
}

interface WatchState {
  lastKey: string | undefined;
  lastSegment: string | undefined;
  lastArchivedMs: number | undefined;
  staleSinceMs: number | undefined;
  checkError: string | undefined;
}

export class WalArchiveMonitor {
  readonly #state = new Map<WalArchiveWatch, WatchState>();
  readonly #startedMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    readonly watches: readonly WalArchiveWatch[],
    readonly lister: ArchivedKeyLister,
    readonly clock: Clock,
    readonly events: WalArchiveMonitorEvents,
  ) {
    this.#startedMs = clock.nowMs();
    for (const watch of watches) this.#state.set(watch, { lastKey: undefined, lastSegment: undefined, lastArchivedMs: undefined, staleSinceMs: undefined, checkError: undefined });
  }

  /** Checks every watch now; resolves when done. Concurrent calls share one pass. */
  check(): Promise<void> {
    this.#running ??= this.#checkAll().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Checks every `intervalMs` until stop(); the first check right away. */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    const tick = () => {
      this.check().then(
        () => undefined,
        (error: unknown) => onError(error),
      );
    };
    tick();
    this.#timer = setInterval(tick, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  statuses(): WalArchiveStatus[] {
    return this.watches.map((watch) => this.#status(watch, this.#state.get(watch)!));
  }

  async #checkAll(): Promise<void> {
    for (const watch of this.watches) {
      const state = this.#state.get(watch)!;
      try {
        const folder = walPrefix(watch.prefix);
        for await (const object of this.lister.listKeys(watch.bucket, folder, state.lastKey)) {
          state.lastKey = object.key;
          const name = object.key.slice(object.key.lastIndexOf('/') + 1);
          if (parseWalFileName(name)?.kind !== 'segment') continue;
          // The newest arrival, not the highest name: after a restore the old timeline's archive
          // may still be written (a second primary) — either way WAL is arriving.
          if (state.lastArchivedMs === undefined || object.lastModifiedMs >= state.lastArchivedMs) {
            state.lastArchivedMs = object.lastModifiedMs;
            state.lastSegment = name;
          }
        }
        state.checkError = undefined;
      } catch (error) {
        state.checkError = error instanceof Error ? error.message : String(error);
      }
      const status = this.#status(watch, state);
      if (status.stale && state.staleSinceMs === undefined) {
        state.staleSinceMs = this.clock.nowMs();
        this.events.stale(status);
      } else if (!status.stale && state.staleSinceMs !== undefined) {
        const staleForSeconds = Math.round((this.clock.nowMs() - state.staleSinceMs) / 1000);
        state.staleSinceMs = undefined;
        this.events.resumed(status, staleForSeconds);
      }
    }
  }

  #status(watch: WalArchiveWatch, state: WatchState): WalArchiveStatus {
    const since = state.lastArchivedMs ?? this.#startedMs;
    const ageSeconds = Math.max(0, (this.clock.nowMs() - since) / 1000);
    return Object.freeze({
      watch,
      lastSegment: state.lastSegment,
      lastArchivedMs: state.lastArchivedMs,
      ageSeconds,
      stale: ageSeconds > watch.maxArchiveAgeSeconds,
      checkError: state.checkError,
    });
  }
}
