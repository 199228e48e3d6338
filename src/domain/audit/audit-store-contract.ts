import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditEntry } from './audit-entry.js';
import { AuditChainConflict, type AuditFilter, type AuditStore, auditFilterMatches } from './audit-store.js';
import { auditChain, requestFields } from './in-memory-audit-store.test-fixture.js';

/**
 * The AuditStore contract, run against every implementation (in-memory for domain tests,
 * SQLite, later PostgreSQL). `open` must return a fresh, empty store of chain 'node-a'.
 */
export function auditStoreContract(name: string, open: () => Promise<AuditStore>): void {
  const conflict = (e: unknown) => e instanceof AuditChainConflict;
  const collect = async (iterable: AsyncIterable<AuditEntry>) => {
    const found: AuditEntry[] = [];
    for await (const entry of iterable) found.push(entry);
    return found;
  };

  describe(`AuditStore contract: ${name}`, () => {
    test('an empty store has no head and reads nothing', async () => {
      const store = await open();
      assert.equal(store.chain, 'node-a');
      assert.equal(await store.head(), undefined);
      assert.deepEqual(await store.read(1, 10), []);
      assert.deepEqual(await collect(store.scan({})), []);
      await store.close();
    });

    test('appends read back exactly, in seq order, page by page', async () => {
      const store = await open();
      const entries = auditChain(25, (i) =>
        requestFields(i, {
          identity: i === 3 ? 'ünïcødé 🔒 user' : 'alice',
          details: i === 4 ? { retainUntil: '2040-01-01', days: 30, bypass: true, note: null, '10': 'integer-like key' } : undefined,
          versionId: i === 5 ? 'v-123' : undefined,
          status: i === 6 ? undefined : 200,
        }),
      );
      // The second batch is big enough for a store to write it in multi-row statements.
      await store.append(entries.slice(0, 2));
      await store.append(entries.slice(2));
      assert.deepEqual(await store.head(), { seq: 25, hash: entries[24]!.hash });
      assert.deepEqual(await store.read(1, 100), entries);
      assert.deepEqual(await store.read(11, 5), entries.slice(10, 15));
      assert.deepEqual(await store.read(26, 5), []);
      await store.close();
    });

    test('an append that does not continue the chain is refused whole', async () => {
      const store = await open();
      const entries = auditChain(6, (i) => requestFields(i));
      await assert.rejects(store.append(entries.slice(1, 3)), conflict, 'must start at seq 1');
      await store.append(entries.slice(0, 2));
      await assert.rejects(store.append(entries.slice(3, 5)), conflict, 'skips seq 3');
      const forked = auditChain(4, (i) => requestFields(i + 100));
      await assert.rejects(store.append([entries[2]!, { ...forked[3]!, seq: 4 }]), conflict, 'second entry does not link to the first');
      assert.deepEqual(await store.head(), { seq: 2, hash: entries[1]!.hash });
      assert.equal((await store.read(1, 10)).length, 2);
      await store.close();
    });

    test('re-appending stored entries is harmless; a different entry at a stored seq is a conflict', async () => {
      const store = await open();
      const entries = auditChain(5, (i) => requestFields(i));
      await store.append(entries.slice(0, 3));
      await store.append(entries.slice(0, 3));
      await store.append(entries.slice(1, 5));
      assert.deepEqual(await store.read(1, 10), entries);
      const other = auditChain(5, (i) => requestFields(i + 1));
      await assert.rejects(store.append(other.slice(0, 1)), conflict);
      assert.deepEqual(await store.read(1, 10), entries);
      await store.close();
    });

    test('scan applies every filter as auditFilterMatches does, across many pages', async () => {
      const store = await open();
      const entries = auditChain(1_500, (i) =>
        requestFields(i, {
          timeMs: 1_900_000_000_000 + i * 1000,
          action: ['GetObject', 'PutObject', 'admin:SetRetentionBounds', 'admin%_x', 'adminX', 'Admin:Other'][i % 6]!,
          resource: ['backups', 'backups/k', 'backups-old/k', 'backupsX', ''][i % 5]!,
        }),
      );
      for (let i = 0; i < entries.length; i += 500) await store.append(entries.slice(i, i + 500));
      const filters: AuditFilter[] = [
        {},
        { fromMs: 1_900_000_100_000, toMs: 1_900_000_200_000 },
        { fromMs: 1_900_001_000_000 },
        { toMs: 1_900_000_000_001 },
        { identity: 'backup-bot' },
        { action: 'PutObject' },
        { actionPrefix: 'admin:' },
        { actionPrefix: 'admin%' },
        { actionPrefix: 'admin_' },
        { actionPrefix: 'Get' },
        { result: 'denied' },
        { bucket: 'backups' },
        { bucket: 'backups', result: 'allowed', actionPrefix: 'admin', fromMs: 1_900_000_300_000 },
        { identity: 'nobody' },
      ];
      for (const filter of filters) {
        const expected = entries.filter((e) => auditFilterMatches(filter, e)).map((e) => e.seq);
        const found = (await collect(store.scan(filter))).map((e) => e.seq);
        assert.deepEqual(found, expected, JSON.stringify(filter));
      }
      await store.close();
    });

    test('a slow scan does not block appends', async () => {
      const store = await open();
      const entries = auditChain(1_200, (i) => requestFields(i));
      await store.append(entries.slice(0, 1_100));
      const seen: number[] = [];
      for await (const entry of store.scan({})) {
        seen.push(entry.seq);
        if (seen.length === 1) await store.append(entries.slice(1_100));
      }
      assert.ok(seen.length >= 1_100);
      assert.deepEqual(await store.head(), { seq: 1_200, hash: entries[1_199]!.hash });
      await store.close();
    });
  });
}
