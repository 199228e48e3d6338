import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { AuditLog } from '../../../domain/audit/audit-log.js';
import type { AuditStore } from '../../../domain/audit/audit-store.js';
import { auditStoreContract } from '../../../domain/audit/audit-store-contract.js';
import { requestFields } from '../../../domain/audit/in-memory-audit-store.test-fixture.js';
import { verifyAuditLog } from '../../../domain/audit/verify-audit-log.js';
import { ManualClock } from '../../clock.js';
import { SqliteAuditStore } from './sqlite-audit-store.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-audit-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `store-${n++}`, 'audit.sqlite');
const clock = new ManualClock(Date.UTC(2036, 1, 1));
const { publicKey } = generateKeyPairSync('ed25519');

auditStoreContract('SQLite', async () => new SqliteAuditStore(freshPath(), 'node-a'));

test('SQLite: a reopened store keeps the chain, and the log continues it', async () => {
  const path = freshPath();
  const store = new SqliteAuditStore(path, 'node-a');
  const log = await AuditLog.open({ store, clock });
  for (let i = 0; i < 10; i += 1) log.record(requestFields(i));
  await log.close();
  await store.close();

  const reopened = new SqliteAuditStore(path, 'node-a');
  const head = await reopened.head();
  assert.equal(head?.seq, 10);
  const again = await AuditLog.open({ store: reopened, clock });
  const next = again.record(requestFields(10))!;
  assert.equal(next.seq, 11);
  assert.equal(next.prevHash, head.hash);
  await again.close();
  const v = await verifyAuditLog(reopened, [], publicKey);
  assert.equal(v.ok, true);
  assert.equal(v.entriesChecked, 11);
  await reopened.close();
});

test('SQLite: recordDurably resolves only after the row is committed (seen by a second connection)', async () => {
  const path = freshPath();
  const store = new SqliteAuditStore(path, 'node-a');
  const log = await AuditLog.open({ store, clock, flushIntervalMs: 60_000 });
  const reader = new Database(path, { readonly: true });
  const count = () => (reader.prepare('SELECT count(*) AS n FROM audit_entries').get() as { n: number }).n;
  log.record(requestFields(0));
  assert.equal(count(), 0, 'record() alone does not write');
  const entry = await log.recordDurably({ ...requestFields(1), kind: 'config-change', action: 'admin:SetRetentionBounds' });
  const row = reader.prepare('SELECT seq, action, hash FROM audit_entries WHERE seq = ?').get(entry.seq) as { seq: number; action: string; hash: string };
  assert.deepEqual(row, { seq: 2, action: 'admin:SetRetentionBounds', hash: entry.hash });
  assert.equal(count(), 2);
  reader.close();
  await log.close();
  await store.close();
});

test('SQLite: a file holding another chain is refused with a clear message', async () => {
  const path = freshPath();
  await new SqliteAuditStore(path, 'node-a').close();
  assert.throws(() => new SqliteAuditStore(path, 'node-b'), /holds the chain of node "node-a", not of this node \("node-b"\)/);
  assert.throws(() => new SqliteAuditStore(freshPath(), '../etc'), /chain id .* is invalid/);
});

test('SQLite: batching: many record() calls share few transactions; throughput of record()+flush', async () => {
  const path = freshPath();
  const store = new SqliteAuditStore(path, 'node-a');
  let appends = 0;
  const counting: AuditStore = {
    chain: store.chain,
    append: (entries) => {
      appends += 1;
      return store.append(entries);
    },
    head: () => store.head(),
    read: (fromSeq, limit) => store.read(fromSeq, limit),
    scan: (filter) => store.scan(filter),
    close: () => store.close(),
  };
  const log = await AuditLog.open({ store: counting, clock });
  for (let i = 0; i < 1000; i += 1) log.record(requestFields(i));
  await log.flush();
  assert.ok(appends <= 2, `${appends} transactions for 1000 entries`);

  // Throughput, as the server sees it: bursts of records, committed in batches.
  const total = 50_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < total; i += 1) {
    log.record(requestFields(i));
    if (i % 1000 === 999) await log.flush();
  }
  await log.flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const perSecond = Math.round(total / seconds);
  console.log(`# audit: ${total} entries recorded and committed in ${seconds.toFixed(2)} s = ${perSecond} entries/s (${appends} transactions in all)`);
  assert.ok(perSecond > 5_000, `${perSecond} entries/s`);
  await log.close();
  assert.equal((await store.head())?.seq, 51_000);
  await store.close();
});
