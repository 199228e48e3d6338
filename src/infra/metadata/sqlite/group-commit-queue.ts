import type Database from 'better-sqlite3';

interface PendingWrite {
  readonly apply: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for a synchronous SQLite handle. Writes queued during one event-loop turn run in
 * one transaction, each inside its own savepoint so a write that throws (a failed guard, a
 * constraint) is rolled back alone and rejects alone. Every promise settles only after COMMIT
 * returned, i.e. after the WAL was fsync'd (synchronous=FULL): nothing is acknowledged early.
 *
 * Why: each COMMIT costs an fsync that blocks the event loop; under concurrency the queue
 * fills while one commit runs, so the next commit covers many writes for the price of one.
 */
export class GroupCommitQueue {
  readonly #db: Database.Database;
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  readonly #rollback: Database.Statement;
  readonly #savepoint: Database.Statement;
  readonly #release: Database.Statement;
  readonly #rollbackTo: Database.Statement;
  #pending: PendingWrite[] = [];
  #scheduled = false;
  #idle: Promise<void> = Promise.resolve();
  #markIdle: () => void = () => undefined;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    this.#savepoint = db.prepare('SAVEPOINT write');
    this.#release = db.prepare('RELEASE write');
    this.#rollbackTo = db.prepare('ROLLBACK TO write');
  }

  run<T>(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ apply, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#idle = new Promise((done) => (this.#markIdle = done));
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Resolves once every queued write has been committed or rejected. */
  drain(): Promise<void> {
    return this.#idle;
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = [];
    this.#scheduled = false;
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    try {
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
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.value);
    });
    this.#finishTurn();
  }

  #finishTurn(): void {
    if (!this.#scheduled) this.#markIdle();
  }
}
