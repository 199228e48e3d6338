import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadServerConfig } from '../config/server-config.js';
import { systemClock } from '../infra/clock.js';
import { ROOT_CREDENTIALS_FILE } from './root-credentials-bootstrap.js';
import { startVaultServer } from './vault-server.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-server-'));
after(() => rmSync(root, { recursive: true, force: true }));

const logged: string[] = [];
const log = { info: (m: string) => logged.push(m), error: (m: string) => logged.push(m) };

function configFor(dataDir: string) {
  return loadServerConfig({ flags: { data: dataDir, listen: '127.0.0.1:0' }, env: {}, configFile: undefined });
}

/** Every file under a directory, with its bytes. */
function filesUnder(dir: string): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out.push([path, readFileSync(path)]);
    }
  }
  return out;
}

test('first start generates root credentials once, in a 0600 file; the secret is sealed in the metadata and never logged', async () => {
  const dataDir = join(root, 'first');
  const vault = await startVaultServer(configFor(dataDir), {}, systemClock, log);
  assert.equal(vault.rootCredentials.kind, 'generated');
  const file = join(dataDir, ROOT_CREDENTIALS_FILE);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const text = readFileSync(file, 'utf8');
  const secret = /aws_secret_access_key = (\S+)/.exec(text)?.[1];
  assert.ok(secret !== undefined && secret.length >= 32);
  assert.ok(text.includes(`aws_access_key_id = ${vault.rootCredentials.accessKeyId}`));
  await vault.close();

  for (const [path, bytes] of filesUnder(dataDir)) {
    if (path === file) continue;
    assert.ok(!bytes.includes(Buffer.from(secret)), `${path} holds the secret in plain text`);
  }
  assert.ok(!logged.join('\n').includes(secret), 'the secret reached the log');

  // A restart uses the stored key and leaves the credentials file as it was.
  const again = await startVaultServer(configFor(dataDir), {}, systemClock, log);
  assert.deepEqual(again.rootCredentials, { kind: 'existing', accessKeyId: vault.rootCredentials.accessKeyId });
  assert.equal(readFileSync(file, 'utf8'), text);
  await again.close();
});

test('weak or half-given root credentials stop start-up with a message naming the fix', async () => {
  const dataDir = join(root, 'weak');
  await assert.rejects(
    startVaultServer(configFor(dataDir), { HOLDFAST_ROOT_ACCESS_KEY_ID: 'minioadmin', HOLDFAST_ROOT_SECRET_ACCESS_KEY: 'minioadmin' }, systemClock, log),
    (e: unknown) => e instanceof ConfigError && /Refusing the root credentials/.test(e.message) && /Fix:/.test(e.message),
  );
  await assert.rejects(
    startVaultServer(configFor(dataDir), { HOLDFAST_ROOT_ACCESS_KEY_ID: 'HFABCDEFGHIJKLMNOPQR' }, systemClock, log),
    (e: unknown) => e instanceof ConfigError && /Only one of/.test(e.message),
  );
});

test('one server per data directory', async () => {
  const dataDir = join(root, 'locked');
  const env = { HOLDFAST_ROOT_ACCESS_KEY_ID: 'HF' + randomBytes(9).toString('hex').toUpperCase(), HOLDFAST_ROOT_SECRET_ACCESS_KEY: randomBytes(30).toString('base64url') };
  const first = await startVaultServer(configFor(dataDir), env, systemClock, log);
  await assert.rejects(startVaultServer(configFor(dataDir), env, systemClock, log), /already serves/);
  await first.close();
  const second = await startVaultServer(configFor(dataDir), env, systemClock, log);
  await second.close();
});

test('close() lets an in-flight request finish before stopping', async () => {
  const dataDir = join(root, 'graceful');
  const vault = await startVaultServer(configFor(dataDir), {}, systemClock, log);
  const url = new URL(vault.url);
  // A slow request: headers now, body trickling; the server must wait for it.
  const reply = new Promise<number>((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: 'PUT', path: '/slow-bucket', headers: { 'content-length': '10' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write('12345');
    setTimeout(() => req.end('67890'), 300);
  });
  await new Promise((r) => setTimeout(r, 100));
  const closed = vault.close();
  // Unsigned, so 403 — but answered, not cut off.
  assert.equal(await reply, 403);
  await closed;
});

test('reviewFrequencies and configGuardPostgresUrl are checked at start-up; errors name the key and never echo a connection URL', async () => {
  const dataDir = join(root, 'review-config');
  const withFrequencies = (value: string) => loadServerConfig({ flags: { data: dataDir, listen: '127.0.0.1:0' }, env: { HOLDFAST_REVIEW_FREQUENCIES: value }, configFile: undefined });
  await assert.rejects(startVaultServer(withFrequencies('{"dns": "weekly"}'), {}, systemClock, log), (e: unknown) => e instanceof ConfigError && /reviewFrequencies\.dns = "weekly" is not a frequency/.test(e.message));
  await assert.rejects(startVaultServer(withFrequencies('{"networking": "quarterly"}'), {}, systemClock, log), (e: unknown) => e instanceof ConfigError && /reviewFrequencies\.networking is not a component/.test(e.message));
  assert.throws(
    () => loadServerConfig({ flags: { data: dataDir }, env: { HOLDFAST_CONFIG_GUARD_POSTGRES_URL: `mysql://u:${'hunter2'}@db/x` }, configFile: undefined }),
    (e: unknown) => e instanceof ConfigError && /configGuardPostgresUrl/.test(e.message) && !e.message.includes('hunter2'),
  );
  assert.throws(() => loadServerConfig({ flags: { data: dataDir }, env: { HOLDFAST_REVIEW_CHECK_SECONDS: '0' }, configFile: undefined }), /reviewCheckSeconds/);
  const started = await startVaultServer(withFrequencies('{"dns": "quarterly", "container": "never"}'), {}, systemClock, log);
  await started.close();
});
