import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { POSTGRES_TEST_URL, postgresUnreachable, scratchSchema } from '../../../test/support/postgres.js';
import { SecretBox } from '../../infra/crypto/secret-box.js';
import pg from 'pg';
import { PostgresMetadataStore } from '../../infra/metadata/postgres/postgres-metadata-store.js';
import { parsePolicy } from '../policy/policy-document.js';
import { type BucketGrants, IdentityRegistry } from './identity-registry.js';

/**
 * Two registries on two PostgreSQL stores (separate pools) over one schema: two cluster nodes.
 * What one node changes counts on the other once it refreshes (the server refreshes before
 * every request), and changes made through both at once are all kept.
 * Locally an unreachable PostgreSQL skips these tests; in CI it fails them.
 */
const unreachable = await postgresUnreachable();
const scratches: Array<ReturnType<typeof scratchSchema>> = [];
after(async () => {
  for (const scratch of scratches) await scratch.drop();
});

const box = SecretBox.fromKey(randomBytes(32));
const buckets: BucketGrants[] = [];
const nowMs = Date.UTC(2031, 0, 1);

type BucketLookup = () => Promise<readonly BucketGrants[]>;

/**
 * A buckets lookup that answers `list`, except that after `arm()` its next call stops until the
 * returned `release` runs; `entered` resolves when that call has started.
 */
function gatedLookup(list: readonly BucketGrants[]): { lookup: BucketLookup; arm(): { entered: Promise<void>; release: () => void } } {
  let gate: { entered: () => void; released: Promise<void> } | undefined;
  return {
    lookup: async () => {
      const current = gate;
      gate = undefined;
      if (current !== undefined) {
        current.entered();
        await current.released;
      }
      return list;
    },
    arm: () => {
      let entered!: () => void;
      let release!: () => void;
      const started = new Promise<void>((resolve) => (entered = resolve));
      gate = { entered, released: new Promise<void>((resolve) => (release = resolve)) };
      return { entered: started, release };
    },
  };
}

async function twoNodes(
  t: { skip(message: string): void },
  lookups: readonly [BucketLookup, BucketLookup] = [() => Promise.resolve(buckets), () => Promise.resolve(buckets)],
): Promise<[IdentityRegistry, IdentityRegistry, () => Promise<void>] | undefined> {
  if (unreachable !== undefined) {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
    return undefined;
  }
  const scratch = scratchSchema('holdfast_identities_shared');
  scratches.push(scratch);
  // One after the other: the first creates the schema.
  const stores = [await PostgresMetadataStore.open(POSTGRES_TEST_URL, { schema: scratch.schema }), await PostgresMetadataStore.open(POSTGRES_TEST_URL, { schema: scratch.schema })];
  const registries = stores.map((store, i) => new IdentityRegistry(store, box, { nowMs: () => nowMs, buckets: lookups[i]! }));
  for (const registry of registries) await registry.load();
  return [registries[0]!, registries[1]!, async () => void (await Promise.all(stores.map((s) => s.close())))];
}

test('a key created through one node authenticates on the other after a refresh, and stops there once revoked', async (t) => {
  const nodes = await twoNodes(t);
  if (nodes === undefined) return;
  const [a, b, close] = nodes;
  try {
    await a.createIdentity({ name: 'writer', kind: 'service', roles: ['backup-writer'] }, 'root');
    const { key, secretAccessKey } = await a.createAccessKey('writer');
    assert.equal(b.secretFor(key.accessKeyId), undefined, 'not yet seen by the other node');
    await b.refresh();
    assert.equal(b.secretFor(key.accessKeyId), secretAccessKey.reveal());
    assert.equal(b.principalOf(key.accessKeyId)?.name, 'writer');
    await a.updateAccessKey(key.accessKeyId, { status: 'inactive' });
    await b.refresh();
    assert.equal(b.secretFor(key.accessKeyId), undefined, 'revoked through A, refused on B');
  } finally {
    await close();
  }
});

