import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { POSTGRES_TEST_URL, postgresUnreachable, scratchSchema } from '../../test/support/postgres.js';
import { IdentityRegistry } from '../domain/identity/identity-registry.js';
import { SecretBox } from '../infra/crypto/secret-box.js';
import { PostgresMetadataStore } from '../infra/metadata/postgres/postgres-metadata-store.js';
import { bootstrapRootCredentials, ROOT_CREDENTIALS_FILE } from './root-credentials-bootstrap.js';

/**
 * Root credentials on cluster nodes: two registries on two PostgreSQL stores over one schema.
 * Locally an unreachable PostgreSQL skips this test; in CI it fails it.
 */
const unreachable = await postgresUnreachable();
const scratch = scratchSchema('holdfast_root_cluster');
after(async () => {
  if (unreachable === undefined) await scratch.drop();
});
const nowMs = Date.UTC(2031, 0, 1);

async function twoNodes(t: { skip(message: string): void }): Promise<[IdentityRegistry, IdentityRegistry, () => Promise<void>] | undefined> {
  if (unreachable !== undefined) {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
    return undefined;
  }
  const box = SecretBox.fromKey(randomBytes(32));
  const stores = [await PostgresMetadataStore.open(POSTGRES_TEST_URL, { schema: scratch.schema }), await PostgresMetadataStore.open(POSTGRES_TEST_URL, { schema: scratch.schema })];
  const registries = stores.map((store) => new IdentityRegistry(store, box, { nowMs: () => nowMs, buckets: () => Promise.resolve([]) }));
  for (const registry of registries) await registry.load();
  return [registries[0]!, registries[1]!, async () => void (await Promise.all(stores.map((s) => s.close())))];
}

test('two nodes generating a root key on a first start at once agree on one; the loser keeps no credentials file', async (t) => {
  const nodes = await twoNodes(t);
  if (nodes === undefined) return;
  const [a, b, close] = nodes;
  const dirs = [mkdtempSync(join(tmpdir(), 'holdfast-root-a-')), mkdtempSync(join(tmpdir(), 'holdfast-root-b-'))] as const;
  try {
    // Both loaded an empty directory before either stored a root key.
    const first = await bootstrapRootCredentials(a, {}, dirs[0], nowMs);
    const second = await bootstrapRootCredentials(b, {}, dirs[1], nowMs);
    assert.equal(first.kind, 'generated');
    assert.deepEqual(second, { kind: 'existing', accessKeyId: first.accessKeyId });
    assert.equal(existsSync(join(dirs[1], ROOT_CREDENTIALS_FILE)), false, 'no file naming a key that was never stored');
    await Promise.all([a.refresh(), b.refresh()]);
    assert.equal(a.rootAccessKeyId(), first.accessKeyId);
    assert.equal(b.rootAccessKeyId(), first.accessKeyId);
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await close();
  }
});
