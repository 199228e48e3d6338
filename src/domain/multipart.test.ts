import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FsBlobStore } from '../infra/blob/fs/fs-blob-store.js';
import { ManualClock } from '../infra/clock.js';
import { SqliteMetadataStore } from '../infra/metadata/sqlite/sqlite-metadata-store.js';
import { S3Error } from './errors.js';
import { MIN_PART_BYTES, MultipartUploads } from './multipart.js';
import { Vault } from './vault.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-multipart-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

async function setup() {
  const dir = join(root, String(n++));
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const blobs = new FsBlobStore(join(dir, 'blobs'));
  const vault = new Vault(new SqliteMetadataStore(join(dir, 'meta.sqlite')), blobs, clock, { region: 'us-east-1', inlineLimit: 1024 });
  await vault.createBucket('bucket', { objectLockEnabled: false });
  return { vault, multipart: new MultipartUploads(vault), clock, blobs };
}

async function blobCount(blobs: FsBlobStore): Promise<number> {
  let count = 0;
  for await (const id of blobs.list()) count += id.length > 0 ? 1 : 0;
  return count;
}

const code = (c: string) => (e: unknown) => e instanceof S3Error && e.code === c;

async function collect(stream: AsyncIterable<Uint8Array> | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(stream)) return stream;
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test('complete stitches parts in order; the ETag is the MD5 of the part MD5s with the part count', async () => {
  const { vault, multipart } = await setup();
  const upload = await multipart.create('bucket', 'big', { 'content-type': 'application/x-test' }, 'CRC32C');
  const parts = [randomBytes(MIN_PART_BYTES), randomBytes(MIN_PART_BYTES + 7), randomBytes(1234)];
  const etags: string[] = [];
  // Upload out of order: part numbers, not arrival order, decide the layout.
  for (const i of [2, 0, 1]) {
    const part = await multipart.uploadPart({
      bucket: 'bucket', key: 'big', uploadId: upload.uploadId, partNumber: i + 1,
      body: [parts[i]!], declaredSize: parts[i]!.length, integrity: {},
    });
    etags[i] = part.etag;
  }
  const version = await multipart.complete('bucket', 'big', upload.uploadId, etags.map((etag, i) => ({ partNumber: i + 1, etag })), {});
  const md5s = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
  assert.equal(version.etag, `"${createHash('md5').update(md5s).digest('hex')}-3"`);
  assert.equal(version.checksum?.type, 'COMPOSITE');
  assert.match(version.checksum?.value ?? '', /-3$/);
  const read = await vault.getObject('bucket', 'big', undefined, {}, { kind: 'from', start: MIN_PART_BYTES - 3, end: MIN_PART_BYTES + 3 });
  const whole = Buffer.concat(parts);
  assert.deepEqual(await collect(read.body), whole.subarray(MIN_PART_BYTES - 3, MIN_PART_BYTES + 4));
  assert.deepEqual(await collect((await vault.getObject('bucket', 'big', undefined, {}, undefined)).body), whole);
  assert.equal((await vault.headObject('bucket', 'big', undefined, {})).headers['content-type'], 'application/x-test');
});

test('complete refuses unordered parts, wrong ETags, missing parts and small non-final parts', async () => {
  const { multipart } = await setup();
  const upload = await multipart.create('bucket', 'k', {}, undefined);
  const small = await multipart.uploadPart({ bucket: 'bucket', key: 'k', uploadId: upload.uploadId, partNumber: 1, body: [Buffer.from('tiny')], declaredSize: 4, integrity: {} });
  const last = await multipart.uploadPart({ bucket: 'bucket', key: 'k', uploadId: upload.uploadId, partNumber: 2, body: [Buffer.from('end')], declaredSize: 3, integrity: {} });
  await assert.rejects(multipart.complete('bucket', 'k', upload.uploadId, [{ partNumber: 2, etag: last.etag }, { partNumber: 1, etag: small.etag }], {}), code('InvalidPartOrder'));
  await assert.rejects(multipart.complete('bucket', 'k', upload.uploadId, [{ partNumber: 1, etag: '"0000"' }], {}), code('InvalidPart'));
  await assert.rejects(multipart.complete('bucket', 'k', upload.uploadId, [{ partNumber: 3, etag: last.etag }], {}), code('InvalidPart'));
  await assert.rejects(multipart.complete('bucket', 'k', upload.uploadId, [{ partNumber: 1, etag: small.etag }, { partNumber: 2, etag: last.etag }], {}), code('EntityTooSmall'));
  // A single small part is fine: only non-final parts have a minimum.
  const done = await multipart.complete('bucket', 'k', upload.uploadId, [{ partNumber: 1, etag: small.etag.slice(1, -1) }], {});
  assert.equal(done.size, 4);
  await assert.rejects(multipart.complete('bucket', 'k', upload.uploadId, [{ partNumber: 1, etag: small.etag }], {}), code('NoSuchUpload'));
});

test('abandoned uploads are swept after their expiry and their part blobs deleted', async () => {
  const { multipart, clock, blobs } = await setup();
  const old = await multipart.create('bucket', 'old', {}, undefined);
  await multipart.uploadPart({ bucket: 'bucket', key: 'old', uploadId: old.uploadId, partNumber: 1, body: [randomBytes(5000)], declaredSize: 5000, integrity: {} });
  clock.advance(8 * 24 * 3600 * 1000);
  const fresh = await multipart.create('bucket', 'fresh', {}, undefined);
  await multipart.uploadPart({ bucket: 'bucket', key: 'fresh', uploadId: fresh.uploadId, partNumber: 1, body: [randomBytes(10)], declaredSize: 10, integrity: {} });
  assert.equal(await blobCount(blobs), 2);
  assert.equal(await multipart.sweepAbandoned(7 * 24 * 3600 * 1000), 1);
  // Blob deletion runs after the commit, in the background.
  for (let i = 0; i < 50 && (await blobCount(blobs)) !== 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(await blobCount(blobs), 1);
  await assert.rejects(multipart.listParts('bucket', 'old', old.uploadId, 0, 10), code('NoSuchUpload'));
  assert.equal((await multipart.listParts('bucket', 'fresh', fresh.uploadId, 0, 10)).parts.length, 1);
});

test('a body that fails its Content-MD5 leaves no blob and no part', async () => {
  const { multipart, blobs } = await setup();
  const upload = await multipart.create('bucket', 'k', {}, undefined);
  await assert.rejects(
    multipart.uploadPart({
      bucket: 'bucket', key: 'k', uploadId: upload.uploadId, partNumber: 1,
      body: [randomBytes(100)], declaredSize: 100, integrity: { contentMd5: createHash('md5').update('other').digest() },
    }),
    code('BadDigest'),
  );
  assert.equal(await blobCount(blobs), 0);
  assert.equal((await multipart.listParts('bucket', 'k', upload.uploadId, 0, 10)).parts.length, 0);
});
