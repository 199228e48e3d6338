import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import { configGuardStoreContract } from '../../domain/config-guard/config-guard-store-contract.js';
import { PostgresConfigGuardStore } from './postgres-config-guard-store.js';

/**
 * Runs against a real PostgreSQL server; each store gets a fresh schema, dropped at the end.
 * Locally an unreachable server skips these tests; in CI it fails them.
 */
const url = process.env['HOLDFAST_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 3000, max: 2 });
admin.on('error', () => undefined);
const unreachable = await admin.query('SELECT 1').then(
  () => undefined,
  (e: unknown) => `PostgreSQL is not reachable at ${url} (${e instanceof Error ? e.message : String(e)}); start it as .ci/run does or point HOLDFAST_TEST_PG_URL at a server`,
);

const schemas: string[] = [];
after(async () => {
  if (unreachable === undefined) {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  }
  await admin.end();
});

if (unreachable !== undefined) {
  test('PostgreSQL config guard store', (t) => {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
  });
} else {
  configGuardStoreContract('PostgreSQL', () => {
    const schema = `holdfast_cg_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return PostgresConfigGuardStore.open(url, { schema });
  });

  test('PostgreSQL config guard store: cluster nodes opening a new schema at once all succeed', async () => {
    const schema = `holdfast_cg_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    const stores = await Promise.all(Array.from({ length: 6 }, () => PostgresConfigGuardStore.open(url, { schema })));
    await Promise.all(stores.map((store) => store.close()));
  });
}
