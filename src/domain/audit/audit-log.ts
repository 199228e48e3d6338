import type { Clock } from '../../infra/clock.js';
import {
  AUDIT_GAP_ACTION,
  type AuditEntry,
  type AuditFields,
  type AuditHead,
  GENESIS_HASH,
  boundAuditFields,
} from './audit-entry.js';
import type { AuditStore } from './audit-store.js';
import { sealAuditEntry } from './canonical-encoding.js';

export interface AuditLogOptions {
  readonly store: AuditStore;
  readonly clock: Clock;
  /** Called once per entry after it is committed (the structured log). Must not throw; if it does, onError hears of it. */
  readonly sink?: ((entry: AuditEntry) => void) | undefined;
  /** Failed appends (they are retried) and sink failures. */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** How long an entry may wait for company before its batch is written. */
  readonly flushIntervalMs?: number | undefined;
  /** A batch is written as soon as this many entries wait. */
  readonly flushAtEntries?: number | undefined;
  /** Entries per transaction at most, so that one commit never blocks the event loop for long. */
  readonly maxEntriesPerTransaction?: number | undefined;
  /** Entries kept while the store fails; beyond this, new entries are dropped and counted. */
  readonly maxBufferedEntries?: number | undefined;
  /** Retries after a failed append back off up to this delay. */
  readonly maxRetryDelayMs?: number | undefined;
}

interface DurableWaiter {
  readonly entry: AuditEntry;
  readonly resolve: (entry: AuditEntry) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The append side of the audit chain.
 *
 * record() is synchronous and cheap: it bounds the fields, gives the entry the next seq, hashes
 * it onto the chain in memory (so chain order is call order) and buffers it. Buffered entries are
 * appended in one transaction per batch, after `flushIntervalMs` or once `flushAtEntries` wait:
 * one fsync covers hundreds of requests instead of one fsync each.
 *
 * Nothing is lost silently. A failed append keeps its entries buffered, reports through onError
 * and is retried with backoff. If the buffer still fills up (`maxBufferedEntries`), new entries
 * are dropped and counted (`droppedEntries`), and as soon as there is room again the log records
 * a gap marker entry (action AUDIT_GAP_ACTION, details.dropped = how many): the chain itself
 * never skips a seq, and verification reports the marker.
 *
 * This process must be the chain's only writer (the data-directory lock ensures it).
 */
export class AuditLog {
  readonly #store: AuditStore;
  readonly #clock: Clock;
  readonly #sink: ((entry: AuditEntry) => void) | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #flushIntervalMs: number;
  readonly #flushAtEntries: number;
  readonly #maxPerTransaction: number;
  readonly #maxBuffered: number;
  readonly #maxRetryDelayMs: number;

  #nextSeq: number;
  #lastHash: string;
  #committed: AuditHead | undefined;
  /** Entries recorded and not yet handed to the store. */
  #pending: AuditEntry[] = [];
  /** Entries handed to the store, not yet committed. */
  #writing = 0;
  #waiters: DurableWaiter[] = [];
  #active: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryDelayMs = 0;
  /** Set while a failed append waits for its retry: new entries must not cut the backoff short. */
  #backingOff = false;
  #closed = false;
  #droppedTotal = 0;
  #droppedUnmarked = 0;
  #firstDropMs = 0;
  #lastDropMs = 0;

  private constructor(options: AuditLogOptions, head: AuditHead | undefined) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#sink = options.sink;
    this.#onError = options.onError ?? (() => undefined);
    this.#flushIntervalMs = options.flushIntervalMs ?? 25;
    this.#flushAtEntries = options.flushAtEntries ?? 512;
    this.#maxPerTransaction = options.maxEntriesPerTransaction ?? 4096;
    this.#maxBuffered = options.maxBufferedEntries ?? 100_000;
    this.#maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;
    this.#nextSeq = (head?.seq ?? 0) + 1;
    this.#lastHash = head?.hash ?? GENESIS_HASH;
    this.#committed = head;
  }

