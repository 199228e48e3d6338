import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { blobStoreContract } from '../../../domain/blob-store-contract.js';
import { FsBlobStore } from './fs-blob-store.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-fs-blobs-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshStore = () => new FsBlobStore(join(root, String(n++)));

blobStoreContract('FsBlobStore', async () => freshStore(), { largeBodyBytes: 3 * 1024 * 1024 + 5, modifiedToleranceMs: 50 });

async function digestOf(store: FsBlobStore, blobId: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of store.read(blobId)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

test('appends past the background-writeback interval commit every byte, in order', async () => {
  const store = freshStore();
  const writer = await store.create();
  const expected = createHash('sha256');
  const block = randomBytes(3 * 1024 * 1024 + 17);
  let size = 0;
  // 72 MiB: two background fdatasyncs start while appends go on.
  for (let i = 0; i < 24; i++) {
    const chunk = Buffer.from(block);
    chunk.writeUInt32BE(i, 0);
    expected.update(chunk);
    await writer.append(chunk);
    size += chunk.length;
  }
  const blob = await writer.commit();
  assert.equal(blob.size, size);
  assert.equal(await digestOf(store, blob.blobId), expected.digest('hex'));
});
