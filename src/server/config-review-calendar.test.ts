import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, mock, test } from 'node:test';
import { holdfastCli } from '../../test/support/admin-cli.js';
import { runCommand } from '../../test/support/tools.js';
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

/**
 * `holdfast reviews due` and `holdfast reviews sign-off` as an operator runs them (the built CLI,
 * its own process, real time). The first baseline is approved 100 days in the past: the server's
 * clock starts there, and the test process's Date is mocked to the same instant so the in-process
 * admin requests are signed at the time the server believes it is. Then both move to now.
 */
test('holdfast reviews due lists the overdue quarterly reviews (configured frequencies) and exits 4; sign-offs clear them and are audit-logged', { timeout: 90_000 }, async () => {
  const nowMs = Date.now();
  const approvedMs = nowMs - 100 * DAY;
  const clock = new ManualClock(approvedMs);
  const env = { HOLDFAST_ROOT_ACCESS_KEY_ID: ROOT_ID, HOLDFAST_ROOT_SECRET_ACCESS_KEY: ROOT_SECRET };
  const config = loadServerConfig({
    flags: { data: join(root, 'cli-data'), listen: '127.0.0.1:0' },
    // Frequencies are configurable: DNS quarterly too, IAM annual (its default is quarterly).
    env: { HOLDFAST_CLOCK_JUMP_TOLERANCE_HOURS: String(24 * 365), HOLDFAST_AUDIT_LOG_STREAM: 'none', HOLDFAST_REVIEW_FREQUENCIES: JSON.stringify({ dns: 'quarterly', iam: 'annual' }) },
    configFile: undefined,
  });
  mock.timers.enable({ apis: ['Date'], now: approvedMs });
  let server: Awaited<ReturnType<typeof startVaultServer>>;
  const keys = new Map<string, { accessKeyId: string; secretAccessKey: string }>();
  let baselineId: string | undefined;
  try {
    const started = await startVaultServer(config, env, clock, { info: () => undefined, error: () => undefined });
    // Registered as soon as the server exists, so a failure below still closes it, and never
    // before: a start-up that threw leaves nothing to close.
    after(() => started.close());
    server = started;
    const rootClient = new AdminClient(new URL(server.url), { accessKeyId: ROOT_ID, secretAccessKey: new Secret(ROOT_SECRET) });
    for (const name of ['alice', 'bob']) {
      await rootClient.call('POST', 'users', { name, roles: ['admin'] });
      keys.set(name, (await rootClient.call('POST', `users/${name}/keys`, {})) as { accessKeyId: string; secretAccessKey: string });
    }
    const as = (name: string) => new AdminClient(new URL(server.url), { accessKeyId: keys.get(name)!.accessKeyId, secretAccessKey: new Secret(keys.get(name)!.secretAccessKey) });
    const items = [{ component: 'network', resourceId: 'aws_security_group.web', kind: 'security_group', source: 'main.tfstate', attributes: { ingress: [] } }];
    const baseline = (await as('alice').call('POST', 'config/baselines', { format: 'holdfast-config-items/1', collectedAt: new Date(approvedMs).toISOString(), inputs: [], items })) as { id: string };
    await as('bob').call('POST', `config/baselines/${baseline.id}/approve`, {});
    baselineId = baseline.id;
  } finally {
    mock.timers.reset();
  }
  clock.set(Date.now());

  const cli = async (args: string[], expectExitCode: number) => {
    const run = await runCommand(process.execPath, [holdfastCli, ...args, '--endpoint', server.url], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: keys.get('alice')!.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.get('alice')!.secretAccessKey, HOLDFAST_ENDPOINT: '' },
      expectExitCode,
      timeoutMs: 30_000,
    });
    return run.stdout;
  };
  type Due = { reviews: { component: string; status: string; dueAt: string | null; lastReview: { kind: string; at: string; by: string } | null }[]; overdue: number };

  // Approved 100 days ago: network, dns and storage (quarterly) are overdue; the annual ones (iam as configured) are not due.
  const due = JSON.parse(await cli(['reviews', 'due', '--json'], 4)) as Due;
  assert.deepEqual(due.reviews.map((r) => [r.component, r.status, r.lastReview?.kind, r.lastReview?.by]), [['network', 'overdue', 'first-baseline', 'bob'], ['dns', 'overdue', 'first-baseline', 'bob'], ['storage', 'overdue', 'first-baseline', 'bob']]);
  assert.equal(due.overdue, 3);
  assert.match(await cli(['reviews', 'due'], 4), /^network\tOVERDUE\tevery 3 month\(s\)\tdue \S+\tfirst baseline \S+ by bob$/m);

  // A sign-off records who reviewed what, when, with notes, as locked evidence; it restarts the period.
  const signOff = JSON.parse(await cli(['reviews', 'sign-off', 'network', '--notes', 'security groups and NACLs checked against the baseline', '--json'], 0)) as { component: string; signedBy: string; signedAt: string; notes: string; baselineId: string; evidence: { location: string } };
  assert.deepEqual([signOff.component, signOff.signedBy, signOff.notes, signOff.baselineId], ['network', 'alice', 'security groups and NACLs checked against the baseline', baselineId]);
  assert.ok(Math.abs(Date.parse(signOff.signedAt) - clock.nowMs()) < 1000, signOff.signedAt);
  assert.match(signOff.evidence.location, /^s3:\/\/holdfast-system-evidence\/config-review-sign-offs\//);
  const afterOne = JSON.parse(await cli(['reviews', 'due', '--all', '--json'], 4)) as Due;
  const network = afterOne.reviews.find((r) => r.component === 'network')!;
  assert.deepEqual([network.status, network.lastReview?.kind, network.lastReview?.by], ['ok', 'sign-off', 'alice']);
  assert.equal(afterOne.overdue, 2);

  for (const component of ['dns', 'storage']) await cli(['reviews', 'sign-off', component, '--notes', `${component} reviewed`], 0);
  assert.equal(await cli(['reviews', 'due'], 0), 'No configuration review is due.\n');
  const audit = (await cli(['audit', 'export', '--action', 'config:config-review'], 0)).split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as { identity: string; action: string; resource: string; details: { notes?: string } });
  assert.deepEqual(audit.map((e) => `${e.identity} ${e.action} ${e.resource}`), ['alice config:config-review-signed-off config-review/network', 'alice config:config-review-signed-off config-review/dns', 'alice config:config-review-signed-off config-review/storage']);
  assert.equal(audit[0]!.details.notes, 'security groups and NACLs checked against the baseline');
});
