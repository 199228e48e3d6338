import type { Writable } from 'node:stream';
import type { AuditEntry } from '../../domain/audit/audit-entry.js';
import { auditEntryJson } from '../../domain/audit/canonical-encoding.js';

/** Where AuditLog's committed entries go for centralized logging. */
export interface AuditEntrySink {
  /** Never blocks and never throws; an entry that cannot be kept is dropped and counted. */
  write(entry: AuditEntry): void;
  /** Entries dropped because the destination was too far behind (or gone). */
  readonly droppedEntries: number;
  /** Hands everything pending to the destination and waits until it has taken it. */
  close(): Promise<void>;
}

export interface JsonLinesSinkOptions {
  /** Node id, added to every line so that centralized logs of several nodes can be told apart. */
  readonly chain?: string | undefined;
  /** Bytes kept while the stream is not taking more; beyond this, entries are dropped and counted. */
  readonly maxPendingBytes?: number | undefined;
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** The structured-log line of an entry: {"type":"audit","time":ISO,["chain":…,]…canonical members…,"hash":…}. */
export function auditLogLine(entry: AuditEntry, chain?: string): string {
  const time = Number.isFinite(entry.timeMs) ? new Date(entry.timeMs).toISOString() : null;
  const prefix = `{"type":"audit","time":${JSON.stringify(time)},${chain === undefined ? '' : `"chain":${JSON.stringify(chain)},`}`;
  return `${prefix}${auditEntryJson(entry).slice(1)}\n`;
}

/**
 * Writes each entry as one JSON line (type "audit") to a stream, e.g. stdout for the container
 * log. Lines of one event-loop turn go out in one write. The sink respects backpressure without
 * ever blocking request handling: while the stream reports it is full (write() returned false),
 * lines wait in memory up to `maxPendingBytes`; beyond that the destination is hopelessly behind
 * and entries are dropped and counted. The audit chain in the store is unaffected (it is the
 * record); a line {"type":"audit-dropped","dropped":N} tells the log reader what it missed.
 *
 * Note: on Linux, Node writes to pipes and files behind process.stdout synchronously, so a log
 * collector that stops reading a stdout pipe blocks the process whatever this sink does. Where
 * that matters, give the sink an asynchronous stream (e.g. fs.createWriteStream with fd 1).
 */
export function createJsonLinesSink(stream: Writable, options: JsonLinesSinkOptions = {}): AuditEntrySink {
  return new JsonLinesAuditSink(stream, options);
}

class JsonLinesAuditSink implements AuditEntrySink {
  readonly #stream: Writable;
  readonly #chain: string | undefined;
  readonly #maxPendingBytes: number;
  readonly #onError: (error: unknown) => void;
  #pending: string[] = [];
  #pendingBytes = 0;
  #scheduled = false;
  #blocked = false;
  #dropped = 0;
  #droppedUnreported = 0;
  #drained: Array<() => void> = [];

  constructor(stream: Writable, options: JsonLinesSinkOptions) {
    this.#stream = stream;
    this.#chain = options.chain;
    this.#maxPendingBytes = options.maxPendingBytes ?? 4 * 1024 * 1024;
    this.#onError = options.onError ?? (() => undefined);
    // An unhandled 'error' (EPIPE when the reader went away) would end the process; losing the
    // log destination must not take the vault down with it.
    stream.on('error', (error) => this.#onError(error));
  }

  get droppedEntries(): number {
    return this.#dropped;
  }

  write(entry: AuditEntry): void {
    const line = auditLogLine(entry, this.#chain);
    if (this.#stream.destroyed || this.#stream.writableEnded || this.#pendingBytes + line.length > this.#maxPendingBytes) {
      this.#dropped += 1;
      this.#droppedUnreported += 1;
      return;
    }
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (!this.#scheduled && !this.#blocked) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  async close(): Promise<void> {
    this.#drain();
    if (!this.#blocked) return;
    await new Promise<void>((resolve) => this.#drained.push(resolve));
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#blocked || this.#pending.length === 0) return;
    if (this.#stream.destroyed || this.#stream.writableEnded) {
      this.#dropped += this.#pending.length;
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    let chunk = this.#pending.join('');
    if (this.#droppedUnreported > 0) {
      chunk = `{"type":"audit-dropped","dropped":${this.#droppedUnreported}}\n${chunk}`;
      this.#droppedUnreported = 0;
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#stream.write(chunk)) return;
    this.#blocked = true;
    const unblock = () => {
      this.#stream.off('drain', unblock);
      this.#stream.off('close', unblock);
      this.#blocked = false;
      this.#drain();
      if (!this.#blocked) for (const resolve of this.#drained.splice(0)) resolve();
    };
    this.#stream.on('drain', unblock);
    this.#stream.on('close', unblock);
  }
}
