import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { metadataStoreContract } from '../../../domain/metadata-store-contract.js';
import { SqliteMetadataStore } from './sqlite-metadata-store.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

metadataStoreContract('SQLite', async () => new SqliteMetadataStore(join(root, `store-${n++}`, 'vault.sqlite')));

test('SQLite: committed writes survive reopening the file', async () => {
  const path = join(root, 'reopen', 'vault.sqlite');
  const store = new SqliteMetadataStore(path);
  await store.createBucket({ name: 'b', createdAtMs: 1, region: 'us-east-1', versioning: 'Unversioned', objectLockEnabled: false, defaultRetention: undefined, retentionBounds: undefined, controls: {} });
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      store.putObjectVersion({
        bucket: 'b',
        key: `k${i}`,
        isDeleteMarker: false,
        size: 1,
        etag: '"e"',
        lastModifiedMs: 1,
        headers: {},
        checksum: undefined,
        partSizes: [],
        data: { kind: 'inline', data: Buffer.from([i]) },
        retention: undefined,
        legalHold: undefined,
      }),
    ),
  );
  await store.close();
  const reopened = new SqliteMetadataStore(path);
  const listed = await reopened.scanLatest('b', { prefix: '', after: '', limit: 100 });
  assert.equal(listed.length, 50);
  await reopened.close();
});
