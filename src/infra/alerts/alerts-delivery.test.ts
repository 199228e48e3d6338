import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Alerts } from '../../domain/alerts/alerts.js';
import type { SecurityAlert } from '../../domain/alerts/security-alert.js';
import { securityAlerts } from '../../domain/alerts/security-alerts.js';
import { Secret } from '../../domain/secret.js';
import { systemClock } from '../clock.js';
import { type WebhookAlertBody, WebhookChannel } from './channels/webhook-channel.js';
import { verifyWebhookSignature } from './channels/webhook-signature.js';
import { SmtpChannel } from './channels/smtp-channel.js';
import { eventually, freePort, type ReceivedRequest, startSmtpReceiver, startWebhookReceiver } from './receivers.test-fixture.js';
import { SqliteAlertQueueStore } from './sqlite/sqlite-alert-queue-store.js';

/**
 * End to end, with the real dispatcher loop, real sockets and real receivers: what the issue
 * asks to see proven.
 */
const root = mkdtempSync(join(tmpdir(), 'holdfast-alert-delivery-'));
after(() => rmSync(root, { recursive: true, force: true }));
const SECRET = 'test-signing-secret-0123456789';
const fastRetry = { baseDelayMs: 20, maxDelayMs: 200 };

const alertOf = (request: ReceivedRequest) => (JSON.parse(request.body) as WebhookAlertBody).alert;
const countIds = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>());
const raiseDistinct = (alerts: Alerts, count: number) =>
  Promise.all(
    Array.from({ length: count }, (_, i) =>
      alerts.raise(securityAlerts.accessKeyCreated({ identity: 'admin', newAccessKeyId: `AKIDNEW${i}`, forIdentity: `svc-${i}` })),
    ),
  );

test('alerts raised while both receivers are down survive a restart and arrive exactly once each', async () => {
  const path = join(root, 'restart', 'metadata', 'alerts.sqlite');
  const [hookPort, smtpPort] = [await freePort(), await freePort()];
  const channels = () => [
    new WebhookChannel({ name: 'hook', url: `http://127.0.0.1:${hookPort}/alerts`, secret: new Secret(SECRET), timeoutMs: 2_000, clock: systemClock }),
    new SmtpChannel({ name: 'mail', host: '127.0.0.1', port: smtpPort, startTls: 'opportunistic', from: 'holdfast@vault.example', to: ['oncall@example.org'], timeoutMs: 2_000 }),
  ];
  const options = { clock: systemClock, retry: fastRetry, failingAfterAttempts: 1_000, failingAfterMs: 3_600_000 };

  // First life: nobody listens.
  let store = new SqliteAlertQueueStore(path);
  let alerts = new Alerts({ ...options, store, channels: channels() });
  alerts.start();
  const raised = (await raiseDistinct(alerts, 6)).map((r) => r.alertId);
  await eventually('both channels to have failed', async () => {
    const stats = await alerts.stats();
    return (stats.byChannel['hook']?.failedAttempts ?? 0) >= 2 && (stats.byChannel['mail']?.failedAttempts ?? 0) >= 2;
  });
  await alerts.close();
  await store.close();

  // Second life: a new store on the same file, a new service; then the receivers come up.
  store = new SqliteAlertQueueStore(path);
  alerts = new Alerts({ ...options, store, channels: channels() });
  assert.equal((await alerts.stats()).pending, 12);
  alerts.start();
  const hook = await startWebhookReceiver({ port: hookPort });
  const mail = await startSmtpReceiver({ port: smtpPort });
  try {
    await eventually('every alert on both channels', async () => (await alerts.stats()).pending === 0);
    // Give a duplicate, if there were one, the time to show up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const hookIds = countIds(hook.requests.map((r) => alertOf(r).id));
    const mailIds = countIds(mail.messages.map((m) => m.headers.get('x-holdfast-alert-id') ?? ''));
    assert.deepEqual([...hookIds.keys()].sort(), [...raised].sort());
    assert.deepEqual([...mailIds.keys()].sort(), [...raised].sort());
    assert.ok([...hookIds.values(), ...mailIds.values()].every((count) => count === 1), 'each exactly once');
    for (const request of hook.requests) {
      assert.ok(verifyWebhookSignature({ header: request.headers['x-holdfast-signature'], body: request.body, secret: SECRET, nowMs: Date.now() }));
    }
    const stats = await alerts.stats();
    assert.equal(stats.delivered, 12);
    assert.ok(stats.failedAttempts >= 4);
  } finally {
    await alerts.close();
    await store.close();
    await hook.close();
    await mail.close();
  }
});

