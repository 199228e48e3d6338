import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FsBlobStore } from './fs-blob-store.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-fs-blobs-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshStore = () => new FsBlobStore(join(root, String(n++)));

async function digestOf(store: FsBlobStore, blobId: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of store.read(blobId)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function fileCount(store: FsBlobStore): Promise<number> {
  let count = 0;
  for await (const id of store.list()) count += id.length > 0 ? 1 : 0;
  return count;
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

test('an aborted writer leaves no file, before or after a failed commit', async () => {
  const store = freshStore();
  const writer = await store.create();
  await writer.append(randomBytes(1000));
  await writer.abort();
  await writer.abort();
  assert.equal(await fileCount(store), 0);
});

test('write() batches small chunks and removes the file when the source fails', async () => {
  const store = freshStore();
  const chunks = Array.from({ length: 300 }, () => randomBytes(7_000));
  const blob = await store.write(chunks);
  assert.equal(blob.size, 300 * 7_000);
  assert.equal(await digestOf(store, blob.blobId), createHash('sha256').update(Buffer.concat(chunks)).digest('hex'));

  async function* failing(): AsyncGenerator<Uint8Array> {
    yield randomBytes(2 * 1024 * 1024);
    throw new Error('client went away');
  }
  await assert.rejects(store.write(failing()), /client went away/);
  const shards = await readdir(join(root, String(n - 1)));
  let files = 0;
  for (const shard of shards) files += (await readdir(join(root, String(n - 1), shard))).length;
  assert.equal(files, 1, 'only the first, committed blob is left');
});
