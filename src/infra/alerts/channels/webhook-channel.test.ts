import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { SecurityAlert } from '../../../domain/alerts/security-alert.js';
import { Secret } from '../../../domain/secret.js';
import { ManualClock } from '../../clock.js';
import { freePort, startWebhookReceiver } from '../receivers.test-fixture.js';
import { type WebhookAlertBody, WebhookChannel } from './webhook-channel.js';
import { WEBHOOK_SIGNATURE_HEADER, signWebhookBody, verifyWebhookSignature } from './webhook-signature.js';

const NOW = Date.UTC(2031, 4, 6, 7, 8, 9);
const SECRET = 'whsec-0123456789abcdef0123456789';
const clock = new ManualClock(NOW);

const alert: SecurityAlert = {
  id: '5e0f3c8a-1111-4222-8333-944445555666',
  rule: 'locked-delete-denied',
  severity: 'warning',
  title: 'Denied delete of a locked version in bucket ledger',
  summary: 'alice tried to delete ledger/<2031>&co.csv; the vault refused.',
  atMs: NOW - 5_000,
  subject: { identity: 'alice', accessKeyId: 'AKIDALICE', sourceIp: '192.0.2.10', bucket: 'ledger', key: '<2031>&co.csv', versionId: 'v1' },
  details: { protection: 'COMPLIANCE', retainUntil: '2032-01-01T00:00:00.000Z', bypassed: false, note: null },
  occurrences: 3,
  lastAtMs: NOW - 1_000,
};

const receivers: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const r of receivers) await r.close();
});

test('json format: the alert arrives intact with an HMAC signature the receiver can verify', async () => {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  await new WebhookChannel({ name: 'siem', url: receiver.url, secret: new Secret(SECRET), clock }).deliver(alert);

  const [request] = receiver.requests;
  assert.ok(request !== undefined);
  assert.equal(request.headers['content-type'], 'application/json');
  assert.equal(request.headers['x-holdfast-alert-id'], alert.id);
  assert.deepEqual(JSON.parse(request.body) as WebhookAlertBody, { type: 'alert', version: 1, alert });
  const header = request.headers[WEBHOOK_SIGNATURE_HEADER];
  assert.match(String(header), /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.equal(verifyWebhookSignature({ header, body: request.body, secret: SECRET, nowMs: NOW + 10_000 }), true);
  // Tampered body, wrong secret, stale timestamp: all refused.
  assert.equal(verifyWebhookSignature({ header, body: request.body.replace('alice', 'mallory'), secret: SECRET, nowMs: NOW }), false);
  assert.equal(verifyWebhookSignature({ header, body: request.body, secret: `${SECRET}x`, nowMs: NOW }), false);
  assert.equal(verifyWebhookSignature({ header, body: request.body, secret: SECRET, nowMs: NOW + 301_000 }), false);
  assert.equal(verifyWebhookSignature({ header, body: request.body, secret: SECRET, nowMs: NOW + 299_000 }), true);
  assert.ok(!request.body.includes(SECRET));
});

test('verifyWebhookSignature refuses missing, repeated and malformed headers, and accepts a second v1', () => {
  const body = '{"a":1}';
  const good = signWebhookBody(SECRET, body, NOW / 1000);
  const check = (header: string | string[] | undefined) => verifyWebhookSignature({ header, body, secret: SECRET, nowMs: NOW });
  assert.equal(check(good), true);
  assert.equal(check(undefined), false);
  assert.equal(check([good, good]), false);
  assert.equal(check(''), false);
  assert.equal(check(`t=${NOW / 1000}`), false);
  assert.equal(check(good.replace(/v1=./, 'v1=g')), false);
  assert.equal(check(`${good.replace(/v1=[0-9a-f]+/, `v1=${'0'.repeat(64)}`)},v1=${good.split('v1=')[1]!}`), true);
  assert.equal(check(`garbage,${good}`), false);
});

test('slack format: an incoming-webhook message with escaped text and every field', async () => {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  await new WebhookChannel({ name: 'slack', url: receiver.url, format: 'slack', clock }).deliver(alert);

  const [request] = receiver.requests;
  assert.equal(request?.headers[WEBHOOK_SIGNATURE_HEADER], undefined, 'no secret, no signature');
  const message = JSON.parse(request!.body) as { text: string; blocks: Array<{ type: string; text: { type: string; text: string } }> };
  assert.equal(message.text, '[Holdfast] warning: Denied delete of a locked version in bucket ledger — alice tried to delete ledger/&lt;2031&gt;&amp;co.csv; the vault refused.');
  assert.deepEqual(message.blocks.map((b) => [b.type, b.text.type]), [['header', 'plain_text'], ['section', 'mrkdwn']]);
  const section = message.blocks[1]!.text.text;
  for (const expected of ['Rule:        locked-delete-denied', 'Occurrences: 3', 'Key:         &lt;2031&gt;&amp;co.csv', 'protection: COMPLIANCE', `Alert id:    ${alert.id}`]) {
    assert.ok(section.includes(expected), `section lacks ${expected}`);
  }
  assert.ok(!/<|>/.test(section.replace(/```/g, '')), 'no raw angle brackets reach Slack');
});

test('non-2xx answers reject; a 4xx says it will not fix itself; no URL path or token in any error', async () => {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const channel = new WebhookChannel({ name: 'hook', url: receiver.url, secret: new Secret(SECRET), clock });
  const errorFor = async (status: number) => {
    receiver.respondWith(status);
    try {
      await channel.deliver(alert);
    } catch (e) {
      return (e as Error).message;
    }
    return 'delivered';
  };
  assert.equal(await errorFor(204), 'delivered');
  assert.match(await errorFor(500), /^webhook hook: http:\/\/127\.0\.0\.1:\d+ answered HTTP 500$/);
  assert.match(await errorFor(429), /HTTP 429$/);
  assert.match(await errorFor(404), /HTTP 404 \(a client error that retrying alone will not fix/);
  assert.match(await errorFor(302), /redirects are not followed/);
  for (const status of [500, 404]) {
    const message = await errorFor(status);
    assert.ok(!message.includes('hidden-token') && !message.includes('/hooks'), message);
  }
});

test('a dead receiver and a silent receiver both fail within the timeout, without the URL path', async () => {
  const port = await freePort();
  const dead = new WebhookChannel({ name: 'hook', url: `http://127.0.0.1:${port}/p?token=hidden-token`, clock });
  await assert.rejects(dead.deliver(alert), (e: Error) => /ECONNREFUSED/.test(e.message) && !e.message.includes('hidden-token'));

  const silent = await startWebhookReceiver({ hang: true });
  receivers.push(silent);
  const started = Date.now();
  await assert.rejects(
    new WebhookChannel({ name: 'hook', url: silent.url, timeoutMs: 300, clock }).deliver(alert),
    /no complete answer within 300 ms/,
  );
  assert.ok(Date.now() - started < 3_000);
});

test('only http and https URLs are accepted', () => {
  assert.throws(() => new WebhookChannel({ name: 'x', url: 'ftp://example.org/', clock }), /http:\/\/ or https:\/\//);
});
