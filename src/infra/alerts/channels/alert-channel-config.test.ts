import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, test } from 'node:test';
import { ManualClock } from '../../clock.js';
import { AlertConfigError, alertSecretEnvName, parseAlertChannelsConfig } from './alert-channel-config.js';
import { createAlertChannels } from './create-alert-channels.js';
import { LogChannel } from './log-channel.js';
import { SmtpChannel } from './smtp-channel.js';
import { WebhookChannel } from './webhook-channel.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-alert-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SLACK_URL = 'https://hooks.slack.example/services/T000/B000/very-secret-token';
const valid = [
  { kind: 'webhook', name: 'siem', url: 'https://siem.example/hook', secret: 'file-secret-0123456789' },
  { kind: 'webhook', name: 'slack', url: SLACK_URL, format: 'slack', timeoutMs: 5_000 },
  { kind: 'smtp', name: 'ops-mail', host: 'smtp.example.org', username: 'holdfast', from: 'holdfast@example.org', to: ['oncall@example.org'] },
  { kind: 'log', name: 'log' },
];

const rejects = (value: unknown, expected: RegExp, env: Record<string, string> = {}) =>
  assert.throws(
    () => parseAlertChannelsConfig(value, env, 'holdfast.json'),
    (e: unknown) => {
      assert.ok(e instanceof AlertConfigError, String(e));
      assert.match(e.message, expected);
      assert.match(e.message, /\(from holdfast\.json\)/);
      assert.match(e.message, /Fix: /);
      return true;
    },
  );

test('a valid list parses into frozen, defaulted channels; secrets come from the environment first', () => {
  const env = { [alertSecretEnvName('ops-mail', 'PASSWORD')]: 'env-password', HOLDFAST_ALERT_SIEM_SECRET: 'env-secret-0123456789abcdef' };
  const channels = parseAlertChannelsConfig(valid, env, 'holdfast.json');
  assert.equal(alertSecretEnvName('ops-mail', 'PASSWORD'), 'HOLDFAST_ALERT_OPS_MAIL_PASSWORD');
  assert.ok(Object.isFrozen(channels) && channels.every((c) => Object.isFrozen(c)));
  const [siem, slack, mail, log] = channels;
  assert.equal(siem?.kind === 'webhook' && siem.secret?.reveal(), 'env-secret-0123456789abcdef');
  assert.ok(slack?.kind === 'webhook' && slack.format === 'slack' && slack.timeoutMs === 5_000 && slack.secret === undefined);
  assert.ok(mail?.kind === 'smtp');
  assert.deepEqual(
    { port: mail.port, secure: mail.secure, startTls: mail.startTls, timeoutMs: mail.timeoutMs, password: mail.password?.reveal() },
    { port: 587, secure: false, startTls: 'required', timeoutMs: 15_000, password: 'env-password' },
  );
  assert.deepEqual(log, { kind: 'log', name: 'log' });
  // Printing the parsed config never shows a secret.
  const printed = `${JSON.stringify(channels)} ${inspect(channels, { depth: 5 })}`;
  assert.ok(!printed.includes('env-password') && !printed.includes('env-secret'), printed);
  assert.deepEqual(parseAlertChannelsConfig(undefined), []);
  assert.equal((parseAlertChannelsConfig([{ kind: 'smtp', name: 'm', host: 'h', secure: true, from: 'a@b.c', to: ['d@e.f'] }])[0] as { port: number }).port, 465);
});

