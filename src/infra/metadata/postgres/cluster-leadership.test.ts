import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { POSTGRES_TEST_URL, postgresUnreachable } from '../../../../test/support/postgres.js';
import { ClusterLeadership } from './cluster-leadership.js';

/**
 * One leader per schema among cluster nodes; a follower takes over when the leader stops or its
 * session dies (here: terminated by the server, as when its node is killed). Locally an
 * unreachable PostgreSQL skips this test; in CI it fails it.
 */
const unreachable = await postgresUnreachable();

/** Polls `condition` (bounded in count, not time) until it holds. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.ok(condition(), what);
}

test('one leader at a time; a follower takes over when the leader closes or its session is killed', async (t) => {
  if (unreachable !== undefined) {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
    return;
  }
  const schema = `leader_test_${randomBytes(6).toString('hex')}`;
  const changes: string[] = [];
  const node = (name: string) =>
    ClusterLeadership.start(POSTGRES_TEST_URL, schema, { retryMs: 50, onChange: (leader) => changes.push(`${name}:${leader}`), onError: () => undefined });
  const a = await node('a');
  const b = await node('b');
  const c = await node('c');
  assert.deepEqual([a.isLeader, b.isLeader, c.isLeader], [true, false, false]);
  await a.close();
  await eventually(() => b.isLeader || c.isLeader, 'a follower took over after the leader closed');
  const [leader, follower] = b.isLeader ? [b, c] : [c, b];
  assert.equal(follower.isLeader, false);
  // Kill the leader's session from outside, as a dead node's would end.
  const admin = new pg.Client({ connectionString: POSTGRES_TEST_URL });
  await admin.connect();
  try {
    const killed = await admin.query(
      "SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid() AND l.objid = (hashtextextended($1, 0) & 4294967295)::oid",
      [`holdfast:cluster-leader:${schema}`],
    );
    assert.equal(killed.rowCount, 1);
  } finally {
    await admin.end();
  }
  await eventually(() => follower.isLeader && !leader.isLeader, 'the follower took over from the killed session');
  await Promise.all([leader.close(), follower.close()]);
  assert.deepEqual(changes.slice(0, 2), ['a:true', 'a:false']);
});
