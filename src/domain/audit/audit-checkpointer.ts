import type { Clock } from '../../infra/clock.js';
import { type AuditCheckpoint, type CheckpointSigner, type CheckpointSink, signCheckpoint } from './audit-checkpoint.js';
import type { AuditHead } from './audit-entry.js';
import type { AuditStore } from './audit-store.js';

/** What the checkpointer needs of the running log (AuditLog provides it). */
export interface CheckpointedLog {
  readonly chain: string;
  flush(): Promise<void>;
  committedHead(): AuditHead | undefined;
}

export interface AuditCheckpointerOptions {
  readonly log: CheckpointedLog;
  /** The log's store, read back to confirm that it still holds what the log committed. */
  readonly store: AuditStore;
  readonly signer: CheckpointSigner;
  readonly sink: CheckpointSink;
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly onError?: ((error: unknown) => void) | undefined;
  readonly onCheckpoint?: ((checkpoint: AuditCheckpoint) => void) | undefined;
}

/**
 * Writes a signed checkpoint of the chain head every `intervalMs` and on close, skipping when
 * the head has not moved since the last checkpoint (also across restarts: start() reads the
 * latest one back).
 *
 * What gets signed is the head this process committed, not merely what the store says: if the
 * store's head differs (someone changed the database under the running server), nothing is
 * signed and onError hears why, so a tampered history is never blessed by a checkpoint.
 */
export class AuditCheckpointer {
  readonly #options: AuditCheckpointerOptions;
  readonly #onError: (error: unknown) => void;
  #last: AuditHead | undefined;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: AuditCheckpointerOptions) {
    if (!(options.intervalMs > 0)) throw new Error('audit checkpoint interval must be positive');
    this.#options = options;
    this.#onError = options.onError ?? (() => undefined);
  }

  /**
   * Reads the latest checkpoint of this chain and starts the periodic timer. If the store no
   * longer holds the entry that checkpoint covers, onError hears of it (a quick tamper check at
   * start-up; `verifyAuditLog` does the full one).
   */
  async start(): Promise<void> {
    const { log, store } = this.#options;
    for (const checkpoint of await this.#options.sink.list()) {
      if (checkpoint.chain === log.chain && checkpoint.seq > (this.#last?.seq ?? 0)) this.#last = { seq: checkpoint.seq, hash: checkpoint.hash };
    }
    if (this.#last !== undefined) {
      const [entry] = await store.read(this.#last.seq, 1);
      if (entry?.seq !== this.#last.seq || entry.hash !== this.#last.hash) {
        this.#onError(
          new Error(
            `audit chain ${log.chain}: the latest checkpoint covers entry ${this.#last.seq}, which the store no longer holds as checkpointed; ` +
              'the audit database was changed outside the server: run `holdfast audit verify`.',
          ),
        );
      }
    }
    this.#timer = setInterval(() => {
      this.checkpoint().catch(this.#onError);
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  /** The head of the last checkpoint written or found at start. */
  get lastCheckpointed(): AuditHead | undefined {
    return this.#last;
  }

  /**
   * Flushes the log and writes a checkpoint of its committed head; resolves with it, or with
   * undefined when the head has not moved. Calls are serialized.
   */
  checkpoint(): Promise<AuditCheckpoint | undefined> {
    const next = this.#queue.then(() => this.#checkpointNow());
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Stops the timer and writes a last checkpoint. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.checkpoint();
  }

  async #checkpointNow(): Promise<AuditCheckpoint | undefined> {
    const { log, store, signer, sink, clock } = this.#options;
    await log.flush();
    const head = log.committedHead();
    if (head === undefined) return undefined;
    if (this.#last !== undefined && this.#last.seq === head.seq && this.#last.hash === head.hash) return undefined;
    const stored = await store.head();
    if (stored === undefined || stored.seq !== head.seq || stored.hash !== head.hash) {
      throw new Error(
        `audit chain ${log.chain}: the store's head (entry ${stored?.seq ?? 0}) is not what this server committed (entry ${head.seq}); ` +
          'no checkpoint was written. The audit database was changed outside the server: run `holdfast audit verify`.',
      );
    }
    const checkpoint = signCheckpoint(signer, { chain: log.chain, seq: head.seq, hash: head.hash, timeMs: clock.nowMs() });
    await sink.write(checkpoint);
    this.#last = head;
    this.#options.onCheckpoint?.(checkpoint);
    return checkpoint;
  }
}
