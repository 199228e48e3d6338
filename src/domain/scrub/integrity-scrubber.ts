import { randomBytes } from 'node:crypto';
import type { Clock } from '../../infra/clock.js';
import type { ObjectVersionRecord, StoredData } from '../model.js';
import type { Vault } from '../vault.js';
import { ByteRateLimiter } from './byte-rate-limiter.js';
import type { ScrubCursor, ScrubFinding, ScrubPass, ScrubRecords, ScrubTrigger } from './scrub-records.js';
import { type IntegrityFinding, VersionIntegrityCheck } from './version-integrity.js';

/** Versions fetched from metadata per page of the walk; the cursor is saved after each page. */
const PAGE = 200;

export interface IntegrityScrubberOptions {
  readonly vault: Vault;
  readonly records: ScrubRecords;
  readonly clock: Clock;
  /** The throttle: average read rate of a pass. */
  readonly bytesPerSecond: number;
  /** Called once per damaged version (after a re-check that it still exists as read). */
  readonly onFinding: (finding: ScrubFinding) => void;
  /** Called after each version read back (for the metrics). */
  readonly onVersionChecked?: (size: number) => void;
  /** Called when a pass ends, whatever its outcome. */
  readonly onPassEnd?: (pass: ScrubPass) => void;
  /** Injected by tests; default a real timer and performance.now(). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly monotonicMs?: () => number;
}

class PassAborted extends Error {}

/**
 * The integrity scrub: re-reads stored versions and checks their bytes against the size, ETag
 * and checksum recorded when they were written, so silent corruption (bit rot, a file edited
 * or removed behind the vault's back) is found before a restore needs the data.
 *
 * A pass reads `fraction` of the vault's versions, continuing a rotating walk from where the
 * previous pass stopped (buckets by name, keys by UTF-8 bytes, versions newest first): with
 * fraction 1/7 and a daily pass every version is read at least once a week. Delete markers
 * have no bytes and are skipped. One pass at a time; reads are paced by a ByteRateLimiter.
 */
export class IntegrityScrubber {
  readonly #options: IntegrityScrubberOptions;
  #current: { pass: ScrubPass; done: Promise<ScrubPass>; abort: AbortController } | undefined;

  constructor(options: IntegrityScrubberOptions) {
    this.#options = options;
  }

  /** The pass in progress, if any. */
  get running(): ScrubPass | undefined {
    return this.#current === undefined ? undefined : this.#options.records.pass(this.#current.pass.id);
  }