  /** Continues the chain from the store's head. */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    return new AuditLog(options, await options.store.head());
  }

  get chain(): string {
    return this.#store.chain;
  }

  /** Entries dropped since start because the buffer was full. */
  get droppedEntries(): number {
    return this.#droppedTotal;
  }

  /** Entries recorded but not yet committed. */
  get bufferedEntries(): number {
    return this.#pending.length + this.#writing;
  }

  /** The last entry recorded (committed or not). */
  recordedHead(): AuditHead | undefined {
    return this.#nextSeq === 1 ? undefined : { seq: this.#nextSeq - 1, hash: this.#lastHash };
  }

  /** The last entry this log knows to be committed. */
  committedHead(): AuditHead | undefined {
    return this.#committed;
  }

  /**
   * Records an entry; it is committed within about flushIntervalMs. Returns the entry, or
   * undefined if it had to be dropped (buffer full; counted, and marked in the chain later).
   * Throws after close().
   */
  record(fields: AuditFields): AuditEntry | undefined {
    if (this.#closed) throw new Error('the audit log is closed');
    if (this.bufferedEntries >= this.#maxBuffered) {
      this.#drop();
      return undefined;
    }
    this.#markGapIfAny();
    const entry = this.#chain(fields);
    if (this.#pending.length >= this.#flushAtEntries) this.#schedule(0);
    else this.#schedule(this.#flushIntervalMs);
    return entry;
  }

  /**
   * Records an entry and resolves once it is committed (for configuration changes, which must
   * not be acknowledged before their audit entry is durable). Waits through failed appends and
   * their retries; rejects if the buffer is full or the log is closed before the entry could be
   * committed.
   */
  recordDurably(fields: AuditFields): Promise<AuditEntry> {
    if (this.#closed) return Promise.reject(new Error('the audit log is closed'));
    const entry = this.record(fields);
    if (entry === undefined) return Promise.reject(new Error('the audit log buffer is full: the entry was not recorded'));
    const committed = new Promise<AuditEntry>((resolve, reject) => this.#waiters.push({ entry, resolve, reject }));
    this.#schedule(0);
    return committed;
  }

  /** Commits everything recorded so far. Rejects if the store fails (the entries stay buffered and are retried). */
  async flush(): Promise<void> {
    const target = this.#nextSeq - 1;
    while ((this.#committed?.seq ?? 0) < target) {
      this.#cancelTimer();
      await this.#run();
    }
  }

  /**
   * Stops accepting entries and commits what is buffered. If that fails, waiting recordDurably
   * calls are rejected and the error is thrown: those entries are lost, and the caller must say
   * so. Does not close the store (others read it too).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.bufferedEntries < this.#maxBuffered) this.#markGapIfAny();
    try {
      await this.flush();
    } catch (error) {
      for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
      throw error;
    } finally {
      this.#cancelTimer();
    }
  }

  #chain(fields: AuditFields): AuditEntry {
    const entry = sealAuditEntry(boundAuditFields(fields, this.#nextSeq, fields.timeMs ?? this.#clock.nowMs(), this.#lastHash));
    this.#nextSeq += 1;
    this.#lastHash = entry.hash;
    this.#pending.push(entry);
    return entry;
  }

  #drop(): void {
    const now = this.#clock.nowMs();
    if (this.#droppedUnmarked === 0) this.#firstDropMs = now;
    this.#lastDropMs = now;
    this.#droppedUnmarked += 1;
    this.#droppedTotal += 1;
  }

  #markGapIfAny(): void {
    if (this.#droppedUnmarked === 0) return;
    this.#chain({
      kind: 'system',
      identity: 'holdfast',
      accessKeyId: '',
      action: AUDIT_GAP_ACTION,
      resource: '',
      result: 'error',
      details: { dropped: this.#droppedUnmarked, firstDroppedMs: this.#firstDropMs, lastDroppedMs: this.#lastDropMs },
    });
    this.#droppedUnmarked = 0;
  }

  #schedule(delayMs: number): void {
    if (this.#active !== undefined) return; // the running batch loop picks new entries up
    if (this.#backingOff) return; // the retry timer is set
    if (this.#timer !== undefined) {
      if (delayMs > 0) return;
      this.#cancelTimer();
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run().catch(this.#onError);
    }, delayMs);
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One batch loop at a time; concurrent callers share it. */
  #run(): Promise<void> {
    this.#active ??= this.#writeAll().finally(() => {
      this.#active = undefined;
      // Entries recorded between the loop's last check and now would otherwise wait for the next record().
      if (this.#pending.length > 0 && !this.#closed) this.#schedule(this.#flushIntervalMs);
    });
    return this.#active;
  }

  async #writeAll(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxPerTransaction);
      this.#writing = batch.length;
      try {
        await this.#store.append(batch);
      } catch (error) {
        this.#pending = batch.concat(this.#pending);
        this.#writing = 0;
        this.#retryLater();
        throw error;
      }
      this.#writing = 0;
      this.#retryDelayMs = 0;
      this.#backingOff = false;
      this.#committed = { seq: batch[batch.length - 1]!.seq, hash: batch[batch.length - 1]!.hash };
      this.#settleWaiters();
      this.#emit(batch);
      if (this.bufferedEntries < this.#maxBuffered) this.#markGapIfAny();
    }
  }

  #retryLater(): void {
    this.#retryDelayMs = Math.min(Math.max(this.#flushIntervalMs, this.#retryDelayMs * 2), this.#maxRetryDelayMs);
    if (this.#closed) return;
    this.#cancelTimer();
    this.#backingOff = true;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run().catch(this.#onError);
    }, this.#retryDelayMs);
  }

  #settleWaiters(): void {
    const committedSeq = this.#committed?.seq ?? 0;
    let settled = 0;
    while (settled < this.#waiters.length && this.#waiters[settled]!.entry.seq <= committedSeq) settled += 1;
    for (const waiter of this.#waiters.splice(0, settled)) waiter.resolve(waiter.entry);
  }

  #emit(batch: readonly AuditEntry[]): void {
    if (this.#sink === undefined) return;
    for (const entry of batch) {
      try {
        this.#sink(entry);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}
