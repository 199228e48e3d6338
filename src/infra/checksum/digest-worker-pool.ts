import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BodyDigester, BodyDigests, DigestRequest, DigestRun } from '../../domain/ports.js';
import type { DigestCommand, DigestReply } from './digest-protocol.js';

/** One batch: what a write call and one message to the digest thread carry. */
const BATCH_BYTES = 1024 * 1024;
/**
 * Batches a run may have queued on its digest thread before take() must wait: with the one the
 * caller writes and the one it fills, a run holds at most this + 3 MiB, whatever the body's size.
 */
const WINDOW = 4;
/** Free batches kept for the next runs (page faults of fresh memory cost more than the copy). */
const SPARE_BATCHES = 16;
/** Below this a body is hashed in place: the thread hand-over costs more than it overlaps. */
const MIN_BYTES = 1024 * 1024;
/** Threads in a row that died before answering anything: the pool gives up, bodies are hashed in place. */
const MAX_FAILED_STARTS = 3;

interface Batch {
  readonly memory: SharedArrayBuffer;
  readonly bytes: Buffer;
  /** The digest thread has not answered `consumed` for it yet. */
  digesting: boolean;
  /** The caller has not released it yet. */
  held: boolean;
  /** The view the caller was given (release() is called with it). */
  handed: Buffer | undefined;
}

interface DigestThread {
  readonly worker: Worker;
  readonly runs: Map<number, OffThreadRun>;
  /** It has answered at least once (it started). */
  answered: boolean;
}

/** A thread with open runs keeps the process alive (their callers wait for it); an idle one does not. */
function attach(thread: DigestThread, run: OffThreadRun): void {
  if (thread.runs.size === 0) thread.worker.ref();
  thread.runs.set(run.id, run);
}

function detach(thread: DigestThread, run: OffThreadRun): boolean {
  const removed = thread.runs.delete(run.id);
  if (removed && thread.runs.size === 0) thread.worker.unref();
  return removed;
}

/**
 * A BodyDigester on worker threads (one per core, at most 4, started when the first large body
 * comes). A run stays on one thread, which digests its batches in order; runs are spread over
 * the threads by how many each has open. A thread that dies fails its runs (their writes are
 * refused and their blobs removed); the next run starts a new one. If threads cannot start at all
 * (MAX_FAILED_STARTS in a row die before answering), minBytes becomes infinite: every body is
 * then hashed in place, as without a pool, instead of every large write failing.
 */
export class DigestWorkerPool implements BodyDigester {
  readonly #workerUrl: URL;
  readonly #size: number;
  #failedStarts = 0;
  readonly #threads: DigestThread[] = [];
  readonly #spare: Batch[] = [];
  #nextRun = 1;
  #closed = false;

  /** `workerUrl` is for tests: the digest thread's module. */
  constructor(threads = Math.min(4, availableParallelism()), workerUrl = new URL('./digest-worker.js', import.meta.url)) {
    this.#size = Math.max(1, threads);
    this.#workerUrl = workerUrl;
  }

  get minBytes(): number {
    return this.#failedStarts >= MAX_FAILED_STARTS ? Number.POSITIVE_INFINITY : MIN_BYTES;
  }

