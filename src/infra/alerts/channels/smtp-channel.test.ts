import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SecurityAlert } from '../../../domain/alerts/security-alert.js';
import { Secret } from '../../../domain/secret.js';
import { type SmtpReceiver, selfSignedCertificate, startSmtpReceiver } from '../receivers.test-fixture.js';
import { SmtpChannel } from './smtp-channel.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-smtp-'));
let tls: ReturnType<typeof selfSignedCertificate>;
const receivers: SmtpReceiver[] = [];
before(() => {
  tls = selfSignedCertificate(dir);
});
after(async () => {
  for (const r of receivers) await r.close();
  rmSync(dir, { recursive: true, force: true });
});
const start = async (options: Parameters<typeof startSmtpReceiver>[0]) => {
  const receiver = await startSmtpReceiver(options);
  receivers.push(receiver);
  return receiver;
};

const PASSWORD = 'correct horse battery staple';
const alert: SecurityAlert = {
  id: '0b7c9d3e-aaaa-4bbb-8ccc-ddddeeeeffff',
  rule: 'governance-bypass',
  severity: 'critical',
  title: 'Governance retention bypassed in bucket payroll',
  summary: 'ops-admin used x-amz-bypass-governance-retention to delete payroll/2031/march.csv.',
  atMs: Date.UTC(2031, 2, 4, 5, 6, 7),
  subject: { identity: 'ops-admin', accessKeyId: 'AKIDOPS', sourceIp: '198.51.100.23', bucket: 'payroll', key: 'payroll/2031/march.csv' },
  details: { operation: 'DeleteObject', newline: 'a\r\nBcc: evil@example.org' },
  occurrences: 1,
  lastAtMs: Date.UTC(2031, 2, 4, 5, 6, 7),
};

test('STARTTLS + AUTH: the email arrives encrypted and logged in, with the subject and every field', async () => {
  const receiver = await start({ tls, login: { user: 'holdfast', pass: PASSWORD } });
  const channel = new SmtpChannel({
    name: 'ops-mail',
    host: '127.0.0.1',
    port: receiver.port,
    username: 'holdfast',
    password: new Secret(PASSWORD),
    from: 'holdfast@vault.example',
    to: ['oncall@example.org', 'security@example.org'],
    ca: tls.cert,
  });
  await channel.deliver(alert);

  const [mail] = receiver.messages;
  assert.ok(mail !== undefined);
  assert.equal(mail.secure, true, 'STARTTLS was used');
  assert.equal(mail.user, 'holdfast');
  assert.equal(mail.from, 'holdfast@vault.example');
  assert.deepEqual(mail.to, ['oncall@example.org', 'security@example.org']);
  assert.equal(mail.headers.get('subject'), '[Holdfast] critical: Governance retention bypassed in bucket payroll');
  assert.equal(mail.headers.get('message-id'), `<${alert.id}.ops-mail@holdfast.alerts>`);
  assert.equal(mail.headers.get('x-holdfast-alert-id'), alert.id);
  assert.equal(mail.headers.get('bcc'), undefined, 'a detail value cannot forge a header');
  for (const line of [
    alert.summary,
    'Rule:        governance-bypass',
    'Severity:    critical',
    'Time:        2031-03-04T05:06:07.000Z',
    'Identity:    ops-admin',
    'Access key:  AKIDOPS',
    'Source IP:   198.51.100.23',
    'Bucket:      payroll',
    'Key:         payroll/2031/march.csv',
    '  operation: DeleteObject',
    '  newline: a Bcc: evil@example.org',
    `Alert id:    ${alert.id}`,
  ]) {
    assert.ok(mail.text.includes(line), `body lacks "${line}":\n${mail.text}`);
  }
  assert.ok(!mail.text.includes(PASSWORD));
});

test('implicit TLS (secure: true) works too', async () => {
  const receiver = await start({ tls, secure: true });
  await new SmtpChannel({ name: 'smtps', host: 'localhost', port: receiver.port, secure: true, from: 'a@b.example', to: ['c@d.example'], ca: tls.cert }).deliver(alert);
  assert.equal(receiver.messages[0]?.secure, true);
});

test('STARTTLS required (the default) refuses a server without it; opportunistic sends in clear', async () => {
  const plain = await start({});
  const options = { host: '127.0.0.1', port: plain.port, from: 'a@b.example', to: ['c@d.example'], timeoutMs: 5_000 };
  await assert.rejects(new SmtpChannel({ name: 'strict', ...options }).deliver(alert), /^Error: smtp strict: .*STARTTLS/i);
  assert.equal(plain.messages.length, 0);
  await new SmtpChannel({ name: 'relay', ...options, startTls: 'opportunistic' }).deliver(alert);
  assert.equal(plain.messages[0]?.secure, false);
});

test('an untrusted certificate is refused', async () => {
  const receiver = await start({ tls });
  await assert.rejects(
    new SmtpChannel({ name: 'untrusted', host: '127.0.0.1', port: receiver.port, from: 'a@b.example', to: ['c@d.example'] }).deliver(alert),
    /smtp untrusted: .*(self-signed|certificate)/i,
  );
  assert.equal(receiver.messages.length, 0);
});

test('a refused login rejects without the password, or its SASL encodings, in the error', async () => {
  const receiver = await start({ tls, login: { user: 'holdfast', pass: 'the-right-one' } });
  const channel = new SmtpChannel({
    name: 'ops-mail',
    host: '127.0.0.1',
    port: receiver.port,
    username: 'holdfast',
    password: new Secret(PASSWORD),
    from: 'a@b.example',
    to: ['c@d.example'],
    ca: tls.cert,
  });
  const error = await channel.deliver(alert).then(
    () => assert.fail('delivered with a wrong password'),
    (e: Error) => e,
  );
  assert.match(error.message, /^smtp ops-mail: .*(auth|login|credentials)/i);
  for (const form of [PASSWORD, Buffer.from(PASSWORD).toString('base64'), Buffer.from(`\0holdfast\0${PASSWORD}`).toString('base64')]) {
    assert.ok(!error.message.includes(form), error.message);
    assert.ok(!String(error.stack).includes(form));
  }
  assert.equal(receiver.messages.length, 0);
});