test('a webhook answering 500 is retried with backoff until it answers 200', async () => {
  const store = new SqliteAlertQueueStore(join(root, 'retry', 'alerts.sqlite'));
  const hook = await startWebhookReceiver();
  hook.respondWith((n) => (n <= 2 ? 500 : 200));
  const alerts = new Alerts({
    store,
    clock: systemClock,
    retry: fastRetry,
    channels: [new WebhookChannel({ name: 'hook', url: hook.url, secret: new Secret(SECRET), clock: systemClock })],
  });
  alerts.start();
  try {
    const { alertId } = await alerts.raise(securityAlerts.policyChange({ identity: 'admin', policy: 'backup-writer', change: 'added s3:DeleteObject' }));
    await eventually('delivery after two failures', async () => (await alerts.stats()).delivered === 1);
    assert.deepEqual(hook.requests.map((r) => alertOf(r).id), [alertId, alertId, alertId]);
    const stats = await alerts.stats();
    assert.deepEqual([stats.pending, stats.failedAttempts, stats.failingChannels], [0, 2, []]);
  } finally {
    await alerts.close();
    await store.close();
    await hook.close();
  }
});

test('a webhook that keeps failing is reported by email, never through itself, and recovers', async () => {
  const store = new SqliteAlertQueueStore(join(root, 'failing', 'alerts.sqlite'));
  const hook = await startWebhookReceiver();
  hook.respondWith(500);
  const mail = await startSmtpReceiver();
  const alerts = new Alerts({
    store,
    clock: systemClock,
    retry: fastRetry,
    failingAfterAttempts: 3,
    channels: [
      new WebhookChannel({ name: 'hook', url: hook.url, clock: systemClock }),
      new SmtpChannel({ name: 'mail', host: '127.0.0.1', port: mail.port, startTls: 'opportunistic', from: 'h@vault.example', to: ['oncall@example.org'] }),
    ],
  });
  alerts.start();
  try {
    const { alertId } = await alerts.raise(securityAlerts.governanceBypass({ identity: 'ops', bucket: 'payroll', key: 'march.csv', operation: 'delete' }));
    await eventually('the delivery-failing email', () => mail.messages.some((m) => m.headers.get('x-holdfast-rule') === 'alert-delivery-failing'));
    const report = mail.messages.find((m) => m.headers.get('x-holdfast-rule') === 'alert-delivery-failing')!;
    assert.equal(report.headers.get('subject'), '[Holdfast] warning: Alerts cannot be delivered through channel hook');
    assert.match(report.text, /lastError: webhook hook: http:\/\/127\.0\.0\.1:\d+ answered HTTP 500/);
    assert.ok(!report.text.includes('hidden-token'));
    const stats = await alerts.stats();
    assert.deepEqual(stats.failingChannels, ['hook']);
    assert.equal(stats.byChannel['hook']?.pending, 1);
    assert.match(stats.byChannel['hook']?.lastError ?? '', /HTTP 500/);

    hook.respondWith(200);
    await eventually('the webhook to recover', async () => (await alerts.stats()).pending === 0, 5_000);
    const received: SecurityAlert[] = hook.requests.map(alertOf);
    assert.ok(received.every((a) => a.rule !== 'alert-delivery-failing'), 'never through the failing channel');
    assert.equal(received.at(-1)?.id, alertId);
    assert.equal(mail.messages.filter((m) => m.headers.get('x-holdfast-rule') === 'alert-delivery-failing').length, 1);
    assert.deepEqual((await alerts.stats()).failingChannels, []);
  } finally {
    await alerts.close();
    await store.close();
    await hook.close();
    await mail.close();
  }
});
