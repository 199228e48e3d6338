import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LogChannel } from '../../infra/alerts/channels/log-channel.js';
import { SqliteAlertQueueStore } from '../../infra/alerts/sqlite/sqlite-alert-queue-store.js';
import { ManualClock } from '../../infra/clock.js';
import { Alerts, type AlertsOptions } from './alerts.js';
import type { SecurityAlert } from './security-alert.js';
import { securityAlerts } from './security-alerts.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-alerts-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const T0 = Date.UTC(2031, 0, 2, 3, 4, 5);
const MIN = 60_000;

/** A log channel that records the alerts it wrote; `broken` makes its writer throw. */
function recordingChannel(name: string) {
  const state = { broken: false, attempts: [] as SecurityAlert[], written: [] as SecurityAlert[] };
  const channel = new LogChannel(name, (line) => {
    const alert = JSON.parse(line) as SecurityAlert;
    state.attempts.push(alert);
    if (state.broken) throw new Error('disk full');
    state.written.push(alert);
  });
  return { channel, state };
}

function setUp(names: string[], options: Partial<AlertsOptions> = {}) {
  const path = join(root, `q${n++}`, 'alerts.sqlite');
  const store = new SqliteAlertQueueStore(path);
  const clock = new ManualClock(T0);
  const channels = names.map(recordingChannel);
  const alerts = new Alerts({ store, clock, channels: channels.map((c) => c.channel), random: () => 0, ...options });
  return { path, store, clock, alerts, channels: Object.fromEntries(names.map((name, i) => [name, channels[i]!.state])) };
}

const denied = (key: string, identity = 'mallory') =>
  securityAlerts.lockedDeleteDenied({ identity, accessKeyId: 'AKIDM', sourceIp: '203.0.113.5', bucket: 'ledger', key, versionId: 'v1', protection: 'COMPLIANCE' });

test('raise is on disk before it resolves, and one pass delivers it through every channel once', async () => {
  const { path, store, alerts, channels, clock } = setUp(['mail', 'log']);
  const { alertId, outcome } = await alerts.raise(securityAlerts.rootCredentialUse({ sourceIp: '192.0.2.1', operation: 'PutBucketPolicy' }));
  assert.equal(outcome, 'queued');

  const other = new SqliteAlertQueueStore(path);
  assert.deepEqual((await other.due(T0, 10, ['mail', 'log'])).map((d) => [d.alert.id, d.channel]), [[alertId, 'log'], [alertId, 'mail']]);
  await other.close();

  assert.equal(await alerts.dispatchDue(), 2);
  assert.equal(await alerts.dispatchDue(), 0);
  for (const name of ['mail', 'log']) {
    const [written] = channels[name]!.written;
    assert.equal(channels[name]!.written.length, 1);
    assert.deepEqual(
      { id: written?.id, rule: written?.rule, severity: written?.severity, atMs: written?.atMs, occurrences: written?.occurrences, subject: written?.subject },
      { id: alertId, rule: 'root-credential-use', severity: 'critical', atMs: T0, occurrences: 1, subject: { sourceIp: '192.0.2.1' } },
    );
  }
  clock.advance(MIN);
  const stats = await alerts.stats();
  assert.deepEqual([stats.pending, stats.delivered, stats.failedAttempts, stats.oldestPendingMs, stats.failingChannels], [0, 2, 0, 0, []]);
  await alerts.close();
  await assert.rejects(alerts.raise(denied('k')), /closed/);
  await store.close();
});

test('coalescing: a loop of 1,000 denied deletes sends one alert now and one summary per 10-minute window', async () => {
  const { store, alerts, channels, clock } = setUp(['mail']);
  const written = channels['mail']!.written;
  const results = await Promise.all(Array.from({ length: 1_000 }, (_, i) => alerts.raise(denied(`ledger/${i}.csv`))));
  assert.deepEqual(
    ['queued', 'held', 'coalesced'].map((o) => results.filter((r) => r.outcome === o).length),
    [1, 1, 998],
  );
  // Someone else, same bucket: a different story, not coalesced.
  assert.equal((await alerts.raise(denied('ledger/x.csv', 'trudy'))).outcome, 'queued');
  await alerts.dispatchDue();
  assert.deepEqual(written.map((a) => [a.subject?.identity, a.occurrences]), [['mallory', 1], ['trudy', 1]]);

  clock.advance(10 * MIN - 1);
  await alerts.dispatchDue();
  assert.equal(written.length, 2, 'the summary waits for the end of the window');
  clock.advance(1);
  await alerts.dispatchDue();
  assert.equal(written.length, 3);
  assert.equal(written[2]!.occurrences, 999);
  assert.equal(written[2]!.lastAtMs, T0);

  // The loop goes on: the next window's events become the next summary, 10 minutes later.
  clock.advance(MIN);
  for (let i = 0; i < 5; i++) await alerts.raise(denied(`ledger/again-${i}.csv`));
  await alerts.dispatchDue();
  assert.equal(written.length, 3);
  clock.advance(9 * MIN);
  await alerts.dispatchDue();
  assert.deepEqual([written.length, written[3]?.occurrences], [4, 5]);

  // After a whole quiet window, the next event goes out at once again.
  clock.advance(20 * MIN);
  assert.equal((await alerts.raise(denied('ledger/late.csv'))).outcome, 'queued');
  await alerts.dispatchDue();
  assert.deepEqual([written.length, written[4]?.occurrences], [5, 1]);
  await alerts.close();
  await store.close();
});

