import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigGuardConflictError, type ConfigGuardStore } from './config-guard-store.js';

/**
 * The ConfigGuardStore contract (config-guard-store.ts), run against every implementation:
 * SQLite and PostgreSQL. `open` must return a fresh, empty store each time.
 */
export function configGuardStoreContract(name: string, open: () => Promise<ConfigGuardStore>): void {
  describe(`ConfigGuardStore contract: ${name}`, () => {
    test('a record round-trips unchanged at revision 1; a second insert of the id is refused; kinds are separate', async () => {
      const store = await open();
      try {
        const body = { id: 'bl-1', nested: { list: [1, 'two', null, true], unicode: 'Grüße \u2603', nul: 'a\u0000b' }, big: 2 ** 52 };
        await store.insert('baseline', 'bl-1', 1_000, body);
        assert.deepEqual(await store.get('baseline', 'bl-1'), { id: 'bl-1', atMs: 1_000, revision: 1, body });
        await assert.rejects(store.insert('baseline', 'bl-1', 2_000, {}), ConfigGuardConflictError);
        assert.equal(await store.get('change-request', 'bl-1'), undefined);
        await store.insert('change-request', 'bl-1', 3_000, { other: true });
        assert.deepEqual((await store.get('baseline', 'bl-1'))?.body, body);
        assert.equal(await store.get('baseline', 'missing'), undefined);
      } finally {
        await store.close();
      }
    });

    test('update is compare-and-set on the revision: the loser of two updates changes nothing', async () => {
      const store = await open();
      try {
        await store.insert('change-request', 'cr-1', 1_000, { status: 'proposed' });
        assert.equal(await store.update('change-request', 'cr-1', 1, { status: 'approved' }), true);
        assert.equal(await store.update('change-request', 'cr-1', 1, { status: 'rejected' }), false, 'a stale revision must lose');
        assert.deepEqual(await store.get('change-request', 'cr-1'), { id: 'cr-1', atMs: 1_000, revision: 2, body: { status: 'approved' } });
        assert.equal(await store.update('change-request', 'missing', 1, {}), false);
        const results = await Promise.all([store.update('change-request', 'cr-1', 2, { n: 1 }), store.update('change-request', 'cr-1', 2, { n: 2 })]);
        assert.deepEqual(results.sort(), [false, true]);
        assert.equal((await store.get('change-request', 'cr-1'))?.revision, 3);
      } finally {
        await store.close();
      }
    });

    test('list is newest first by time then id, bounded by limit, per kind', async () => {
      const store = await open();
      try {
        await store.insert('drift-check', 'a', 2_000, { n: 'a' });
        await store.insert('drift-check', 'c', 1_000, { n: 'c' });
        await store.insert('drift-check', 'b', 2_000, { n: 'b' });
        await store.insert('review-sign-off', 'z', 9_000, {});
        assert.deepEqual((await store.list('drift-check')).map((r) => r.id), ['b', 'a', 'c']);
        assert.deepEqual((await store.list('drift-check', { limit: 2 })).map((r) => r.id), ['b', 'a']);
        assert.deepEqual(await store.list('baseline'), []);
      } finally {
        await store.close();
      }
    });

    test('markSeen keeps first-seen times across calls, adds new keys, and forgets keys no longer given (per scope)', async () => {
      const store = await open();
      try {
        const first = await store.markSeen('drift:bl-1', ['network/sg', 'dns/www'], 1_000);
        assert.deepEqual([...first.entries()].sort(), [['dns/www', { firstSeenMs: 1_000, isNew: true }], ['network/sg', { firstSeenMs: 1_000, isNew: true }]]);
        await store.markSeen('drift:bl-2', ['network/sg'], 1_500);
        const second = await store.markSeen('drift:bl-1', ['network/sg', 'storage/b'], 2_000);
        assert.deepEqual(second.get('network/sg'), { firstSeenMs: 1_000, isNew: false });
        assert.deepEqual(second.get('storage/b'), { firstSeenMs: 2_000, isNew: true });
        assert.equal(second.has('dns/www'), false);
        // dns/www was forgotten: when it drifts again it is new again.
        assert.deepEqual((await store.markSeen('drift:bl-1', ['dns/www'], 3_000)).get('dns/www'), { firstSeenMs: 3_000, isNew: true });
        assert.deepEqual((await store.markSeen('drift:bl-2', ['network/sg'], 4_000)).get('network/sg'), { firstSeenMs: 1_500, isNew: false });
        assert.equal((await store.markSeen('drift:bl-1', [], 5_000)).size, 0);
        assert.deepEqual((await store.markSeen('drift:bl-1', ['network/sg'], 6_000)).get('network/sg'), { firstSeenMs: 6_000, isNew: true });
      } finally {
        await store.close();
      }
    });
  });
}
