import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { metadataStoreContract } from '../../../domain/metadata-store-contract.js';
import { SqliteMetadataStore } from './sqlite-metadata-store.js';
import { prepareStatements } from './statements.js';

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

test('SQLite: an older data directory loses the unused versions_latest index; listing and latest lookups still search an index', async () => {
  const path = join(root, 'old-index', 'vault.sqlite');
  await new SqliteMetadataStore(path).close();
  const old = new Database(path);
  old.exec('CREATE INDEX versions_latest ON versions (bucket, key) WHERE is_latest = 1 AND is_delete_marker = 0');
  old.close();
  await new SqliteMetadataStore(path).close();
  const db = new Database(path, { readonly: true });
  const indexes = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'versions'").all() as Array<{ name: string }>).map((r) => r.name);
  assert.ok(!indexes.includes('versions_latest'), indexes.join(', '));
  const statements = prepareStatements(db);
  const plan = (statement: Database.Statement, ...params: unknown[]) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${statement.source}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
  assert.match(plan(statements.scanLatest, { bucket: 'b', prefix: '', after: '', limit: 10 }), /USING INDEX versions_one_latest/);
  assert.match(plan(statements.getLatest, 'b', 'k'), /USING INDEX versions_one_latest/);
  db.close();
});
