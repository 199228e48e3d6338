import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { AuditLog } from '../../domain/audit/audit-log.js';
import { InMemoryAuditStore, auditChain, requestFields } from '../../domain/audit/in-memory-audit-store.test-fixture.js';
import { ManualClock } from '../clock.js';
import { createJsonLinesSink } from './json-lines-sink.js';

/** A stream that keeps what it is given and can be made to stall, like a stuck log collector. */
class CapturingStream extends Writable {
  readonly chunks: string[] = [];
  stalled = false;
  readonly #held: Array<() => void> = [];
  constructor() {
    super({ highWaterMark: 1024, decodeStrings: false });
  }
  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(String(chunk));
    if (this.stalled) this.#held.push(() => callback());
    else callback();
  }
  resume(): void {
    this.stalled = false;
    for (const callback of this.#held.splice(0)) callback();
  }
  lines(): Array<Record<string, unknown>> {
    return this.chunks.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

test('each committed entry becomes one JSON line of type "audit"; a turn\'s lines go out in one write', async () => {
  const stream = new CapturingStream();
  const sink = createJsonLinesSink(stream, { chain: 'node-a' });
  const log = await AuditLog.open({ store: new InMemoryAuditStore(), clock: new ManualClock(Date.UTC(2039, 0, 2, 3, 4, 5, 6)), sink: (e) => sink.write(e) });
  const recorded = Array.from({ length: 20 }, (_, i) => log.record(requestFields(i))!);
  await log.flush();
  await sink.close();
  const lines = stream.lines();
  assert.equal(lines.length, 20);
  assert.equal(stream.chunks.length, 1, 'one write for the batch');
  for (const [i, line] of lines.entries()) {
    assert.equal(line.type, 'audit');
    assert.equal(line.time, '2039-01-02T03:04:05.006Z');
    assert.equal(line.chain, 'node-a');
    assert.equal(line.seq, recorded[i]!.seq);
    assert.equal(line.hash, recorded[i]!.hash);
    assert.equal(line.action, recorded[i]!.action);
  }
  await log.close();
});

test('a stalled stream never blocks the caller: lines wait up to the bound, the rest are dropped, counted and announced', async () => {
  const stream = new CapturingStream();
  stream.stalled = true;
  const sink = createJsonLinesSink(stream, { maxPendingBytes: 64 * 1024 });
  const entries = auditChain(5_000, (i) => requestFields(i));
  sink.write(entries[0]!);
  await sleep(5); // the first write fills the stream's buffer; it now reports backpressure
  const started = process.hrtime.bigint();
  for (const entry of entries.slice(1)) sink.write(entry);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(elapsedMs < 1_000, `${elapsedMs} ms for 4999 writes`);
  assert.ok(sink.droppedEntries > 4_000, `${sink.droppedEntries} dropped`);
  stream.resume();
  await sink.close();
  const lines = stream.lines();
  const audit = lines.filter((l) => l.type === 'audit');
  const notice = lines.find((l) => l.type === 'audit-dropped');
  assert.equal(audit.length + sink.droppedEntries, 5_000);
  assert.equal(notice?.dropped, sink.droppedEntries);
  const seqs = audit.map((l) => l.seq as number);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'what arrives is in order');
});

test('a broken stream (the reader went away) is reported, not thrown, and later entries are counted as dropped', async () => {
  const stream = new CapturingStream();
  const errors: unknown[] = [];
  const sink = createJsonLinesSink(stream, { onError: (e) => errors.push(e) });
  stream.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  await sleep(5);
  const [entry] = auditChain(1, (i) => requestFields(i));
  sink.write(entry!);
  sink.write(entry!);
  await sink.close();
  assert.match(String(errors[0]), /EPIPE/);
  assert.equal(sink.droppedEntries, 2);
});
