import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AlertQueueStore } from './alert-queue-store.js';
import { type CoalescingState, decideQueueing } from './coalescing.js';
import type { SecurityAlert } from './security-alert.js';

/**
 * The AlertQueueStore contract, run against every implementation (SQLite now, PostgreSQL for
 * the scale-out deployment). `open` must return a fresh, empty store each time.
 */
export function alertQueueStoreContract(name: string, open: () => Promise<AlertQueueStore>): void {
  let n = 0;
  const alert = (atMs: number, overrides: Partial<SecurityAlert> = {}): SecurityAlert => ({
    id: `alert-${++n}`,
    rule: 'locked-delete-denied',
    severity: 'warning',
    title: 'Denied delete',
    summary: 'Someone tried.',
    atMs,
    subject: { identity: 'alice', bucket: 'b', key: 'k' },
    details: { protection: 'COMPLIANCE', count: 3, bypass: false, none: null },
    occurrences: 1,
    lastAtMs: atMs,
    ...overrides,
  });
  const insert = (a: SecurityAlert, channels: string[], dueMs = a.atMs, quietUntilMs = dueMs + 1_000) => () =>
    ({ kind: 'insert', alert: a, channels, dueMs, quietUntilMs }) as const;

  describe(`AlertQueueStore contract: ${name}`, () => {
    test('an enqueued alert is due once per channel, round-trips unchanged, and not before its time', async () => {
      const store = await open();
      const a = alert(1_000);
      await store.enqueue('fp-a', insert(a, ['hook', 'mail'], 2_000));
      assert.deepEqual(await store.due(1_999, 10, ['hook', 'mail']), []);
      const due = await store.due(2_000, 10, ['hook', 'mail']);
      assert.deepEqual(
        due.map((d) => [d.channel, d.attempts, d.firstDueMs, d.lastError]),
        [['hook', 0, 2_000, undefined], ['mail', 0, 2_000, undefined]],
      );
      assert.deepEqual(due[0]!.alert, a);
      assert.equal(await store.nextDueMs(['hook', 'mail']), 2_000);
      await store.close();
    });

    test('due filters by channel, orders by next attempt then enqueue order, and honours the limit', async () => {
      const store = await open();
      const [a, b, c] = [alert(300), alert(100), alert(200)];
      for (const x of [a, b, c]) await store.enqueue(`fp-${x.id}`, insert(x, ['hook', 'log']));
      const hook = await store.due(1_000, 10, ['hook']);
      assert.deepEqual(hook.map((d) => d.alert.id), [b.id, c.id, a.id]);
      assert.ok(hook.every((d) => d.channel === 'hook'));
      assert.equal((await store.due(1_000, 2, ['hook', 'log'])).length, 2);
      assert.deepEqual(await store.due(1_000, 10, []), []);
      assert.deepEqual(await store.due(1_000, 10, ['gone']), []);
      assert.equal(await store.nextDueMs(['gone']), undefined);
      assert.equal(await store.nextDueMs(['log']), 100);
      await store.close();
    });

    test('markDelivered removes a delivery for good and counts it once', async () => {
      const store = await open();
      const a = alert(100);
      await store.enqueue('fp', insert(a, ['hook', 'mail']));
      await store.markDelivered(a.id, 'hook', 150);
      await store.markDelivered(a.id, 'hook', 160);
      await store.markDelivered('no-such-alert', 'hook', 160);
      assert.deepEqual((await store.due(10_000, 10, ['hook', 'mail'])).map((d) => d.channel), ['mail']);
      const stats = await store.stats(1_100);
      assert.equal(stats.pending, 1);
      assert.equal(stats.delivered, 1);
      assert.equal(stats.oldestPendingMs, 1_000);
      assert.deepEqual(stats.byChannel['hook'], { pending: 0, delivered: 1, failedAttempts: 0, oldestPendingMs: 0, lastError: undefined });
      await store.close();
    });

    test('markFailed counts the attempt, reschedules, keeps a truncated error; delivered rows ignore it', async () => {
      const store = await open();
      const a = alert(100);
      await store.enqueue('fp', insert(a, ['hook']));
      await store.markFailed(a.id, 'hook', { atMs: 200, nextAttemptMs: 5_000, error: 'connect ECONNREFUSED' });
      await store.markFailed(a.id, 'hook', { atMs: 5_000, nextAttemptMs: 9_000, error: 'x'.repeat(5_000) });
      assert.deepEqual(await store.due(8_999, 10, ['hook']), []);
      const [row] = await store.due(9_000, 10, ['hook']);
      assert.equal(row?.attempts, 2);
      assert.equal(row?.firstDueMs, 100);
      assert.equal(row?.lastError?.length, 1_000);
      assert.equal(await store.nextDueMs(['hook']), 9_000);
      let stats = await store.stats(9_100);
      assert.equal(stats.failedAttempts, 2);
      assert.equal(stats.byChannel['hook']?.lastError?.length, 1_000);
      assert.equal(stats.oldestPendingMs, 9_000);
      await store.markDelivered(a.id, 'hook', 9_500);
      await store.markFailed(a.id, 'hook', { atMs: 9_600, nextAttemptMs: 10_000, error: 'late' });
      stats = await store.stats(10_000);
      assert.deepEqual([stats.pending, stats.delivered, stats.failedAttempts, stats.oldestPendingMs], [0, 1, 2, 0]);
      assert.equal(stats.byChannel['hook']?.lastError, undefined);
      await store.close();
    });

    test('enqueue shows decide the newest alert of the fingerprint; occurrences grow until it starts', async () => {
      const store = await open();
      const seen: Array<CoalescingState | undefined> = [];
      const a = alert(100);
      await store.enqueue('fp', (latest) => (seen.push(latest), insert(a, ['hook'], 100, 700)()));
      const held = alert(150);
      await store.enqueue('fp', (latest) => (seen.push(latest), insert(held, ['hook'], 700, 1_300)()));
      await store.enqueue('fp', (latest) => (seen.push(latest), { kind: 'add-occurrence', alertId: held.id, atMs: 400 }));
      await store.enqueue('fp', (latest) => (seen.push(latest), { kind: 'add-occurrence', alertId: held.id, atMs: 300 }));
      await store.enqueue('other', (latest) => (seen.push(latest), insert(alert(160), ['hook'])()));
      assert.deepEqual(seen, [
        undefined,
        { alertId: a.id, dueMs: 100, quietUntilMs: 700, started: false },
        { alertId: held.id, dueMs: 700, quietUntilMs: 1_300, started: false },
        { alertId: held.id, dueMs: 700, quietUntilMs: 1_300, started: false },
        undefined,
      ]);
      const due = await store.due(700, 10, ['hook']);
      const grown = due.find((d) => d.alert.id === held.id)?.alert;
      assert.equal(grown?.occurrences, 3);
      assert.equal(grown?.lastAtMs, 400);
      assert.equal(grown?.atMs, 150);

      await store.markFailed(held.id, 'hook', { atMs: 700, nextAttemptMs: 800, error: 'down' });
      let state: CoalescingState | undefined;
      await assert.rejects(
        store.enqueue('fp', (latest) => ((state = latest), { kind: 'add-occurrence', alertId: held.id, atMs: 750 })),
      );
      assert.equal(state?.started, true);
      assert.equal((await store.due(800, 10, ['hook'])).find((d) => d.alert.id === held.id)?.alert.occurrences, 3);
      await store.close();
    });

    test('a delivered alert counts as started', async () => {
      const store = await open();
      const a = alert(100);
      await store.enqueue('fp', insert(a, ['hook', 'mail']));
      await store.markDelivered(a.id, 'mail', 110);
      let state: CoalescingState | undefined;
      await store.enqueue('fp', (latest) => ((state = latest), insert(alert(120), ['hook'], 1_100)()));
      assert.equal(state?.started, true);
      await store.close();
    });

    test('concurrent raises of one fingerprint coalesce exactly: one now, one held, every event counted', async () => {
      const store = await open();
      const events = Array.from({ length: 200 }, (_, i) => alert(1_000 + i));
      const decisions = await Promise.all(
        events.map((e) => store.enqueue('storm', (latest) => decideQueueing(latest, e, ['hook'], 60_000))),
      );
      assert.equal(decisions.filter((d) => d.kind === 'insert').length, 2);
      const due = await store.due(200_000, 10, ['hook']);
      assert.deepEqual(due.map((d) => d.firstDueMs), [1_000, 61_000]);
      assert.equal(due[0]!.alert.occurrences + due[1]!.alert.occurrences, 200);
      assert.equal(due[1]!.alert.lastAtMs, 1_199);
      await store.close();
    });

    test('an alert with no channels is kept but never due', async () => {
      const store = await open();
      await store.enqueue('fp', insert(alert(100), []));
      assert.deepEqual(await store.due(10_000, 10, ['hook']), []);
      assert.equal((await store.stats(10_000)).pending, 0);
      await store.close();
    });
  });
}
