import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { GENESIS_HASH } from './audit-entry.js';
import { exportAuditLog } from './export-audit-log.js';
import { InMemoryAuditStore, auditChain, requestFields } from './in-memory-audit-store.test-fixture.js';

async function lines(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of iterable) out.push(line);
  return out;
}

test('an unfiltered export is JSON lines that an auditor can re-verify without Holdfast', async () => {
  const store = new InMemoryAuditStore();
  await store.append(auditChain(50, (i) => requestFields(i, { details: i % 7 === 0 ? { retainDays: i, note: 'é' } : undefined })));
  const exported = await lines(exportAuditLog(store));
  assert.equal(exported.length, 50);
  let prev = GENESIS_HASH;
  for (const line of exported) {
    assert.ok(line.endsWith('}\n'));
    const record = JSON.parse(line) as { hash: string; prevHash: string };
    const canonical = line.slice(0, line.lastIndexOf(',"hash":')) + '}';
    const hash = createHash('sha256').update(Buffer.from(record.prevHash, 'hex')).update(canonical, 'utf8').digest('hex');
    assert.equal(record.prevHash, prev);
    assert.equal(record.hash, hash);
    prev = hash;
  }
});

test('filters select by time range, identity, action, result and bucket', async () => {
  const store = new InMemoryAuditStore();
  const entries = auditChain(40, (i) => requestFields(i, { timeMs: 1_000 + i }));
  await store.append(entries);
  const seqs = async (filter: Parameters<typeof exportAuditLog>[1]) =>
    (await lines(exportAuditLog(store, filter))).map((line) => (JSON.parse(line) as { seq: number }).seq);
  assert.deepEqual(await seqs({ fromMs: 1_010, toMs: 1_013 }), [11, 12, 13]);
  assert.deepEqual(await seqs({ identity: 'backup-bot', toMs: 1_010 }), [1, 4, 7, 10]);
  assert.deepEqual(await seqs({ action: 'DeleteObject', toMs: 1_020 }), [3, 7, 11, 15, 19]);
  assert.deepEqual(await seqs({ actionPrefix: 'PutObject', toMs: 1_010 }), [2, 4, 6, 8, 10]);
  assert.deepEqual(await seqs({ result: 'denied', toMs: 1_020 }), [1, 6, 11, 16]);
  assert.deepEqual(await seqs({ bucket: 'backups-old', toMs: 1_008 }), [2, 4, 6, 8]);
  assert.deepEqual(await seqs({ bucket: 'back' }), []);
});