test('identity changes made through two nodes at once are all kept (none overwrites another)', async (t) => {
  const nodes = await twoNodes(t);
  if (nodes === undefined) return;
  const [a, b, close] = nodes;
  try {
    // B has not refreshed since A's changes: its own changes must still start from them.
    await a.createIdentity({ name: 'first', kind: 'user', roles: ['auditor'] }, 'root');
    await b.createIdentity({ name: 'second', kind: 'user', roles: ['auditor'] }, 'root');
    const names = Array.from({ length: 12 }, (_, i) => `concurrent-${i}`);
    await Promise.all(names.map((name, i) => (i % 2 === 0 ? a : b).createIdentity({ name, kind: 'user', roles: ['auditor'] }, 'root')));
    await Promise.all([a.refresh(), b.refresh()]);
    const expected = ['first', 'second', ...names].sort();
    assert.deepEqual(a.listIdentities().map((i) => i.name), expected);
    assert.deepEqual(b.listIdentities().map((i) => i.name), expected);
    // A name taken through one node is refused through the other, even unrefreshed.
    await assert.rejects(b.createIdentity({ name: 'first', kind: 'user', roles: [] }, 'root'), /already exists/i);
  } finally {
    await close();
  }
});

test('a change that waits on its duty check while a refresh installs another node\'s change does not undo that change', async (t) => {
  // Node A's edit of "svc" waits inside its separation-of-duties check (the buckets lookup)
  // until released; meanwhile node B deletes "svc" with its keys (a change that needs no duty
  // check, so no duties lock) and a request on A refreshes A's state. A's edit, built from the
  // directory before the delete, must not bring "svc" back.
  const onA = gatedLookup(buckets);
  const nodes = await twoNodes(t, [onA.lookup, () => Promise.resolve(buckets)]);
  if (nodes === undefined) return;
  const [a, b, close] = nodes;
  try {
    await a.createIdentity({ name: 'svc', kind: 'service', roles: ['backup-writer'] }, 'root');
    const { key } = await a.createAccessKey('svc');
    await b.refresh();
    const { entered: waiting, release } = onA.arm();
    const edit = a.updateIdentity('svc', (identity) => ({ ...identity, roles: [...identity.roles, 'auditor'] }));
    await waiting;
    await b.deleteIdentity('svc');
    await a.refresh(); // what any request arriving on A does
    release();
    await assert.rejects(edit, /The identity "svc"/, 'the edit is re-applied to the directory without "svc", and refused');
    await b.refresh();
    assert.deepEqual(b.listIdentities().map((i) => i.name), [], 'the delete made through B is kept');
    assert.deepEqual(a.listIdentities().map((i) => i.name), []);
    assert.equal(a.principalOf(key.accessKeyId), undefined, 'its key authenticates nothing');
  } finally {
    await close();
  }
});

test('an identity change and a bucket policy put on two nodes at once cannot together give one identity write and delete (one duties lock)', async (t) => {
  // Node A grants "svc" the writer role, its duty check gated in the buckets lookup; meanwhile
  // node B puts a bucket policy letting "svc" delete. Each alone passes its check; both together
  // would not. B must wait for A, then see A's grant and refuse.
  const stored: BucketGrants[] = [{ name: 'backups', policy: undefined }];
  const onA = gatedLookup(stored);
  const nodes = await twoNodes(t, [onA.lookup, () => Promise.resolve(stored)]);
  if (nodes === undefined) return;
  const [a, b, close] = nodes;
  const watcher = new pg.Client({ connectionString: POSTGRES_TEST_URL });
  await watcher.connect();
  let release = () => undefined as void;
  try {
    await a.createIdentity({ name: 'svc', kind: 'service', roles: [] }, 'root');
    const armed = onA.arm();
    release = armed.release;
    const waiting = armed.entered;
    const grant = a.updateIdentity('svc', (identity) => ({ ...identity, roles: ['backup-writer'] }));
    await waiting;
    const pruneForSvc = parsePolicy(
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:holdfast:iam:::service/svc' }, Action: 's3:DeleteObjectVersion', Resource: 'arn:aws:s3:::backups/*' }] },
      { kind: 'bucket', bucket: 'backups' },
    );
    const put = b.storeBucketPolicy('backups', pruneForSvc, async () => {
      stored[0] = { name: 'backups', policy: pruneForSvc };
    });
    put.catch(() => undefined);
    // B waits for the lock A holds (bounded at 30 s: a put that does not wait fails here).
    const giveUpMs = Date.now() + 30_000;
    let blocked = false;
    while (!blocked && Date.now() < giveUpMs) {
      const { rows } = await watcher.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%pg_advisory_lock(%'");
      blocked = Number(rows[0]?.n) > 0;
      if (!blocked) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(blocked, 'the bucket policy put did not wait for the identity change');
    release();
    await grant;
    await assert.rejects(put, /identity "svc" would be allowed both/);
    assert.equal(stored[0]!.policy, undefined, 'the policy was not stored');
  } finally {
    release(); // lets a gated change finish when the test failed, so the pools can close
    await watcher.end();
    await close();
  }
});
