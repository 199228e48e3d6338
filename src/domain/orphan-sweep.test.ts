import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FsBlobStore } from '../infra/blob/fs/fs-blob-store.js';
import { systemClock } from '../infra/clock.js';
import { SqliteMetadataStore } from '../infra/metadata/sqlite/sqlite-metadata-store.js';
import { MultipartUploads } from './multipart.js';
import { sweepOrphanBlobs } from './orphan-sweep.js';
import { Vault } from './vault.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-orphans-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function ids(blobs: FsBlobStore): Promise<Set<string>> {
  const found = new Set<string>();
  for await (const id of blobs.list()) found.add(id);
  return found;
}

test('unreferenced blobs written before the cut-off are removed; referenced and newer ones stay', async () => {
  const metadata = new SqliteMetadataStore(join(root, 'meta.sqlite'));
  const blobs = new FsBlobStore(join(root, 'blobs'));
  const vault = new Vault(metadata, blobs, systemClock, { region: 'us-east-1', inlineLimit: 16 });
  const multipart = new MultipartUploads(vault);
  await vault.createBucket('bucket', { objectLockEnabled: false });
  const body = randomBytes(1000);
  const object = await vault.putObject({
    bucket: 'bucket', key: 'kept', body: [body], declaredSize: body.length, headers: {},
    integrity: { contentMd5: createHash('md5').update(body).digest() }, conditions: {}, lock: { retention: undefined, legalHold: undefined },
  });
  const upload = await multipart.create('bucket', 'in-progress', {}, undefined);
  await multipart.uploadPart({ bucket: 'bucket', key: 'in-progress', uploadId: upload.uploadId, partNumber: 1, body: [randomBytes(100)], declaredSize: 100, integrity: {} });
  // What a crash between the blob fsync and the metadata commit leaves behind:
  const orphan = await blobs.write([randomBytes(500)]);
  const before = await ids(blobs);
  assert.equal(before.size, 3);

  // The server's start: blobs written from here on may belong to writes in flight.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const cutOff = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const late = await blobs.write([randomBytes(10)]);
  const result = await sweepOrphanBlobs(metadata, blobs, cutOff);
  const afterSweep = await ids(blobs);
  assert.equal(result.removed, 1);
  assert.equal(afterSweep.has(orphan.blobId), false, 'the orphan is removed');
  assert.ok(afterSweep.has(late.blobId), 'a blob written after the cut-off is never a candidate');
  assert.ok(object.data.kind === 'blobs' && afterSweep.has(object.data.blobs[0]!.blobId), 'the object is kept');
  assert.equal(afterSweep.size, 3, 'object, part and late blob stay');
  await metadata.close();
});
