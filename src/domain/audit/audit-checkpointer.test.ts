import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ManualClock } from '../../infra/clock.js';
import { type AuditCheckpoint, type CheckpointSink, auditKeyId, checkpointSigningPayload } from './audit-checkpoint.js';
import { AuditCheckpointer } from './audit-checkpointer.js';
import { AuditLog } from './audit-log.js';
import { sealAuditEntry } from './canonical-encoding.js';
import { InMemoryAuditStore, requestFields } from './in-memory-audit-store.test-fixture.js';
import { verifyAuditLog } from './verify-audit-log.js';

const START = Date.UTC(2035, 0, 1);
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const signer = { keyId: auditKeyId(publicKey), sign: (payload: Uint8Array) => sign(null, payload, privateKey).toString('base64') };

/** Checkpoints kept in memory; the server's sink writes compliance-locked objects instead. */
class MemoryCheckpointSink implements CheckpointSink {
  readonly kept: AuditCheckpoint[] = [];
  async write(checkpoint: AuditCheckpoint): Promise<void> {
    this.kept.push(checkpoint);
  }
  async list(): Promise<AuditCheckpoint[]> {
    return [...this.kept];
  }
}

async function setup(store = new InMemoryAuditStore(), sink = new MemoryCheckpointSink(), intervalMs = 60_000) {
  const clock = new ManualClock(START);
  const errors: unknown[] = [];
  const log = await AuditLog.open({ store, clock, flushIntervalMs: 10_000 });
  const checkpointer = new AuditCheckpointer({ log, store, signer, sink, clock, intervalMs, onError: (e) => errors.push(e) });
  await checkpointer.start();
  return { store, sink, clock, log, checkpointer, errors };
}

test('a checkpoint signs the committed head; its signature verifies with node:crypto and the public key', async () => {
  const { log, checkpointer, sink, clock } = await setup();
  for (let i = 0; i < 5; i += 1) log.record(requestFields(i));
  clock.advance(1234);
  const checkpoint = (await checkpointer.checkpoint())!;
  assert.deepEqual(sink.kept, [checkpoint]);
  assert.equal(checkpoint.seq, 5);
  assert.equal(checkpoint.hash, log.committedHead()!.hash, 'the log was flushed first');
  assert.equal(checkpoint.chain, 'node-a');
  assert.equal(checkpoint.timeMs, START + 1234);
  assert.equal(checkpoint.keyId, auditKeyId(publicKey));
  const { signature, ...signed } = checkpoint;
  assert.equal(verify(null, checkpointSigningPayload(signed), publicKey, Buffer.from(signature, 'base64')), true);
  assert.equal(verify(null, checkpointSigningPayload({ ...signed, seq: 4 }), publicKey, Buffer.from(signature, 'base64')), false);
  await checkpointer.close();
  await log.close();
});

test('no checkpoint when the head has not moved, including after a restart', async () => {
  const first = await setup();
  assert.equal(await first.checkpointer.checkpoint(), undefined, 'an empty log has nothing to sign');
  first.log.record(requestFields(0));
  assert.ok(await first.checkpointer.checkpoint());
  assert.equal(await first.checkpointer.checkpoint(), undefined);
  await first.checkpointer.close();
  await first.log.close();
  assert.equal(first.sink.kept.length, 1);

  const again = await setup(first.store, first.sink);
  assert.deepEqual(again.checkpointer.lastCheckpointed, { seq: 1, hash: first.sink.kept[0]!.hash });
  await again.checkpointer.close();
  assert.equal(again.sink.kept.length, 1);
  assert.deepEqual(again.errors, []);
});

test('checkpoints are written periodically and on close; concurrent calls do not duplicate them', async () => {
  const { log, checkpointer, sink, store } = await setup(undefined, undefined, 20);
  log.record(requestFields(0));
  for (let i = 0; i < 100 && sink.kept.length === 0; i += 1) await sleep(5);
  assert.equal(sink.kept.length, 1, 'the timer wrote one');
  log.record(requestFields(1));
  const results = await Promise.all([checkpointer.checkpoint(), checkpointer.checkpoint(), checkpointer.checkpoint()]);
  assert.equal(results.filter((r) => r !== undefined).length, 1);
  log.record(requestFields(2));
  await checkpointer.close();
  assert.deepEqual(sink.kept.map((c) => c.seq), [1, 2, 3]);
  await log.close();
  assert.equal((await verifyAuditLog(store, sink.kept, publicKey)).ok, true);
});

test('a store changed under the running log is not blessed with a checkpoint', async () => {
  const { log, checkpointer, sink, store } = await setup();
  log.record(requestFields(0));
  log.record(requestFields(1));
  await checkpointer.checkpoint();
  log.record(requestFields(2));
  await log.flush();
  store.rows.delete(3);
  await assert.rejects(checkpointer.checkpoint(), /not what this server committed/);
  assert.equal(sink.kept.length, 1);
});

test('at start, a checkpointed entry that the store no longer holds as signed is reported', async () => {
  const first = await setup();
  first.log.record(requestFields(0));
  first.log.record(requestFields(1));
  await first.checkpointer.close();
  await first.log.close();
  first.store.rows.set(2, sealAuditEntry({ ...first.store.rows.get(2)!, identity: 'mallory' }));
  const again = await setup(first.store, first.sink);
  assert.equal(again.errors.length, 1);
  assert.match(String(again.errors[0]), /latest checkpoint covers entry 2/);
  await again.checkpointer.close();
});