  start(request: DigestRequest): DigestRun {
    if (this.#closed) throw new Error('the digest pool is closed');
    const thread = this.#leastBusy();
    const run = new OffThreadRun(this.#nextRun++, thread, this);
    attach(thread, run);
    run.post({ op: 'open', run: run.id, sha256: request.sha256, checksum: request.checksum });
    return run;
  }

  /** Stops the threads; runs still open fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const threads = this.#threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
    for (const thread of threads) failRuns(thread, new Error('the digest pool was closed'));
  }

  /** A batch for a run: a spare one, or new shared memory. */
  batch(): Batch {
    const spare = this.#spare.pop();
    if (spare !== undefined) return spare;
    const memory = new SharedArrayBuffer(BATCH_BYTES);
    return { memory, bytes: Buffer.from(memory), digesting: false, held: false, handed: undefined };
  }

  recycle(batch: Batch): void {
    if (this.#spare.length < SPARE_BATCHES) this.#spare.push(batch);
  }

  /** An idle thread, else a new one while the pool has room, else the one with the fewest runs. */
  #leastBusy(): DigestThread {
    const leastBusy = this.#threads.reduce<DigestThread | undefined>((best, t) => (best === undefined || t.runs.size < best.runs.size ? t : best), undefined);
    if (leastBusy !== undefined && (leastBusy.runs.size === 0 || this.#threads.length >= this.#size)) return leastBusy;
    const thread = this.#spawn();
    this.#threads.push(thread);
    return thread;
  }

  #spawn(): DigestThread {
    const worker = new Worker(this.#workerUrl);
    // Idle, the pool never keeps the process alive: a server's shutdown closes it, a CLI just exits.
    worker.unref();
    const thread: DigestThread = { worker, runs: new Map(), answered: false };
    worker.on('message', (reply: DigestReply) => {
      if (!thread.answered) {
        thread.answered = true;
        this.#failedStarts = 0;
      }
      thread.runs.get(reply.run)?.answer(reply);
    });
    const lost = (error: Error) => {
      const index = this.#threads.indexOf(thread);
      if (index < 0) return;
      this.#threads.splice(index, 1);
      if (!thread.answered && !this.#closed) this.#failedStarts += 1;
      failRuns(thread, error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the digest thread exited (code ${code})`)));
    return thread;
  }
}

function failRuns(thread: DigestThread, error: Error): void {
  const runs = [...thread.runs.values()];
  thread.runs.clear();
  for (const run of runs) run.fail(error);
}

class OffThreadRun implements DigestRun {
  readonly id: number;
  readonly #thread: DigestThread;
  readonly #pool: DigestWorkerPool;
  /** The batch being filled; taken from the pool when the first byte comes. */
  #current: Batch | undefined;
  #filled = 0;
  /** Batches posted to the digest thread and not yet consumed, oldest first. */
  readonly #queued: Batch[] = [];
  #failure: Error | undefined;
  #cancelled = false;
  #waiter: { resolve(): void; reject(error: Error): void } | undefined;
  #result: { resolve(digests: BodyDigests): void; reject(error: Error): void } | undefined;
  /** Handed-out views, to find the batch release() is called with. */
  readonly #handed = new Map<Buffer, Batch>();

  constructor(id: number, thread: DigestThread, pool: DigestWorkerPool) {
    this.id = id;
    this.#thread = thread;
    this.#pool = pool;
  }

  post(command: DigestCommand): void {
    this.#thread.worker.postMessage(command);
  }

  take(chunk: Uint8Array): readonly Buffer[] {
    let full: Buffer[] | undefined;
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, BATCH_BYTES - this.#filled);
      this.#current ??= this.#pool.batch();
      // fill(), not set(): into shared memory V8's set() copies with relaxed atomics, byte by byte
      // when source and target are not equally aligned (socket chunks never are): 0.6 s per GiB
      // against 0.06 s for Node's native fill, a memcpy when the value is as long as the range.
      this.#current.bytes.fill(n === chunk.length ? chunk : chunk.subarray(offset, offset + n), this.#filled, this.#filled + n);
      this.#filled += n;
      offset += n;
      if (this.#filled === BATCH_BYTES) (full ??= []).push(this.#handOver());
    }
    return full ?? NONE;
  }

  end(): Buffer | undefined {
    return this.#filled === 0 ? undefined : this.#handOver();
  }

  release(bytes: Buffer): void {
    const batch = this.#handed.get(bytes);
    if (batch === undefined) return;
    batch.held = false;
    this.#free(batch);
  }

  ready(): Promise<void> | undefined {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#queued.length < WINDOW) return undefined;
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  digests(): Promise<BodyDigests> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#result = { resolve, reject };
      this.post({ op: 'finish', run: this.id });
    });
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    if (detach(this.#thread, this)) this.post({ op: 'cancel', run: this.id });
    // The thread may still read queued batches: they are dropped, never recycled.
    this.#queued.length = 0;
    this.#failure ??= new Error('the digest run was cancelled');
  }

  answer(reply: DigestReply): void {
    switch (reply.op) {
      case 'consumed': {
        const batch = this.#queued.shift();
        if (batch === undefined) return;
        batch.digesting = false;
        this.#free(batch);
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter?.resolve();
        return;
      }
      case 'digests':
        detach(this.#thread, this);
        this.#result?.resolve({ md5: asBuffer(reply.md5), sha256: optionalBuffer(reply.sha256), checksum: optionalBuffer(reply.checksum) });
        return;
      case 'failed':
        detach(this.#thread, this);
        this.fail(new Error(`digest thread: ${reply.message}`));
        return;
    }
  }

  fail(error: Error): void {
    this.#failure ??= error;
    this.#queued.length = 0;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#failure);
    const result = this.#result;
    this.#result = undefined;
    result?.reject(this.#failure);
  }

  #handOver(): Buffer {
    const batch = this.#current;
    if (batch === undefined) throw new Error('no batch to hand over');
    const bytes = this.#filled === BATCH_BYTES ? batch.bytes : batch.bytes.subarray(0, this.#filled);
    batch.digesting = true;
    batch.held = true;
    batch.handed = bytes;
    this.#handed.set(bytes, batch);
    this.#queued.push(batch);
    this.post({ op: 'update', run: this.id, buffer: batch.memory, length: this.#filled });
    this.#current = undefined;
    this.#filled = 0;
    return bytes;
  }

  #free(batch: Batch): void {
    if (batch.digesting || batch.held || this.#failure !== undefined) return;
    if (batch.handed !== undefined) this.#handed.delete(batch.handed);
    batch.handed = undefined;
    this.#pool.recycle(batch);
  }
}

const NONE: readonly Buffer[] = Object.freeze([]);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function optionalBuffer(bytes: Uint8Array | undefined): Buffer | undefined {
  return bytes === undefined ? undefined : asBuffer(bytes);
}
