import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../infra/clock.js';
import { AUDIT_GAP_ACTION, type AuditEntry, GENESIS_HASH } from './audit-entry.js';
import { AuditLog, type AuditLogOptions } from './audit-log.js';
import { auditEntryHash } from './canonical-encoding.js';
import { InMemoryAuditStore, requestFields } from './in-memory-audit-store.test-fixture.js';
import { verifyAuditLog } from './verify-audit-log.js';

const START = Date.UTC(2032, 0, 1);
const { publicKey } = generateKeyPairSync('ed25519');

async function setup(options: Partial<AuditLogOptions> = {}) {
  const store = options.store instanceof InMemoryAuditStore ? options.store : new InMemoryAuditStore();
  const clock = new ManualClock(START);
  const errors: unknown[] = [];
  const log = await AuditLog.open({ store, clock, flushIntervalMs: 5, onError: (e) => errors.push(e), ...options });
  return { store, clock, log, errors };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (condition()) return;
    await sleep(5);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('record() chains entries in call order from the genesis hash and commits them in the background', async () => {
  const { store, log, clock } = await setup();
  const first = log.record(requestFields(0))!;
  clock.advance(10);
  const second = log.record(requestFields(1))!;
  assert.equal(first.seq, 1);
  assert.equal(first.prevHash, GENESIS_HASH);
  assert.equal(first.timeMs, START);
  assert.equal(second.seq, 2);
  assert.equal(second.prevHash, first.hash);
  assert.equal(second.timeMs, START + 10);
  assert.equal(second.hash, auditEntryHash(second));
  assert.equal(store.rows.size, 0, 'nothing is written synchronously');
  await until(() => store.rows.size === 2, 'the timer flush');
  assert.deepEqual(log.committedHead(), { seq: 2, hash: second.hash });
  assert.equal(log.bufferedEntries, 0);
  await log.close();
});

test('a reopened log continues the stored chain', async () => {
  const { store, log } = await setup();
  log.record(requestFields(0));
  log.record(requestFields(1));
  await log.close();
  const { log: again } = await setup({ store });
  const third = again.record(requestFields(2))!;
  assert.equal(third.seq, 3);
  assert.equal(third.prevHash, store.rows.get(2)!.hash);
  await again.close();
  assert.equal((await verifyAuditLog(store, [], publicKey)).ok, true);
});

test('1000 record() calls are written in a handful of transactions, not one each', async () => {
  const { store, log } = await setup({ flushIntervalMs: 50 });
  for (let i = 0; i < 1000; i += 1) log.record(requestFields(i));
  await log.flush();
  assert.equal(store.rows.size, 1000);
  assert.ok(store.appendCalls <= 3, `${store.appendCalls} appends`);
  await log.close();
});

test('recordDurably resolves only once its entry is in the store', async () => {
  const { store, log } = await setup({ flushIntervalMs: 10_000 });
  log.record(requestFields(0));
  const entry = await log.recordDurably({ ...requestFields(1), kind: 'config-change', action: 'admin:SetRetentionBounds' });
  assert.deepEqual(store.rows.get(entry.seq), entry);
  assert.ok(store.rows.has(1), 'entries recorded before it are committed with it');
  await log.close();
});

test('failed appends keep the entries, report through onError, and are retried in order', async () => {
  const { store, log, errors } = await setup();
  store.failAppends(3);
  const recorded = [log.record(requestFields(0))!, log.record(requestFields(1))!];
  const durable = log.recordDurably(requestFields(2));
  recorded.push(log.record(requestFields(3))!);
  const committed = await durable;
  await log.flush();
  assert.equal(committed.seq, 3);
  assert.equal(errors.length >= 2, true, `${errors.length} errors reported`);
  assert.match(String(errors[0]), /disk is full/);
  assert.deepEqual([...store.rows.values()].map((e) => e.seq), [1, 2, 3, 4]);
  assert.deepEqual(store.rows.get(1), recorded[0]);
  assert.equal((await verifyAuditLog(store, [], publicKey)).ok, true);
  await log.close();
});

test('an explicit flush() rejects while the store fails, and the entries survive it', async () => {
  const { store, log } = await setup({ flushIntervalMs: 10_000 });
  store.failAppends(1);
  log.record(requestFields(0));
  await assert.rejects(log.flush(), /disk is full/);
  assert.equal(log.bufferedEntries, 1);
  await log.flush();
  assert.equal(store.rows.size, 1);
  await log.close();
});

test('when the buffer overflows, entries are dropped and counted, and a gap marker keeps the chain honest', async () => {
  const { store, log, clock } = await setup({ maxBufferedEntries: 10, flushIntervalMs: 10_000 });
  store.failAppends(1_000_000);
  const results = Array.from({ length: 15 }, (_, i) => {
    clock.advance(1);
    return log.record(requestFields(i));
  });
  assert.equal(results.filter((r) => r === undefined).length, 5);
  assert.equal(log.droppedEntries, 5);
  await assert.rejects(log.recordDurably(requestFields(99)), /buffer is full/);
  assert.equal(log.droppedEntries, 6);
  store.failAppends(0);
  await log.flush();
  await until(() => store.rows.size === 11, 'the gap marker');
  const marker = store.rows.get(11)!;
  assert.equal(marker.action, AUDIT_GAP_ACTION);
  assert.equal(marker.kind, 'system');
  assert.deepEqual(marker.details, { dropped: 6, firstDroppedMs: START + 11, lastDroppedMs: START + 15 });
  const verification = await verifyAuditLog(store, [], publicKey);
  assert.deepEqual(verification.problems.map((p) => [p.kind, p.seq]), [['gap-marker', 11]]);
  assert.match(verification.problems[0]!.message, /dropped 6 audit entries/);
  await log.close();
});

test('the sink sees each entry once, in order, only after it is committed; a throwing sink does not stop the others', async () => {
  const seen: Array<{ seq: number; stored: boolean }> = [];
  const store = new InMemoryAuditStore();
  const { log, errors } = await setup({
    store,
    sink: (entry: AuditEntry) => {
      seen.push({ seq: entry.seq, stored: store.rows.has(entry.seq) });
      if (entry.seq === 2) throw new Error('sink broke');
    },
  });
  for (let i = 0; i < 5; i += 1) log.record(requestFields(i));
  await log.flush();
  assert.deepEqual(seen, [1, 2, 3, 4, 5].map((seq) => ({ seq, stored: true })));
  assert.match(String(errors[0]), /sink broke/);
  await log.close();
});

test('close() commits what is buffered and refuses later records; a failing close says so and rejects waiters', async () => {
  const { store, log } = await setup({ flushIntervalMs: 10_000 });
  log.record(requestFields(0));
  await log.close();
  assert.equal(store.rows.size, 1);
  assert.throws(() => log.record(requestFields(1)), /closed/);
  await assert.rejects(log.recordDurably(requestFields(1)), /closed/);

  const broken = await setup({ flushIntervalMs: 10_000 });
  broken.store.failAppends(1_000);
  const waiting = broken.log.recordDurably(requestFields(0));
  await assert.rejects(broken.log.close(), /disk is full/);
  await assert.rejects(waiting, /disk is full/);
});

test('property: any interleaving of records, durable records, flushes and store failures yields a gapless, valid chain of exactly what was recorded', async () => {
  type Step = { op: 'record' } | { op: 'durable' } | { op: 'flush' } | { op: 'fail'; count: number } | { op: 'wait' };
  const step = fc.oneof(
    { arbitrary: fc.constant<Step>({ op: 'record' }), weight: 6 },
    { arbitrary: fc.constant<Step>({ op: 'durable' }), weight: 2 },
    { arbitrary: fc.constant<Step>({ op: 'flush' }), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 3 }).map<Step>((count) => ({ op: 'fail', count })), weight: 1 },
    { arbitrary: fc.constant<Step>({ op: 'wait' }), weight: 1 },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
      const { store, log } = await setup({ flushIntervalMs: 1, flushAtEntries: 4, maxRetryDelayMs: 2 });
      const recorded: number[] = [];
      const durable: Array<Promise<AuditEntry>> = [];
      for (const [i, s] of steps.entries()) {
        if (s.op === 'record') recorded.push(log.record(requestFields(i))!.seq);
        else if (s.op === 'durable') {
          durable.push(log.recordDurably(requestFields(i)));
          recorded.push(log.recordedHead()!.seq);
        } else if (s.op === 'flush') await log.flush().catch(() => undefined);
        else if (s.op === 'fail') store.failAppends(s.count);
        else await sleep(1);
      }
      store.failAppends(0);
      await log.close();
      for (const promise of durable) assert.equal((await promise).hash, store.rows.get((await promise).seq)!.hash);
      assert.deepEqual([...store.rows.keys()].sort((a, b) => a - b), recorded);
      assert.equal(log.droppedEntries, 0);
      assert.equal((await verifyAuditLog(store, [], publicKey)).ok, true);
    }),
    { numRuns: 60 },
  );
});
