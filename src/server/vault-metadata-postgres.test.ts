import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { POSTGRES_TEST_URL, postgresUnreachable, scratchSchema } from '../../test/support/postgres.js';
import { AdminClient } from '../cli/admin-client.js';
import { ConfigError, loadServerConfig } from '../config/server-config.js';
import { Secret } from '../domain/secret.js';
import { systemClock } from '../infra/clock.js';
import { startVaultServer } from './vault-server.js';

/**
 * metadataPostgresUrl: the vault's metadata in a PostgreSQL schema (a scratch one, dropped at
 * the end). It survives a restart on the same data directory; a second server on the same schema
 * is refused while the first runs (it could not unseal the stored secrets) and may start once the
 * first has stopped; a bad URL stops start-up without echoing it. Locally an unreachable
 * PostgreSQL skips these tests; in CI it fails them.
 */
const unreachable = await postgresUnreachable();
const scratch = scratchSchema('holdfast_meta_server');
const { schema } = scratch;
const url = POSTGRES_TEST_URL;
const root = mkdtempSync(join(tmpdir(), 'holdfast-meta-pg-'));
after(async () => {
  if (unreachable === undefined) await scratch.drop();
  rmSync(root, { recursive: true, force: true });
});

const rootKey = { accessKeyId: ['HF', 'METAPG', 'ROOT', randomBytes(4).toString('hex').toUpperCase()].join(''), secret: randomBytes(24).toString('hex') };
const log = { info: () => undefined, error: () => undefined };

function configFor(dataDir: string, env: Record<string, string> = { HOLDFAST_METADATA_POSTGRES_URL: url, HOLDFAST_METADATA_POSTGRES_SCHEMA: schema }) {
  return loadServerConfig({ flags: { data: join(root, dataDir), listen: '127.0.0.1:0' }, env: { ...env, HOLDFAST_AUDIT_LOG_STREAM: 'none' }, configFile: undefined });
}

function start(dataDir: string) {
  return startVaultServer(configFor(dataDir), { HOLDFAST_ROOT_ACCESS_KEY_ID: rootKey.accessKeyId, HOLDFAST_ROOT_SECRET_ACCESS_KEY: rootKey.secret }, systemClock, log);
}

test('with metadataPostgresUrl the metadata lives in the schema, one server at a time', { timeout: 60_000 }, async (t) => {
  if (unreachable !== undefined) {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
    return;
  }
  const first = await start('first');
  try {
    const client = new AdminClient(new URL(first.url), { accessKeyId: rootKey.accessKeyId, secretAccessKey: new Secret(rootKey.secret) });
    await client.call('POST', 'users', { name: 'alice', roles: ['auditor'] });
    const rows = await scratch.query<{ name: string }>(`SELECT name FROM ${schema}.buckets ORDER BY name`);
    assert.ok(rows.some((r) => r.name.startsWith('holdfast-system-')), 'the system buckets are PostgreSQL rows');
    await assert.rejects(start('second'), (e: unknown) => e instanceof ConfigError && e.message.includes(`"${schema}"`) && e.message.includes('metadataPostgresSchema') && /stop the other server/.test(e.message));
  } finally {
    await first.close();
  }
  // Stopped, the schema is free again; a restart on the same data directory finds what was stored.
  const again = await start('first');
  try {
    const client = new AdminClient(new URL(again.url), { accessKeyId: rootKey.accessKeyId, secretAccessKey: new Secret(rootKey.secret) });
    const users = (await client.call('GET', 'users')) as { users: { name: string }[] };
    assert.deepEqual(users.users.map((u) => u.name), ['alice']);
  } finally {
    await again.close();
  }
});

test('a bad metadataPostgresUrl stops start-up naming the key, never echoing the URL', { timeout: 30_000 }, async () => {
  const password = ['not', 'a', 'real', 'password'].join('-');
  assert.throws(() => configFor('bad', { HOLDFAST_METADATA_POSTGRES_URL: `mysql://u:${password}@db/x` }), (e: unknown) => e instanceof ConfigError && /metadataPostgresUrl/.test(e.message) && !e.message.includes(password));
  assert.throws(() => configFor('bad', { HOLDFAST_METADATA_POSTGRES_SCHEMA: 'Bad-Name' }), /metadataPostgresSchema/);
  // Port 1: nothing listens there.
  await assert.rejects(
    startVaultServer(configFor('unreachable', { HOLDFAST_METADATA_POSTGRES_URL: `postgres://u:${password}@127.0.0.1:1/x` }), {}, systemClock, log),
    (e: unknown) => e instanceof Error && /Cannot reach the PostgreSQL metadata store \(metadataPostgresUrl\)/.test(e.message) && !e.message.includes(password),
  );
});

test('secretBoxKeyFile: secrets sealed under one key stop start-up under another, naming the key and the fix, never its bytes', { timeout: 60_000 }, async (t) => {
  if (unreachable !== undefined) {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
    return;
  }
  const sealing = scratchSchema('holdfast_meta_sealing');
  const keyFile = (name: string, key: Buffer) => {
    const path = join(root, name);
    writeFileSync(path, key.toString('base64'), { mode: 0o600 });
    return path;
  };
  const original = randomBytes(32);
  const first = keyFile('key-one', original);
  const other = keyFile('key-two', randomBytes(32));
  const startWith = (dataDir: string, file: string) =>
    startVaultServer(
      configFor(dataDir, { HOLDFAST_METADATA_POSTGRES_URL: url, HOLDFAST_METADATA_POSTGRES_SCHEMA: sealing.schema, HOLDFAST_SECRET_BOX_KEY_FILE: file }),
      { HOLDFAST_ROOT_ACCESS_KEY_ID: rootKey.accessKeyId, HOLDFAST_ROOT_SECRET_ACCESS_KEY: rootKey.secret },
      systemClock,
      log,
    );
  try {
    await (await startWith('sealed', first)).close();
    assert.equal(existsSync(join(root, 'sealed', 'keys', 'secret-box.key')), false, 'no key of its own is made beside a shared one');
    await assert.rejects(startWith('sealed', other), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, /does not open with the sealing key secretBoxKeyFile/);
      assert.ok(e.message.includes(other) && e.message.includes('Fix:'));
      assert.ok(!e.message.includes(original.toString('base64')));
      return true;
    });
    // Another data directory with the same key file serves the same secrets.
    await (await startWith('elsewhere', first)).close();
    await assert.rejects(startWith('missing', join(root, 'no-such-key')), (e: unknown) => e instanceof ConfigError && /secretBoxKeyFile .*no-such-key cannot be used/.test(e.message));
    // Readable by others: refused, naming the fix.
    chmodSync(first, 0o644);
    await assert.rejects(startWith('sealed', first), (e: unknown) => e instanceof ConfigError && e.message.includes(`chmod 600 ${first}`));
  } finally {
    await sealing.drop();
  }
});
