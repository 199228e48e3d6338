import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateBucketCommand, PutObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { verifyWebhookSignature } from '../../src/infra/alerts/channels/webhook-signature.js';
import { type SmtpReceiver, type WebhookReceiver, eventually, freePort, startSmtpReceiver, startWebhookReceiver } from '../../src/infra/alerts/receivers.test-fixture.js';
import { clientFor, rootKey } from '../support/admin-cli.js';
import { type RunningVault, randomCredentials, startVault } from '../support/vault-server.js';

/**
 * "Any attempt to modify Object Lock configuration triggers a security alert": delivered to a
 * real local webhook receiver (HMAC-signed) and a real local SMTP server, durably — the alert is
 * raised while both receivers are down, survives a server restart, and arrives once they are up.
 */
const root = randomCredentials();
const SECRET = 'webhook-signing-secret-for-the-test';
let dataDir: string;
let vault: RunningVault | undefined;
let webhook: WebhookReceiver | undefined;
let smtp: SmtpReceiver | undefined;

after(async () => {
  await vault?.stop();
  await webhook?.close();
  await smtp?.close();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

interface DeliveredAlert {
  id: string;
  rule: string;
  severity: string;
  title: string;
  summary: string;
  subject?: { bucket?: string; identity?: string };
}

test('an Object Lock change raised while the receivers are down is delivered by webhook and email after a restart', { timeout: 120_000 }, async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'holdfast-alerts-'));
  const webhookPort = await freePort();
  const smtpPort = await freePort();
  const configFile = join(dataDir, 'holdfast.json');
  await writeFile(
    configFile,
    JSON.stringify({
      alertChannels: [
        { kind: 'webhook', name: 'siem', url: `http://127.0.0.1:${webhookPort}/hooks/holdfast`, format: 'json' },
        { kind: 'smtp', name: 'oncall', host: '127.0.0.1', port: smtpPort, startTls: 'opportunistic', from: 'holdfast@example.test', to: ['oncall@example.test'] },
      ],
    }),
  );
  const env = {
    HOLDFAST_ROOT_ACCESS_KEY_ID: root.accessKeyId,
    HOLDFAST_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey,
    HOLDFAST_CONFIG: configFile,
    // The webhook secret comes from the environment, never from the file.
    HOLDFAST_ALERT_SIEM_SECRET: SECRET,
    HOLDFAST_AUDIT_LOG_STREAM: 'none',
  };
  vault = await startVault({ dataDir: join(dataDir, 'data'), env });
  const s3 = clientFor(vault, rootKey(vault));
  await s3.send(new CreateBucketCommand({ Bucket: 'alerted', ObjectLockEnabledForBucket: true }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'alerted',
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 7 } } },
    }),
  );
  s3.destroy();
  // The log channel has it at once; the two receivers are still down.
  await eventually('the log channel reports the change', () => /"rule":"object-lock-configuration-change"/.test(vault!.output()));
  await vault.stop();
  vault = undefined;

  webhook = await startWebhookReceiver({ port: webhookPort });
  smtp = await startSmtpReceiver({ port: smtpPort });
  vault = await startVault({ dataDir: join(dataDir, 'data'), env });

  const lockAlerts = () =>
    webhook!.requests
      .map((r) => ({ request: r, alert: (JSON.parse(r.body) as { type: string; alert: DeliveredAlert }).alert }))
      .filter(({ alert }) => alert.rule === 'object-lock-configuration-change');
  await eventually('the webhook receives the Object Lock alert', () => lockAlerts().length > 0, 60_000);
  const [{ request, alert }] = lockAlerts() as [{ request: WebhookReceiver['requests'][number]; alert: DeliveredAlert }];
  assert.equal(alert.severity, 'critical');
  assert.equal(alert.subject?.bucket, 'alerted');
  assert.equal(alert.subject?.identity, 'root');
  assert.match(alert.summary, /changed the Object Lock configuration of bucket alerted/);
  assert.ok(
    verifyWebhookSignature({ header: request.headers['x-holdfast-signature'], body: request.body, secret: SECRET, nowMs: Date.now() }),
    'the webhook body is HMAC-signed with the configured secret',
  );
  assert.equal(verifyWebhookSignature({ header: request.headers['x-holdfast-signature'], body: request.body, secret: 'wrong', nowMs: Date.now() }), false);

  await eventually('the email arrives', () => smtp!.messages.some((m) => m.text.includes(alert.id)), 60_000);
  const mail = smtp.messages.find((m) => m.text.includes(alert.id))!;
  assert.deepEqual(mail.to, ['oncall@example.test']);
  assert.match(mail.headers.get('subject') ?? '', /\[Holdfast\] critical: .*Object Lock configuration change on bucket alerted/);
  // Delivered once per channel, not once per restart.
  assert.equal(lockAlerts().length, 1);
});