  /**
   * Starts a pass and returns it (`running`) at once, or the pass already in progress
   * (`started: false`); `done` resolves when it ends.
   */
  start(trigger: ScrubTrigger, fraction: number): { pass: ScrubPass; started: boolean; done: Promise<ScrubPass> } {
    if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`fraction must be in (0, 1], got ${fraction}`);
    if (this.#current !== undefined) return { pass: this.running ?? this.#current.pass, started: false, done: this.#current.done };
    const { records, clock } = this.#options;
    const nowMs = clock.nowMs();
    const pass: ScrubPass = {
      id: `${new Date(nowMs).toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(3).toString('hex')}`,
      trigger,
      startedMs: nowMs,
      endedMs: undefined,
      outcome: 'running',
      fraction,
      totalVersions: 0,
      plannedVersions: 0,
      versions: 0,
      bytes: 0,
      failures: 0,
      fromPosition: undefined,
      toPosition: undefined,
      cycleCompleted: false,
      error: undefined,
    };
    records.startPass(pass);
    const abort = new AbortController();
    const done = this.#run(pass, abort.signal).finally(() => {
      this.#current = undefined;
    });
    this.#current = { pass, done, abort };
    return { pass, started: true, done };
  }

  /** Stops a pass in progress (recorded `interrupted`) and waits for it to end. */
  async close(): Promise<void> {
    const current = this.#current;
    if (current === undefined) return;
    current.abort.abort();
    await current.done.catch(() => undefined);
  }

  async #run(pass: ScrubPass, signal: AbortSignal): Promise<ScrubPass> {
    const { records, clock } = this.#options;
    const limiter = new ByteRateLimiter(this.#options.bytesPerSecond, {
      ...(this.#options.sleep === undefined ? {} : { sleep: this.#options.sleep }),
      ...(this.#options.monotonicMs === undefined ? {} : { monotonicMs: this.#options.monotonicMs }),
    });
    let versions = 0;
    let bytes = 0;
    let failures = 0;
    let cycleCompleted = false;
    const startCursor = records.cursor();
    let cursor = startCursor;
    const end = (outcome: ScrubPass['outcome'], error?: string): ScrubPass => {
      records.saveCursor(cursor);
      records.updatePass(pass.id, { outcome, endedMs: clock.nowMs(), versions, bytes, failures, cycleCompleted, toPosition: position(cursor), ...(error === undefined ? {} : { error }) });
      const ended = records.pass(pass.id)!;
      this.#options.onPassEnd?.(ended);
      return ended;
    };
    try {
      const totalVersions = await this.#countVersions(signal);
      // Rounded first: 0.3 × 10 is 3.0000000000000004 in binary floating point, not a reason to read 4.
      const plannedVersions = Math.min(totalVersions, Math.ceil(Math.round(pass.fraction * totalVersions * 1e6) / 1e6));
      records.updatePass(pass.id, { totalVersions, plannedVersions, fromPosition: position(startCursor) });
      for await (const step of this.#walk(startCursor, signal)) {
        if (step === 'end-of-vault') {
          cycleCompleted = true;
          records.markCycleCompleted(clock.nowMs());
          continue;
        }
        if (step === 'page-end') {
          records.saveCursor(cursor);
          records.updatePass(pass.id, { versions, bytes, failures, toPosition: position(cursor) });
          continue;
        }
        if (versions >= plannedVersions) break;
        const finding = await this.#verify(step, limiter, signal);
        versions += 1;
        bytes += step.size;
        cursor = { bucket: step.bucket, key: step.key, versionId: step.versionId };
        this.#options.onVersionChecked?.(step.size);
        if (finding !== undefined) {
          failures += 1;
          const record: ScrubFinding = { passId: pass.id, atMs: clock.nowMs(), bucket: step.bucket, key: step.key, versionId: step.versionId, size: step.size, ...finding };
          records.addFinding(record);
          this.#options.onFinding(record);
        }
      }
      return end('completed');
    } catch (error) {
      if (error instanceof PassAborted) return end('interrupted', 'the server stopped during the pass');
      return end('failed', error instanceof Error ? error.message : String(error));
    }
  }

  async #countVersions(signal: AbortSignal): Promise<number> {
    let count = 0;
    for await (const step of this.#walk(undefined, signal)) if (typeof step !== 'string') count += 1;
    return count;
  }

  /**
   * Every version with bytes, from just after `cursor` to the end of the vault ('end-of-vault'),
   * then from the start up to and including `cursor`. 'page-end' marks a point to save progress.
   */
  async *#walk(cursor: ScrubCursor | undefined, signal: AbortSignal): AsyncGenerator<ObjectVersionRecord | 'end-of-vault' | 'page-end'> {
    const { metadata } = this.#options.vault;
    const buckets = (await metadata.listBuckets()).map((b) => b.name).sort();
    for (const bucket of buckets) {
      if (cursor !== undefined && bucket < cursor.bucket) continue;
      const from = cursor !== undefined && bucket === cursor.bucket ? { afterKey: cursor.key, afterVersionId: cursor.versionId } : { afterKey: '', afterVersionId: undefined };
      yield* this.#bucketVersions(bucket, from, undefined, signal);
    }
    yield 'end-of-vault';
    if (cursor === undefined) return;
    for (const bucket of buckets) {
      if (bucket > cursor.bucket) return;
      yield* this.#bucketVersions(bucket, { afterKey: '', afterVersionId: undefined }, bucket === cursor.bucket ? cursor : undefined, signal);
    }
  }

  async *#bucketVersions(
    bucket: string,
    from: { afterKey: string; afterVersionId: string | undefined },
    until: ScrubCursor | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<ObjectVersionRecord | 'page-end'> {
    let { afterKey, afterVersionId } = from;
    const untilKey = until === undefined ? undefined : Buffer.from(until.key);
    for (;;) {
      if (signal.aborted) throw new PassAborted();
      const page = await this.#options.vault.metadata.scanVersions(bucket, { prefix: '', afterKey, afterVersionId, limit: PAGE });
      for (const version of page) {
        if (untilKey !== undefined && Buffer.compare(Buffer.from(version.key), untilKey) > 0) return;
        if (!version.isDeleteMarker) yield version;
        if (until !== undefined && version.key === until.key && version.versionId === until.versionId) return;
      }
      yield 'page-end';
      const last = page.at(-1);
      if (last === undefined || page.length < PAGE) return;
      afterKey = last.key;
      afterVersionId = last.versionId;
    }
  }

  /** Reads one version back; a problem is reported only if the version still exists as it was read. */
  async #verify(version: ObjectVersionRecord, limiter: ByteRateLimiter, signal: AbortSignal): Promise<IntegrityFinding | undefined> {
    const finding = await this.#check(version, limiter, signal);
    if (finding === undefined) return undefined;
    // A version deleted while it was read loses its blobs a moment later: that is not damage.
    const now = await this.#options.vault.metadata.getObjectVersion(version.bucket, version.key, version.versionId);
    if (now === undefined || !sameData(now.data, version.data)) return undefined;
    return finding;
  }

  async #check(version: ObjectVersionRecord, limiter: ByteRateLimiter, signal: AbortSignal): Promise<IntegrityFinding | undefined> {
    const { vault } = this.#options;
    if (version.data.kind === 'blobs') {
      for (const blob of version.data.blobs) {
        if ((await vault.blobs.modifiedMs(blob.blobId)) === undefined) {
          return { problem: 'missing-blob', detail: `blob ${blob.blobId} (${blob.size} bytes) is not in the blob store` };
        }
      }
    }
    const check = new VersionIntegrityCheck(version);
    try {
      if (version.data.kind === 'inline') check.update(version.data.data);
      for (const blob of version.data.kind === 'blobs' ? version.data.blobs : []) {
        // The whole file, not the recorded range: bytes appended behind the vault's back count too.
        let blobBytes = 0;
        for await (const chunk of vault.blobs.read(blob.blobId)) {
          if (signal.aborted) throw new PassAborted();
          const bytes = chunk as Buffer;
          blobBytes += bytes.length;
          check.update(bytes);
          await limiter.take(bytes.length);
        }
        if (blobBytes !== blob.size) return { problem: 'size-mismatch', detail: `blob ${blob.blobId} should hold ${blob.size} bytes, holds ${blobBytes}` };
      }
    } catch (error) {
      if (error instanceof PassAborted) throw error;
      return { problem: 'read-error', detail: `reading the stored bytes failed after ${check.bytes} bytes: ${error instanceof Error ? error.message : String(error)}` };
    }
    return check.finish();
  }
}

function sameData(a: StoredData, b: StoredData): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'inline' || b.kind === 'inline') return a.kind === 'inline' && b.kind === 'inline' && a.data.equals(b.data);
  return a.blobs.length === b.blobs.length && a.blobs.every((blob, i) => blob.blobId === b.blobs[i]!.blobId);
}

function position(cursor: ScrubCursor | undefined): string | undefined {
  return cursor === undefined ? undefined : `${cursor.bucket}/${cursor.key}@${cursor.versionId}`;
}
