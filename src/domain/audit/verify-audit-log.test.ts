import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { type AuditCheckpoint, type CheckpointSigner, auditKeyId, signCheckpoint } from './audit-checkpoint.js';
import type { AuditEntry } from './audit-entry.js';
import { sealAuditEntry } from './canonical-encoding.js';
import { InMemoryAuditStore, auditChain, requestFields } from './in-memory-audit-store.test-fixture.js';
import { type AuditVerification, verifyAuditLog } from './verify-audit-log.js';

const T0 = Date.UTC(2034, 5, 1);

function testSigner(): CheckpointSigner & { publicKey: ReturnType<typeof generateKeyPairSync>['publicKey'] } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey, keyId: auditKeyId(publicKey), sign: (payload) => sign(null, payload, privateKey).toString('base64') };
}

const signer = testSigner();

/** A store with `count` entries and checkpoints at the given positions. */
async function logWith(count: number, checkpointAt: readonly number[] = []) {
  const store = new InMemoryAuditStore('node-a');
  const entries = auditChain(count, (i) => requestFields(i));
  await store.append(entries);
  const checkpoints = checkpointAt.map((seq) => signCheckpoint(signer, { chain: 'node-a', seq, hash: entries[seq - 1]!.hash, timeMs: T0 + seq }));
  return { store, entries, checkpoints };
}

const summary = (v: AuditVerification) => v.problems.map((p) => `${p.kind}@${p.seq}`);

test('a clean log verifies: every entry checked, every checkpoint matching', async () => {
  const { store, entries, checkpoints } = await logWith(250, [100, 250]);
  const v = await verifyAuditLog(store, checkpoints, signer.publicKey, { pageSize: 7 });
  assert.deepEqual(v.problems, []);
  assert.equal(v.ok, true);
  assert.equal(v.entriesChecked, 250);
  assert.equal(v.checkpointsChecked, 2);
  assert.deepEqual(v.head, { seq: 250, hash: entries[249]!.hash });
  const empty = await verifyAuditLog(new InMemoryAuditStore('node-a'), [], signer.publicKey);
  assert.equal(empty.ok, true);
  assert.equal(empty.head, undefined);
});

test('an edited entry is named at its position', async () => {
  const { store } = await logWith(20);
  assert.equal(store.rows.get(6)!.result, 'denied');
  store.rows.set(6, { ...store.rows.get(6)!, result: 'allowed', errorCode: undefined });
  const v = await verifyAuditLog(store, [], signer.publicKey);
  assert.deepEqual(summary(v), ['edited@6']);
  assert.equal(v.ok, false);
});

test('an entry rewritten together with its hash is named by the link of the next one', async () => {
  const { store } = await logWith(20);
  store.rows.set(7, sealAuditEntry({ ...store.rows.get(7)!, identity: 'mallory' }));
  assert.deepEqual(summary(await verifyAuditLog(store, [], signer.publicKey)), ['edited@7']);
});

test('deleted entries are named with the missing range', async () => {
  const { store } = await logWith(20);
  store.rows.delete(5);
  store.rows.delete(11);
  store.rows.delete(12);
  store.rows.delete(13);
  const v = await verifyAuditLog(store, [], signer.publicKey);
  assert.deepEqual(summary(v), ['deleted@5', 'deleted@11']);
  assert.match(v.problems[1]!.message, /entries 11 to 13 are missing \(3 entries\)/);
  store.rows.delete(1);
  assert.deepEqual(summary(await verifyAuditLog(store, [], signer.publicKey)), ['deleted@1', 'deleted@5', 'deleted@11']);
});

test('two swapped entries are both named as reordered, and the entry after them is not blamed', async () => {
  const { store } = await logWith(20);
  const [a, b] = [store.rows.get(8)!, store.rows.get(9)!];
  store.rows.set(8, { ...b, seq: 8 });
  store.rows.set(9, { ...a, seq: 9 });
  const v = await verifyAuditLog(store, [], signer.publicKey);
  assert.deepEqual(summary(v), ['reordered@8', 'reordered@9']);
  assert.match(v.problems[0]!.message, /position 8 holds the entry written as entry 9/);
});

