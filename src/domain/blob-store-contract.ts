import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { readAll } from '../infra/streams/read-all.js';
import type { BlobStore } from './ports.js';

export interface BlobStoreContractOptions {
  /** A body size past the store's single-write threshold (its multipart path, for S3). */
  readonly largeBodyBytes: number;
  /** The wall-clock bounds modifiedMs() must fall in around a write, in ms of tolerance (S3 keeps whole seconds). */
  readonly modifiedToleranceMs: number;
}

/**
 * The BlobStore contract (src/domain/ports.ts), run against every implementation: FsBlobStore and
 * S3BlobStore over a real second vault. `open` must return a fresh, empty store each time.
 */
export function blobStoreContract(name: string, open: () => Promise<BlobStore>, options: BlobStoreContractOptions): void {
  const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
  const readBlob = (store: BlobStore, blobId: string, range?: { start: number; end: number }): Promise<Buffer> => readAll(store.read(blobId, range));
  const listed = async (store: BlobStore): Promise<string[]> => {
    const ids: string[] = [];
    for await (const id of store.list()) ids.push(id);
    return ids.sort();
  };

  describe(`BlobStore contract: ${name}`, () => {
    test('write() stores many small chunks as one blob that reads back byte-exact', async () => {
      const store = await open();
      const chunks = Array.from({ length: 300 }, () => randomBytes(7_000));
      const blob = await store.write(chunks);
      assert.equal(blob.size, 300 * 7_000);
      assert.equal(sha256(await readBlob(store, blob.blobId)), sha256(Buffer.concat(chunks)));
      assert.deepEqual(await listed(store), [blob.blobId]);
    });

    test('a body past the single-write threshold, appended from one reused buffer, reads back whole and by range', async () => {
      const store = await open();
      const writer = await store.create();
      const expected = Buffer.alloc(options.largeBodyBytes);
      const reused = Buffer.alloc(1024 * 1024 + 7);
      let size = 0;
      while (size < options.largeBodyBytes) {
        const n = Math.min(reused.length, options.largeBodyBytes - size);
        randomBytes(n).copy(reused);
        reused.copy(expected, size, 0, n);
        // The store must be done with the chunk when append settles: the next fill overwrites it.
        await writer.append(reused.subarray(0, n));
        size += n;
      }
      const blob = await writer.commit();
      assert.equal(blob.size, options.largeBodyBytes);
      assert.equal(sha256(await readBlob(store, blob.blobId)), sha256(expected));
      const middle = { start: Math.floor(size / 2) - 1000, end: Math.floor(size / 2) + 99_999 };
      assert.deepEqual(await readBlob(store, blob.blobId, middle), expected.subarray(middle.start, middle.end + 1));
      assert.deepEqual(await readBlob(store, blob.blobId, { start: 0, end: 0 }), expected.subarray(0, 1));
      assert.deepEqual(await readBlob(store, blob.blobId, { start: size - 5, end: size - 1 }), expected.subarray(size - 5));
    });

    test('a source that fails rejects write() with its error and leaves no blob', async () => {
      const store = await open();
      const kept = await store.write([randomBytes(10)]);
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield randomBytes(options.largeBodyBytes);
        yield randomBytes(1000);
        throw new Error('client went away');
      }
      await assert.rejects(store.write(failing()), /client went away/);
      assert.deepEqual(await listed(store), [kept.blobId], 'only the committed blob is left');
    });

    test('an aborted writer leaves nothing, and abort() may be called twice', async () => {
      const store = await open();
      const writer = await store.create();
      await writer.append(randomBytes(1000));
      await writer.abort();
      await writer.abort();
      assert.deepEqual(await listed(store), []);
    });

    test('delete() removes a blob and is idempotent; a deleted blob has no modified time and fails to read', async () => {
      const store = await open();
      const before = Date.now();
      const blob = await store.write([Buffer.from('to be deleted')]);
      const modified = await store.modifiedMs(blob.blobId);
      assert.ok(modified !== undefined && modified >= before - options.modifiedToleranceMs && modified <= Date.now() + options.modifiedToleranceMs, `modifiedMs ${modified}`);
      await store.delete(blob.blobId);
      await store.delete(blob.blobId);
      await store.delete('0123456789abcdef0123456789abcdef');
      assert.equal(await store.modifiedMs(blob.blobId), undefined);
      assert.deepEqual(await listed(store), []);
      await assert.rejects(readBlob(store, blob.blobId), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    });

    test('list() yields every blob exactly once', async () => {
      const store = await open();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await store.write([Buffer.from(`blob ${i}`)])).blobId);
      assert.deepEqual(await listed(store), ids.sort());
    });

    test('a blob protected under a governance retention still reads, and delete() removes it (with the bypass governance allows)', async () => {
      const store = await open();
      const blob = await store.write([Buffer.from('locked bytes')]);
      // A date in the future, or S3BlobStore would have nothing to set on an Object Lock bucket.
      await store.protect(blob.blobId, { retention: { mode: 'GOVERNANCE', retainUntilMs: Date.now() + 3_600_000 }, legalHold: false });
      assert.equal((await readBlob(store, blob.blobId)).toString(), 'locked bytes');
      await store.delete(blob.blobId);
      assert.deepEqual(await listed(store), []);
    });

    test('ids that are not blob ids are refused, never turned into a path or key', async () => {
      const store = await open();
      await assert.rejects(store.delete('../../etc/passwd'), /invalid blob id/);
      await assert.rejects(store.modifiedMs('AB'), /invalid blob id/);
    });
  });
}
