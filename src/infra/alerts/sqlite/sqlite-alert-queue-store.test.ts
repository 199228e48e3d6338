import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { alertQueueStoreContract } from '../../../domain/alerts/alert-queue-store-contract.js';
import type { SecurityAlert } from '../../../domain/alerts/security-alert.js';
import { SqliteAlertQueueStore } from './sqlite-alert-queue-store.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-alert-queue-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

alertQueueStoreContract('SQLite', async () => new SqliteAlertQueueStore(join(root, `store-${n++}`, 'alerts.sqlite')));

test('SQLite: queued alerts, attempts and totals survive reopening the file; the directory is owner-only', async () => {
  const path = join(root, 'reopen', 'metadata', 'alerts.sqlite');
  const alert = (i: number): SecurityAlert => ({
    id: `a${i}`,
    rule: 'clock-anomaly',
    severity: 'critical',
    title: `t${i}`,
    summary: 's',
    atMs: 1_000 + i,
    details: {},
    occurrences: 1,
    lastAtMs: 1_000 + i,
  });
  const store = new SqliteAlertQueueStore(path);
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => store.enqueue(`fp${i}`, () => ({ kind: 'insert', alert: alert(i), channels: ['hook'], dueMs: 1_000 + i, quietUntilMs: 2_000 }))),
  );
  await store.markFailed('a0', 'hook', { atMs: 1_100, nextAttemptMs: 1_500, error: 'refused' });
  await store.markDelivered('a1', 'hook', 1_100);
  await store.close();

  const reopened = new SqliteAlertQueueStore(path);
  const due = await reopened.due(10_000, 100, ['hook']);
  assert.equal(due.length, 19);
  assert.equal(due.find((d) => d.alert.id === 'a0')?.attempts, 1);
  const stats = await reopened.stats(10_000);
  assert.deepEqual([stats.pending, stats.delivered, stats.failedAttempts], [19, 1, 1]);
  await reopened.close();
  assert.equal(statSync(join(root, 'reopen', 'metadata')).mode & 0o777, 0o700);
});
