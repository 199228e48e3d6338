import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { POSTGRES_TEST_URL, postgresUnreachable } from '../../../../test/support/postgres.js';
import { leaseSchema, SchemaInUseError } from './schema-lease.js';

/**
 * The lease on a schema: cluster nodes (shared) admit each other; the one server of a schema
 * (exclusive) and cluster nodes refuse each other, whichever came first; a released lease frees
 * the schema. Locally an unreachable PostgreSQL skips this test; in CI it fails it.
 */
const unreachable = await postgresUnreachable();

test('shared leases coexist; exclusive and shared refuse each other both ways; release frees the schema', async (t) => {
  if (unreachable !== undefined) {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
    return;
  }
  // No schema is created: the lease is an advisory lock on the schema's name.
  const schema = `lease_test_${randomBytes(6).toString('hex')}`;
  const lease = (mode: 'shared' | 'exclusive') => leaseSchema(POSTGRES_TEST_URL, schema, 'test', () => undefined, mode);
  const nodeA = await lease('shared');
  const nodeB = await lease('shared');
  await assert.rejects(lease('exclusive'), (e: unknown) => e instanceof SchemaInUseError && /set clusterNode on every node/.test(e.message));
  await nodeA.release();
  await assert.rejects(lease('exclusive'), SchemaInUseError, 'one cluster node still holds it');
  await nodeB.release();
  const single = await lease('exclusive');
  await assert.rejects(lease('shared'), (e: unknown) => e instanceof SchemaInUseError && /A single \(non-cluster\) server holds/.test(e.message));
  await assert.rejects(lease('exclusive'), SchemaInUseError);
  await single.release();
  await (await lease('shared')).release();
});
