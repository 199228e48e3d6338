import { closeSync, fdatasync, openSync } from 'node:fs';

/** Syncs one open file's data to disk; fs.fdatasync in production, a gate in tests. */
export type FileDataSync = (fd: number) => Promise<void>;

const fdatasyncOnThreadPool: FileDataSync = (fd) =>
  new Promise((resolve, reject) => fdatasync(fd, (error) => (error === null ? resolve() : reject(error))));

/** A failed fsync: what was written since the last good one may be gone, whatever later fsyncs say. */
export class WalSyncFailedError extends Error {
  constructor(walPath: string, cause: unknown) {
    super(
      `fdatasync of ${walPath} failed (${cause instanceof Error ? cause.message : String(cause)}): writes since the last ` +
        'successful sync may not be on disk, so no further write is acknowledged. Check the disk, then restart the server.',
      { cause },
    );
    this.name = 'WalSyncFailedError';
  }
}

interface SyncWaiter {
  readonly ticket: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Makes the commits of a SQLite database in WAL mode with synchronous=NORMAL durable, on the
 * thread pool instead of inside COMMIT on the event loop.
 *
 * With synchronous=NORMAL a COMMIT writes its frames to the -wal file without fsync, and
 * checkpoints fsync the WAL before copying it into the database and the database before the WAL
 * may be reused ("WAL mode", synchronous, https://sqlite.org/pragma.html#pragma_synchronous).
 * An fdatasync of the -wal file after COMMIT returned therefore gives what synchronous=FULL
 * gives — the commit survives power loss — while the event loop keeps serving requests.
 * The file is opened once and kept: SQLite keeps the same -wal file (it rewrites it from the
 * start after a checkpoint, never replaces it) until its last connection closes.
 *
 * sync() resolves once an fdatasync that started after the call has completed. Calls made while
 * one runs share the next one: under load one fdatasync covers many commits (group commit).
 * A failed fdatasync is final (fsync(2) reports a lost write once, then forgets it): this and
 * every later sync() reject with WalSyncFailedError.
 */
export class WalFileSync {
  readonly #walPath: string;
  readonly #fd: number;
  readonly #sync: FileDataSync;
  #requested = 0;
  #waiters: SyncWaiter[] = [];
  #running: Promise<void> | undefined;
  #failure: WalSyncFailedError | undefined;
  #closed = false;

  /** `walPath` must exist: SQLite creates it when a connection first reads the database in WAL mode. */
  constructor(walPath: string, sync: FileDataSync = fdatasyncOnThreadPool) {
    this.#walPath = walPath;
    this.#fd = openSync(walPath, 'r');
    this.#sync = sync;
  }

  sync(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error(`${this.#walPath}: sync() after close()`));
    const ticket = ++this.#requested;
    const synced = new Promise<void>((resolve, reject) => this.#waiters.push({ ticket, resolve, reject }));
    this.#running ??= this.#syncWhileRequested();
    return synced;
  }

  /** Waits for the sync in progress, then closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#running;
    closeSync(this.#fd);
  }

  async #syncWhileRequested(): Promise<void> {
    // Deferred to a microtask, so that every commit of this turn that asks joins this fdatasync.
    await Promise.resolve();
    while (this.#waiters.length > 0) {
      const covered = this.#requested;
      try {
        await this.#sync(this.#fd);
      } catch (error) {
        this.#failure = new WalSyncFailedError(this.#walPath, error);
        for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#failure);
        break;
      }
      let settled = 0;
      while (settled < this.#waiters.length && this.#waiters[settled]!.ticket <= covered) settled += 1;
      for (const waiter of this.#waiters.splice(0, settled)) waiter.resolve();
    }
    this.#running = undefined;
  }
}