test('coalesceWindowMs 0 turns coalescing off', async () => {
  const { store, alerts, channels } = setUp(['mail'], { coalesceWindowMs: 0 });
  for (let i = 0; i < 3; i++) assert.equal((await alerts.raise(denied('k'))).outcome, 'queued');
  await alerts.dispatchDue();
  assert.equal(channels['mail']!.written.length, 3);
  await alerts.close();
  await store.close();
});

test('a failing channel backs off, then raises ONE alert-delivery-failing through the other channels only', async () => {
  const { store, alerts, channels, clock } = setUp(['bad', 'good'], { failingAfterAttempts: 3 });
  const bad = channels['bad']!;
  const good = channels['good']!;
  bad.broken = true;
  const { alertId } = await alerts.raise(securityAlerts.auditChainBroken({ position: 'entry 41', reason: 'hash mismatch' }));
  await alerts.dispatchDue();
  assert.deepEqual([bad.attempts.length, good.written.length], [1, 1]);

  // Backoff with random() = 0: the half-delay, 2.5 s after the first failure, then 5 s.
  clock.advance(2_499);
  await alerts.dispatchDue();
  assert.equal(bad.attempts.length, 1, 'cooling down: not tried again yet');
  clock.advance(1);
  await alerts.dispatchDue();
  assert.equal(bad.attempts.length, 2);
  assert.deepEqual((await alerts.stats()).failingChannels, []);
  clock.advance(5_000);
  await alerts.dispatchDue();
  assert.equal(bad.attempts.length, 3);

  const stats = await alerts.stats();
  assert.deepEqual(stats.failingChannels, ['bad']);
  assert.deepEqual(
    [stats.byChannel['bad']?.pending, stats.byChannel['bad']?.failedAttempts, stats.byChannel['bad']?.lastError, stats.byChannel['bad']?.oldestPendingMs],
    [1, 3, 'disk full', 7_500],
  );
  await alerts.dispatchDue();
  const failing = good.written.filter((a) => a.rule === 'alert-delivery-failing');
  assert.equal(failing.length, 1);
  assert.equal(failing[0]!.details['channel'], 'bad');
  assert.equal(failing[0]!.details['lastError'], 'disk full');

  // More failures do not raise it again; the failing channel never carries it.
  for (let i = 0; i < 4; i++) {
    clock.advance(15 * MIN);
    await alerts.dispatchDue();
  }
  assert.equal(good.written.filter((a) => a.rule === 'alert-delivery-failing').length, 1);
  assert.ok(bad.attempts.every((a) => a.rule !== 'alert-delivery-failing'));

  // The receiver recovers: the queued alert is delivered and the channel is no longer failing.
  bad.broken = false;
  clock.advance(15 * MIN);
  await alerts.dispatchDue();
  assert.deepEqual(bad.written.map((a) => a.id), [alertId]);
  const after = await alerts.stats();
  assert.deepEqual([after.pending, after.failingChannels, after.byChannel['bad']?.failedAttempts], [0, [], 7]);
  await alerts.close();
  await store.close();
});

test('a delivery waiting longer than failingAfterMs also marks its channel failing', async () => {
  const { store, alerts, channels, clock } = setUp(['bad', 'good'], { failingAfterAttempts: 100, failingAfterMs: 10 * MIN });
  channels['bad']!.broken = true;
  await alerts.raise(securityAlerts.clockAnomaly({ wallMs: T0 + 86_400_000, trustedMs: T0 }));
  await alerts.dispatchDue();
  assert.deepEqual((await alerts.stats()).failingChannels, []);
  clock.advance(10 * MIN);
  await alerts.dispatchDue();
  assert.deepEqual((await alerts.stats()).failingChannels, ['bad']);
  await alerts.close();
  await store.close();
});

test('channel names must be unique', () => {
  const store = new SqliteAlertQueueStore(join(root, `q${n++}`, 'alerts.sqlite'));
  const log = new LogChannel('log', () => undefined);
  assert.throws(() => new Alerts({ store, clock: new ManualClock(T0), channels: [log, log] }), /named "log"/);
  return store.close();
});

test('in the background loop, a receiver that hangs holds back only its own channel', async () => {
  const path = join(root, `q${n++}`, 'alerts.sqlite');
  const store = new SqliteAlertQueueStore(path);
  const log = recordingChannel('log');
  let release: () => void = () => undefined;
  const hung: SecurityAlert[] = [];
  // An SMTP server that accepts the connection and never greets: bounded only by its timeout.
  const smtp = { name: 'smtp', deliver: (alert: SecurityAlert) => new Promise<void>((resolve) => ((release = resolve), hung.push(alert))) };
  const alerts = new Alerts({ store, clock: new ManualClock(T0), channels: [smtp, log.channel], random: () => 0, maxIdleMs: 60_000 });
  alerts.start();
  const waitFor = async (what: string, condition: () => boolean) => {
    for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(condition(), what);
  };
  await alerts.raise(securityAlerts.rootCredentialUse({ sourceIp: '192.0.2.1', operation: 'PutBucketPolicy' }));
  await waitFor('the first alert reaches both channels', () => log.state.written.length === 1 && hung.length === 1);
  // The smtp delivery is still hanging; a second alert must still reach the log at once.
  await alerts.raise(denied('invoice-7'));
  await waitFor('the second alert reaches the log while smtp hangs', () => log.state.written.length === 2);
  assert.equal(hung.length, 1, 'smtp is not sent a second delivery while its first is in flight');
  release();
  await waitFor('smtp gets the second alert once its first delivery finished', () => hung.length === 2);
  release();
  await alerts.close();
  await store.close();
});
