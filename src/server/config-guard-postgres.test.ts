import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { AdminClient } from '../cli/admin-client.js';
import { loadServerConfig } from '../config/server-config.js';
import { Secret } from '../domain/secret.js';
import { systemClock } from '../infra/clock.js';
import { startVaultServer } from './vault-server.js';

/**
 * A server configured with configGuardPostgresUrl keeps baselines in PostgreSQL (a scratch
 * schema, dropped at the end): what one server approved, a server on a new data directory sharing
 * the database sees. Locally an unreachable PostgreSQL skips this test; in CI it fails it.
 */
const url = process.env['HOLDFAST_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 3000, max: 1 });
admin.on('error', () => undefined);
const unreachable = await admin.query('SELECT 1').then(
  () => undefined,
  (e: unknown) => `PostgreSQL is not reachable at ${url} (${e instanceof Error ? e.message : String(e)}); start it as .ci/run does or point HOLDFAST_TEST_PG_URL at a server`,
);
const schema = `holdfast_cg_server_${randomBytes(5).toString('hex')}`;
const root = mkdtempSync(join(tmpdir(), 'holdfast-cg-pg-'));
after(async () => {
  if (unreachable === undefined) await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  await admin.end();
  rmSync(root, { recursive: true, force: true });
});

const ROOT_ID = 'HFCONFIGGUARDPGROOT1';
const ROOT_SECRET = 'config-guard-postgres-root-secret-0123456789';
const log = { info: () => undefined, error: () => undefined };

async function start(dataDir: string) {
  const config = loadServerConfig({
    flags: { data: join(root, dataDir), listen: '127.0.0.1:0' },
    env: { HOLDFAST_CONFIG_GUARD_POSTGRES_URL: url, HOLDFAST_CONFIG_GUARD_POSTGRES_SCHEMA: schema, HOLDFAST_AUDIT_LOG_STREAM: 'none' },
    configFile: undefined,
  });
  const server = await startVaultServer(config, { HOLDFAST_ROOT_ACCESS_KEY_ID: ROOT_ID, HOLDFAST_ROOT_SECRET_ACCESS_KEY: ROOT_SECRET }, systemClock, log);
  const rootClient = new AdminClient(new URL(server.url), { accessKeyId: ROOT_ID, secretAccessKey: new Secret(ROOT_SECRET) });
  const keyFor = async (name: string) => {
    await rootClient.call('POST', 'users', { name, roles: ['admin'] });
    const key = (await rootClient.call('POST', `users/${name}/keys`, {})) as { accessKeyId: string; secretAccessKey: string };
    return new AdminClient(new URL(server.url), { accessKeyId: key.accessKeyId, secretAccessKey: new Secret(key.secretAccessKey) });
  };
  return { server, keyFor };
}

test('with configGuardPostgresUrl the records live in PostgreSQL and are shared by the servers using it', { timeout: 60_000 }, async (t) => {
  if (unreachable !== undefined) {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
    return;
  }
  const first = await start('first');
  let approvedId: string;
  try {
    const alice = await first.keyFor('alice');
    const bob = await first.keyFor('bob');
    const items = [{ component: 'dns', resourceId: 'example.com./www/A', kind: 'dns_record', source: 'zone', attributes: { ttl: 300, values: ['203.0.113.7'] } }];
    const proposed = (await alice.call('POST', 'config/baselines', { format: 'holdfast-config-items/1', collectedAt: '2026-11-26T00:00:00Z', inputs: [], items })) as { id: string };
    await bob.call('POST', `config/baselines/${proposed.id}/approve`, {});
    approvedId = proposed.id;
  } finally {
    await first.server.close();
  }
  const rows = await admin.query<{ id: string }>(`SELECT id FROM ${pg.escapeIdentifier(schema)}.config_guard_records WHERE kind = 'baseline'`);
  assert.deepEqual(rows.rows.map((r) => r.id), [approvedId]);
  assert.equal(existsSync(join(root, 'first', 'metadata', 'config-guard.sqlite')), false, 'no SQLite file when PostgreSQL is configured');

  const second = await start('second');
  try {
    const carol = await second.keyFor('carol');
    const current = (await carol.call('GET', 'config/baselines/current')) as { id: string; status: string; decidedBy: string };
    assert.deepEqual([current.id, current.status, current.decidedBy], [approvedId, 'approved', 'bob']);
  } finally {
    await second.server.close();
  }
});

