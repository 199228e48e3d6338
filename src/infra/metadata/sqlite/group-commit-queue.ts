import type Database from 'better-sqlite3';

interface PendingWrite {
  readonly apply: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** How a committed batch becomes durable: `sync()` after COMMIT (see WalFileSync). */
export interface CommitSync {
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>;
}

interface DurabilityWaiter {
  readonly batch: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for a synchronous SQLite handle. Writes queued during one event-loop turn (with a
 * CommitSync: or while the previous batch is being synced) run in one transaction, each inside
 * its own savepoint so a write that throws (a failed guard, a
 * constraint) is rolled back alone and rejects alone. Every promise settles only once its batch
 * is durable: with a CommitSync, after COMMIT and the sync that follows it (synchronous=NORMAL,
 * the fdatasync on the thread pool); without one, after COMMIT (synchronous=FULL, the fsync
 * inside it). Nothing is acknowledged early.
 *
 * Why: an fsync per write would bound writes per second by the disk's sync latency. Under
 * concurrency the queue fills while one batch is being synced, so the next sync covers many
 * writes; with a CommitSync the event loop serves requests meanwhile instead of blocking in
 * COMMIT.
 *
 * Reads run on the same handle outside any batch and may see a batch that is committed but not
 * yet durable; `untilDurable()` is how a reader waits until what it read is durable too.
 */
export class GroupCommitQueue {
  readonly #db: Database.Database;
  readonly #commitSync: CommitSync | undefined;
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  readonly #rollback: Database.Statement;
  readonly #savepoint: Database.Statement;
  readonly #release: Database.Statement;
  readonly #rollbackTo: Database.Statement;
  #pending: PendingWrite[] = [];
  #scheduled = false;
  /** Batches committed, and of those the ones known durable (numbered from 1, in commit order). */
  #committedBatches = 0;
  #durableBatches = 0;
  #durabilityWaiters: DurabilityWaiter[] = [];
  #syncFailure: Error | undefined;
  /** Batches committed whose sync has not settled yet. */
  #syncing = 0;
  #idle: Promise<void> = Promise.resolve();
  #markIdle: () => void = () => undefined;

  constructor(db: Database.Database, commitSync?: CommitSync) {
    this.#db = db;
    this.#commitSync = commitSync;
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    this.#savepoint = db.prepare('SAVEPOINT write');
    this.#release = db.prepare('RELEASE write');
    this.#rollbackTo = db.prepare('ROLLBACK TO write');
  }

  run<T>(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#isIdle()) this.#idle = new Promise((done) => (this.#markIdle = done));
      this.#pending.push({ apply, resolve: resolve as (value: unknown) => void, reject });
      // While a batch is being synced, writes wait for it and then commit together: their sync
      // could not start before that one ends anyway, and one batch writes each page it touches
      // (an index leaf, the WAL's own frames) once instead of once per small batch.
      if (this.#syncing === 0) this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  /**
   * The number the batch being applied will have, for a write that wants to remember when it
   * committed (see untilDurable()). Only meaningful inside a write's `apply`.
   */
  get applyingBatch(): number {
    return this.#committedBatches + 1;
  }

  /**
   * Undefined if batch `throughBatch` (default: every batch committed so far) is durable, else a
   * promise that resolves once it is. A read calls it after reading, so that it never answers
   * with a write that could still be lost; nothing to wait for (and nothing allocated) when no
   * sync is in flight.
   */
  untilDurable(throughBatch: number = this.#committedBatches): Promise<void> | undefined {
    if (throughBatch <= this.#durableBatches) return undefined;
    if (this.#syncFailure !== undefined) return Promise.reject(this.#syncFailure);
    return new Promise((resolve, reject) => this.#durabilityWaiters.push({ batch: throughBatch, resolve, reject }));
  }

  /** Resolves once every queued write has been committed and made durable, or rejected. */
  drain(): Promise<void> {
    return this.#idle;
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = [];
    this.#scheduled = false;
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    try {
      if (this.#syncFailure !== undefined) throw this.#syncFailure;
      this.#begin.run();
      for (const write of batch) {
        this.#savepoint.run();
        try {
          const value = write.apply();
          this.#release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          this.#rollbackTo.run();
          this.#release.run();
          outcomes.push({ ok: false, value: error });
        }
      }
      this.#commit.run();
    } catch (error) {
      if (this.#db.inTransaction) this.#rollback.run();
      for (const write of batch) write.reject(error);
      this.#finishTurn();
      return;
    }
    const number = ++this.#committedBatches;
    const settle = () => {
      batch.forEach((write, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) write.resolve(outcome.value);
        else write.reject(outcome.value);
      });
    };
    if (this.#commitSync === undefined) {
      this.#markDurable(number);
      settle();
      this.#finishTurn();
      return;
    }
    this.#syncing += 1;
    this.#commitSync.sync().then(
      () => {
        this.#syncing -= 1;
        this.#markDurable(number);
        settle();
        if (this.#pending.length > 0) this.#schedule();
        this.#finishTurn();
      },
      (error: unknown) => {
        // Committed but not durable: refused, and so is every later write and untilDurable() wait.
        this.#syncing -= 1;
        this.#syncFailure ??= error instanceof Error ? error : new Error(String(error));
        for (const waiter of this.#durabilityWaiters.splice(0)) waiter.reject(error);
        for (const write of batch) write.reject(error);
        if (this.#pending.length > 0) this.#schedule();
        this.#finishTurn();
      },
    );
  }

  #markDurable(batch: number): void {
    this.#durableBatches = Math.max(this.#durableBatches, batch);
    if (this.#durabilityWaiters.length === 0) return;
    const stillWaiting: DurabilityWaiter[] = [];
    for (const waiter of this.#durabilityWaiters) {
      if (waiter.batch <= this.#durableBatches) waiter.resolve();
      else stillWaiting.push(waiter);
    }
    this.#durabilityWaiters = stillWaiting;
  }

  #isIdle(): boolean {
    return !this.#scheduled && this.#syncing === 0 && this.#pending.length === 0;
  }

  #finishTurn(): void {
    if (this.#isIdle()) this.#markIdle();
  }
}