test('mistakes name the channel, the field and the fix', () => {
  rejects({ kind: 'log' }, /alerts\.channels .* is not a list/);
  rejects(['log'], /alerts\.channels\[0\] .* is not an object/);
  rejects([{ kind: 'pager', name: 'p' }], /alerts\.channels\[0\]\.kind .* is "pager".*"webhook", "smtp" or "log"/);
  rejects([{ kind: 'log', name: 'Ops Mail' }], /alerts\.channels\[0\]\.name .* lower-case/);
  rejects([{ kind: 'log', name: 'a' }, { kind: 'log', name: 'a' }], /alerts\.channels\[1\] .* reuses the name "a"/);
  rejects([valid[3], { ...valid[0], formt: 'json' }], /alerts\.channels\[1\] \("siem"\)\.formt .* is not a webhook channel setting.*url, secret, format/);
  rejects([{ ...valid[0], url: 'ftp://x.example/' }], /\("siem"\)\.url .* not an http:\/\/ or https:\/\/ URL/);
  rejects([{ ...valid[0], format: 'teams' }], /\("siem"\)\.format .* "teams" is unknown/);
  rejects([{ ...valid[0], timeoutMs: 0 }], /\("siem"\)\.timeoutMs .* between 100 and 120000/);
  rejects([{ ...valid[0], secret: 'short' }], /\("siem"\)\.secret .* at least 16 characters \(value not shown\).*HOLDFAST_ALERT_SIEM_SECRET/);
  rejects([valid[0]], /\("siem"\)\.secret .* from HOLDFAST_ALERT_SIEM_SECRET is shorter/, { HOLDFAST_ALERT_SIEM_SECRET: 'tiny' });
  rejects([valid[0]], /\("siem"\)\.kind .* takes no password, but HOLDFAST_ALERT_SIEM_PASSWORD is set/, { HOLDFAST_ALERT_SIEM_PASSWORD: 'x' });
  rejects([valid[2]], /\("ops-mail"\)\.password .* missing while the other half/);
  rejects([{ ...valid[2], password: 'p' }], /\("ops-mail"\)\.kind .* takes no secret/, { HOLDFAST_ALERT_OPS_MAIL_SECRET: 'x' });
  rejects([{ ...valid[2], port: 70000, password: 'p' }], /\("ops-mail"\)\.port .* 70000 is not a port number/);
  rejects([{ ...valid[2], password: 'p', startTls: 'never' }], /\("ops-mail"\)\.startTls .* "never" is unknown/);
  rejects([{ ...valid[2], password: 'p', secure: true, startTls: 'required' }], /\("ops-mail"\)\.startTls .* together with secure: true/);
  rejects([{ ...valid[2], password: 'p', from: 'Holdfast <h@example.org>' }], /\("ops-mail"\)\.from .* not a bare email address/);
  rejects([{ ...valid[2], password: 'p', to: [] }], /\("ops-mail"\)\.to .* 1–50 bare email addresses/);
  rejects([{ ...valid[2], password: 'p', to: ['a@b.example\r\nBcc: x@y.example'] }], /\("ops-mail"\)\.to /);
  rejects([{ ...valid[2], password: 'p', host: 'smtp example' }], /\("ops-mail"\)\.host .* not a host name/);
});

test('no message repeats a secret, a password or a webhook URL', () => {
  const messages: string[] = [];
  const collect = (value: unknown, env: Record<string, string> = {}) => {
    try {
      parseAlertChannelsConfig(value, env);
    } catch (e) {
      messages.push((e as Error).message);
    }
  };
  collect([{ ...valid[1], url: SLACK_URL.replace('hooks.slack', 'hooks slack') }]);
  collect([{ ...valid[1], url: SLACK_URL.replace('https', 'gopher') }]);
  collect([{ ...valid[0], secret: 'tiny-secret' }]);
  collect([valid[0]], { HOLDFAST_ALERT_SIEM_SECRET: 'tiny-env-secret' });
  collect([{ ...valid[2], password: 7 }]);
  assert.equal(messages.length, 5);
  for (const m of messages) assert.ok(!/very-secret-token|tiny-secret|tiny-env-secret/.test(m), m);
});

test('createAlertChannels builds each kind and reports an unreadable CA file by channel', () => {
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n');
  const configs = parseAlertChannelsConfig([{ ...valid[0], caFile }, valid[1], { ...valid[2], password: 'p' }, valid[3]]);
  const channels = createAlertChannels(configs, { clock: new ManualClock(0), writeLogLine: () => undefined });
  assert.deepEqual(channels.map((c) => [c.name, c.constructor]), [['siem', WebhookChannel], ['slack', WebhookChannel], ['ops-mail', SmtpChannel], ['log', LogChannel]]);
  const missing = parseAlertChannelsConfig([{ ...valid[0], caFile: join(dir, 'nope.pem') }]);
  assert.throws(() => createAlertChannels(missing, { clock: new ManualClock(0), writeLogLine: () => undefined }), (e: Error) =>
    e instanceof AlertConfigError && /"siem" caFile .*nope\.pem cannot be read \(ENOENT\)\. Fix:/.test(e.message),
  );
});

test('the log channel writes one JSON line per alert', async () => {
  const lines: string[] = [];
  const alert = { id: 'a1', rule: 'clock-anomaly', severity: 'critical', title: 't', summary: 's\nx', atMs: 5, details: { k: 1 }, occurrences: 1, lastAtMs: 5 } as const;
  await new LogChannel('log', (line) => lines.push(line)).deliver(alert);
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes('\n'));
  assert.deepEqual(JSON.parse(lines[0]!), { type: 'alert', ...alert });
  await assert.rejects(new LogChannel('log', () => { throw new Error('disk full'); }).deliver(alert), /disk full/);
});
