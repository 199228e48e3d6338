import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AdminClient } from '../cli/admin-client.js';
import { loadServerConfig } from '../config/server-config.js';
import { Secret } from '../domain/secret.js';
import { ManualClock } from '../infra/clock.js';
import { eventually, startWebhookReceiver } from '../infra/alerts/receivers.test-fixture.js';
import { startVaultServer } from './vault-server.js';

/**
 * The review calendar inside a running server with an injected clock: after the first baseline
 * is approved, the quarterly reviews become due and then overdue, and the server's periodic check
 * alerts through the vault's alert channels (a real local webhook), once per due date.
 *
 * The clock starts at the real time because admin requests are SigV4-signed with the real time
 * and the server refuses skewed signatures: every request is made before the clock is moved.
 * That a sign-off clears an overdue review is proven in config-guard.test.ts (same store and
 * domain, manual clock).
 */
const root = mkdtempSync(join(tmpdir(), 'holdfast-review-calendar-'));
after(() => rmSync(root, { recursive: true, force: true }));
const DAY = 86_400_000;
const ROOT_ID = 'HFREVIEWCALENDARROOT';
const ROOT_SECRET = 'review-calendar-root-secret-0123456789abcdef';

interface Delivered {
  rule: string;
  title: string;
  details: Record<string, unknown>;
}

test('quarterly reviews become due, then overdue; the periodic check alerts each once through the webhook', { timeout: 60_000 }, async () => {
  const webhook = await startWebhookReceiver();
  after(() => webhook.close());
  const clock = new ManualClock(Date.now());
  const env = {
    HOLDFAST_ROOT_ACCESS_KEY_ID: ROOT_ID,
    HOLDFAST_ROOT_SECRET_ACCESS_KEY: ROOT_SECRET,
    HOLDFAST_ALERT_SIEM_SECRET: 'webhook-secret-for-the-review-test',
  };
  const config = loadServerConfig({
    flags: { data: join(root, 'data'), listen: '127.0.0.1:0' },
    env: {
      HOLDFAST_ALERT_CHANNELS: JSON.stringify([{ kind: 'webhook', name: 'siem', url: webhook.url, format: 'json' }]),
      HOLDFAST_REVIEW_CHECK_SECONDS: '1',
      // The test moves the clock by months; the retention clock would otherwise (rightly) pause expiry.
      HOLDFAST_CLOCK_JUMP_TOLERANCE_HOURS: String(24 * 365),
      HOLDFAST_AUDIT_LOG_STREAM: 'none',
    },
    configFile: undefined,
  });
  const log = { info: () => undefined, error: () => undefined };
  const server = await startVaultServer(config, env, clock, log);
  after(() => server.close());
  const rootClient = new AdminClient(new URL(server.url), { accessKeyId: ROOT_ID, secretAccessKey: new Secret(ROOT_SECRET) });
  const clientFor = async (name: string) => {
    await rootClient.call('POST', 'users', { name, roles: ['admin'] });
    const key = (await rootClient.call('POST', `users/${name}/keys`, {})) as { accessKeyId: string; secretAccessKey: string };
    return new AdminClient(new URL(server.url), { accessKeyId: key.accessKeyId, secretAccessKey: new Secret(key.secretAccessKey) });
  };
  const alice = await clientFor('alice');
  const bob = await clientFor('bob');

  const reviews = async () => ((await alice.call('GET', 'config/reviews')) as { reviews: { component: string; status: string; dueAt: string | null }[] }).reviews;
  assert.ok((await reviews()).every((r) => r.status === 'not-scheduled'), 'nothing is scheduled before a baseline is approved');
  const items = [{ component: 'network', resourceId: 'aws_security_group.web', kind: 'security_group', source: 'main.tfstate', attributes: { ingress: [] } }];
  const baseline = (await alice.call('POST', 'config/baselines', { format: 'holdfast-config-items/1', collectedAt: new Date(clock.nowMs()).toISOString(), inputs: [], items })) as { id: string };
  await bob.call('POST', `config/baselines/${baseline.id}/approve`, {});
  const approvedMs = clock.nowMs();
  const network = (await reviews()).find((r) => r.component === 'network')!;
  assert.equal(network.status, 'ok');
  const dueMs = Date.parse(network.dueAt!);
  assert.ok(dueMs > approvedMs + 88 * DAY && dueMs < approvedMs + 93 * DAY, `a quarterly review is due three calendar months on (${network.dueAt})`);

  const overdueAlerts = () => webhook.requests.map((r) => (JSON.parse(r.body) as { alert: Delivered }).alert).filter((a) => a.rule === 'config-review-overdue');
  // (The "due" window before the date is covered by review-calendar.test.ts.) Now overdue: the next periodic check alerts network, storage and iam (quarterly), not the annual ones.
  clock.set(dueMs + DAY);
  await eventually('the webhook receives the three overdue-review alerts', () => overdueAlerts().length >= 3, 30_000);
  assert.deepEqual(overdueAlerts().map((a) => a.details['component']).sort(), ['iam', 'network', 'storage']);
  assert.match(overdueAlerts().find((a) => a.details['component'] === 'network')!.title, /network configuration review is overdue/);
  // Later checks do not alert again for the same due date.
  const deliveredBefore = overdueAlerts().length;
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  assert.equal(overdueAlerts().length, deliveredBefore);
});