test('a deletion hidden by renumbering is reported as misplaced entries', async () => {
  const { store } = await logWith(10);
  const rows = [...store.rows.values()];
  store.rows.clear();
  for (const entry of rows) if (entry.seq !== 4) store.rows.set(entry.seq > 4 ? entry.seq - 1 : entry.seq, { ...entry, seq: entry.seq > 4 ? entry.seq - 1 : entry.seq });
  const v = await verifyAuditLog(store, [], signer.publicKey);
  assert.deepEqual(summary(v), ['reordered@4', 'reordered@5', 'reordered@6', 'reordered@7', 'reordered@8', 'reordered@9']);
  assert.match(v.problems[0]!.message, /renumbered/);
});

test('a truncated tail is caught by the checkpoint that covered it', async () => {
  const { store, checkpoints } = await logWith(30, [10, 25]);
  for (let seq = 21; seq <= 30; seq += 1) store.rows.delete(seq);
  const v = await verifyAuditLog(store, checkpoints, signer.publicKey);
  assert.deepEqual(summary(v), ['truncated@21']);
  assert.match(v.problems[0]!.message, /ends at entry 20.*up to 25: at least 5 entries/);
  // Without checkpoints a clean truncation is undetectable: the documented limit.
  assert.equal((await verifyAuditLog(store, [], signer.publicKey)).ok, true);
});

test('a consistent rewrite of the whole chain passes the chain checks but not the checkpoints', async () => {
  const { store, entries, checkpoints } = await logWith(40, [10, 30, 40]);
  let prevHash = entries[14]!.prevHash;
  for (let seq = 15; seq <= 40; seq += 1) {
    const rewritten = sealAuditEntry({ ...store.rows.get(seq)!, identity: seq === 15 ? 'nobody' : store.rows.get(seq)!.identity, prevHash });
    store.rows.set(seq, rewritten);
    prevHash = rewritten.hash;
  }
  assert.equal((await verifyAuditLog(store, [], signer.publicKey)).ok, true, 'internally consistent');
  const v = await verifyAuditLog(store, checkpoints, signer.publicKey);
  assert.deepEqual(summary(v), ['checkpoint-mismatch@30', 'checkpoint-mismatch@40']);
  assert.match(v.problems[0]!.message, /after entry 10 \(the last checkpoint that matches\) up to entry 30 was rewritten/);
});

test('a checkpoint signed with another key, or altered after signing, is reported and not trusted', async () => {
  const { store, entries, checkpoints } = await logWith(20, [10]);
  const forger = testSigner();
  const forged = signCheckpoint(forger, { chain: 'node-a', seq: 20, hash: 'f'.repeat(64), timeMs: T0 });
  const altered: AuditCheckpoint = { ...checkpoints[0]!, seq: 15, hash: entries[14]!.hash };
  const relabelled: AuditCheckpoint = { ...forged, keyId: signer.keyId };
  const v = await verifyAuditLog(store, [...checkpoints, forged, altered, relabelled], signer.publicKey);
  assert.deepEqual(summary(v), ['bad-checkpoint-signature@15', 'bad-checkpoint-signature@20', 'bad-checkpoint-signature@20']);
  assert.equal(v.checkpointsChecked, 1);
  assert.match(v.problems.find((p) => p.message.includes('not by the audit key'))!.message, new RegExp(forger.keyId));
});

test('a deleted entry that a checkpoint covers is reported twice: as missing and against the checkpoint', async () => {
  const { store, checkpoints } = await logWith(20, [12]);
  store.rows.delete(12);
  assert.deepEqual(summary(await verifyAuditLog(store, checkpoints, signer.publicKey)), ['deleted@12', 'checkpoint-mismatch@12']);
});

