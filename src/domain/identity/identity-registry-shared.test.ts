import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { POSTGRES_TEST_URL, postgresUnreachable, scratchSchema } from '../../../test/support/postgres.js';
import { SecretBox } from '../../infra/crypto/secret-box.js';
import { PostgresMetadataStore } from '../../infra/metadata/postgres/postgres-metadata-store.js';
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
  // Node A's edit waits inside its separation-of-duties check (the buckets lookup) until
  // released; meanwhile node B disables the identity and a request on A refreshes A's state.
  let gate: { entered: () => void; released: Promise<void> } | undefined;
  const lookupOnA: BucketLookup = async () => {
    const current = gate;
    gate = undefined;
    if (current !== undefined) {
      current.entered();
      await current.released;
    }
    return buckets;
  };
  const nodes = await twoNodes(t, [lookupOnA, () => Promise.resolve(buckets)]);
  if (nodes === undefined) return;
  const [a, b, close] = nodes;
  try {
    await a.createIdentity({ name: 'svc', kind: 'service', roles: ['backup-writer'] }, 'root');
    const { key } = await a.createAccessKey('svc');
    await b.refresh();
    let entered!: () => void;
    const waiting = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    gate = { entered, released: new Promise<void>((resolve) => (release = resolve)) };
    const edit = a.updateIdentity('svc', (identity) => ({ ...identity, roles: [...identity.roles, 'auditor'] }));
    await waiting;
    await b.updateIdentity('svc', (identity) => ({ ...identity, disabled: true }));
    await a.refresh(); // what any request arriving on A does
    release();
    const edited = await edit;
    assert.equal(edited.disabled, true, 'the edit was re-applied to the disabled identity');
    assert.deepEqual(edited.roles, ['backup-writer', 'auditor']);
    await b.refresh();
    assert.equal(b.getIdentity('svc').disabled, true, 'the disable made through B is kept');
    assert.equal(b.principalOf(key.accessKeyId), undefined, 'the disabled identity\'s key authenticates nothing on B');
    assert.equal(a.principalOf(key.accessKeyId), undefined, 'nor on A');
  } finally {
    await close();
  }
});
