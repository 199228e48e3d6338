import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Vault } from '../domain/vault.js';
import { FsBlobStore } from '../infra/blob/fs/fs-blob-store.js';
import { ManualClock } from '../infra/clock.js';
import { SqliteMetadataStore } from '../infra/metadata/sqlite/sqlite-metadata-store.js';
import { ensureSystemBucket } from './system-bucket.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-system-bucket-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('ensureSystemBucket called at once by several starters (cluster nodes) succeeds for all, with Object Lock on', async () => {
  const metadata = new SqliteMetadataStore(join(root, 'meta.sqlite'));
  const vault = new Vault(metadata, new FsBlobStore(join(root, 'blobs')), new ManualClock(Date.UTC(2031, 0, 1)), { region: 'us-east-1', inlineLimit: 1024 });
  // All of them see the bucket missing before any creates it.
  await Promise.all(Array.from({ length: 4 }, () => ensureSystemBucket(vault, 'holdfast-system-test')));
  assert.equal((await vault.getBucket('holdfast-system-test')).objectLockEnabled, true);
  await metadata.close();
});