test('checkpoints of other chains are ignored; malformed ones are reported', async () => {
  const { store, entries } = await logWith(5);
  const other = signCheckpoint(signer, { chain: 'node-b', seq: 99, hash: entries[0]!.hash, timeMs: T0 });
  const malformed = { chain: 'node-a', seq: 3, hash: 'not-hex', timeMs: T0, keyId: signer.keyId, signature: '' };
  const v = await verifyAuditLog(store, [other, malformed], signer.publicKey);
  assert.deepEqual(summary(v), ['bad-checkpoint-signature@3']);
});

test('the problem list is bounded; the rest are counted', async () => {
  const { store } = await logWith(300);
  for (const [seq, entry] of store.rows) store.rows.set(seq, { ...entry, identity: 'x' });
  const v = await verifyAuditLog(store, [], signer.publicKey, { maxProblems: 10 });
  assert.equal(v.problems.length, 10);
  assert.equal(v.problemsOmitted, 290);
  assert.equal(v.ok, false);
});

test('property: any single tampering is reported at its position, with its kind', async () => {
  type Tamper =
    | { kind: 'edit'; at: number; field: 'identity' | 'action' | 'timeMs' | 'result' | 'details' }
    | { kind: 'rewrite'; at: number }
    | { kind: 'delete'; at: number; count: number }
    | { kind: 'swap'; at: number; distance: number }
    | { kind: 'truncate'; at: number };
  const N = 40;
  const tamper = fc.oneof(
    fc.record({ kind: fc.constant('edit' as const), at: fc.integer({ min: 1, max: N }), field: fc.constantFrom('identity' as const, 'action' as const, 'timeMs' as const, 'result' as const, 'details' as const) }),
    fc.record({ kind: fc.constant('rewrite' as const), at: fc.integer({ min: 1, max: N - 1 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.integer({ min: 1, max: N - 3 }), count: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('swap' as const), at: fc.integer({ min: 1, max: N - 5 }), distance: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.integer({ min: 1, max: N }) }),
  );
  await fc.assert(
    fc.asyncProperty(tamper, async (t: Tamper) => {
      const { store, checkpoints } = await logWith(N, [N]);
      const row = (seq: number): AuditEntry => store.rows.get(seq)!;
      let expected: string[];
      if (t.kind === 'edit') {
        const e = row(t.at);
        const change = { identity: { identity: `${e.identity}!` }, action: { action: 'DeleteBucket' }, timeMs: { timeMs: e.timeMs + 1 }, result: { result: e.result === 'ok' ? 'error' : 'ok' }, details: { details: { injected: true } } }[t.field];
        store.rows.set(t.at, { ...e, ...change } as AuditEntry);
        expected = [`edited@${t.at}`];
      } else if (t.kind === 'rewrite') {
        store.rows.set(t.at, sealAuditEntry({ ...row(t.at), identity: 'mallory' }));
        expected = [`edited@${t.at}`];
      } else if (t.kind === 'delete') {
        for (let i = 0; i < t.count; i += 1) store.rows.delete(t.at + i);
        expected = [`deleted@${t.at}`];
      } else if (t.kind === 'swap') {
        const [a, b] = [row(t.at), row(t.at + t.distance)];
        store.rows.set(t.at, { ...b, seq: t.at });
        store.rows.set(t.at + t.distance, { ...a, seq: t.at + t.distance });
        expected = [`reordered@${t.at}`, `reordered@${t.at + t.distance}`];
        // Moving an entry away from the checkpointed position also contradicts the checkpoint.
        if (t.at + t.distance === N) expected.push(`checkpoint-mismatch@${N}`);
      } else {
        for (let seq = t.at; seq <= N; seq += 1) store.rows.delete(seq);
        expected = [`truncated@${t.at}`];
      }
      const v = await verifyAuditLog(store, checkpoints, signer.publicKey);
      assert.equal(v.ok, false);
      assert.deepEqual(summary(v), expected);
    }),
    { numRuns: 300 },
  );
});
