import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FsBlobStore } from '../infra/blob/fs/fs-blob-store.js';
import { ManualClock } from '../infra/clock.js';
import { SqliteMetadataStore } from '../infra/metadata/sqlite/sqlite-metadata-store.js';
import { S3Error } from './errors.js';
import { MultipartUploads } from './multipart.js';
import type { BlobStore } from './ports.js';
import { Vault } from './vault.js';

/**
 * A write whose bytes are stored in time but whose metadata commit comes after its deadline
 * (VaultOptions.maxWriteMs) must not commit: on a cluster, another node's orphan sweep may
 * already treat the blob as abandoned. The blob store below moves the monotonic clock past the
 * deadline the moment a blob is finished, as a stalled commit would.
 */
const root = mkdtempSync(join(tmpdir(), 'holdfast-write-deadline-'));
after(() => rmSync(root, { recursive: true, force: true }));
const MAX_WRITE_MS = 30 * 60 * 1000;

function stallingAfterBlobs(inner: FsBlobStore, stall: () => void): BlobStore {
  return {
    create: async () => {
      const writer = await inner.create();
      return {
        append: (chunk) => writer.append(chunk),
        commit: async () => {
          const result = await writer.commit();
          stall();
          return result;
        },
        abort: () => writer.abort(),
      };
    },
    write: async (source) => {
      const result = await inner.write(source);
      stall();
      return result;
    },
    read: (blobId, range) => inner.read(blobId, range),
    protect: (blobId) => inner.protect(blobId),
    delete: (blobId) => inner.delete(blobId),
    list: () => inner.list(),
    modifiedMs: (blobId) => inner.modifiedMs(blobId),
  };
}

async function blobIds(store: FsBlobStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of store.list()) ids.push(id);
  return ids;
}

test('a PUT or part whose metadata commit comes after the write deadline is refused (RequestTimeout), records nothing and removes its blob', async () => {
  let monotonicMs = 0;
  let stalls = false;
  const fsBlobs = new FsBlobStore(join(root, 'blobs'));
  const blobs = stallingAfterBlobs(fsBlobs, () => {
    if (stalls) monotonicMs += MAX_WRITE_MS + 1;
  });
  const metadata = new SqliteMetadataStore(join(root, 'meta.sqlite'));
  const vault = new Vault(metadata, blobs, new ManualClock(Date.UTC(2031, 0, 1)), {
    region: 'us-east-1',
    inlineLimit: 1024,
    maxWriteMs: MAX_WRITE_MS,
    monotonicMs: () => monotonicMs,
  });
  const multipart = new MultipartUploads(vault);
  await vault.createBucket('deadlines', { objectLockEnabled: false });
  const body = randomBytes(10_000);
  const put = (key: string) =>
    vault.putObject({ bucket: 'deadlines', key, body: [body], declaredSize: body.length, headers: {}, integrity: {}, conditions: {}, lock: { retention: undefined, legalHold: undefined } });
  const timedOut = (e: unknown) => e instanceof S3Error && e.code === 'RequestTimeout';

  // In time: stored.
  await put('in-time');
  assert.equal((await blobIds(fsBlobs)).length, 1);

  stalls = true;
  await assert.rejects(put('late'), timedOut);
  assert.equal(await metadata.getObjectVersion('deadlines', 'late'), undefined);
  assert.equal((await blobIds(fsBlobs)).length, 1, 'the late write\'s blob is removed');

  stalls = false;
  const upload = await multipart.create('deadlines', 'parts', {}, undefined);
  stalls = true;
  await assert.rejects(
    multipart.uploadPart({ bucket: 'deadlines', key: 'parts', uploadId: upload.uploadId, partNumber: 1, body: [body], declaredSize: body.length, integrity: {} }),
    timedOut,
  );
  assert.deepEqual(await metadata.listParts(upload.uploadId, 0, 10), []);
  assert.equal((await blobIds(fsBlobs)).length, 1, 'the late part\'s blob is removed');
  await metadata.close();
});
