import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FsBlobStore } from '../infra/blob/fs/fs-blob-store.js';
import { createChecksum, encodeChecksum } from '../infra/checksum/checksum.js';
import { DigestWorkerPool } from '../infra/checksum/digest-worker-pool.js';
import { S3Error } from './errors.js';
import { BLOB_REQUESTS_AT_ONCE } from './blob-fan-out.js';
import { discardData, type IngestOptions, ingestBody } from './ingest.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-ingest-'));
const digester = new DigestWorkerPool(1);
after(async () => {
  await digester.close();
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const code = (c: string) => (e: unknown) => e instanceof S3Error && e.code === c;

function options(blobs: FsBlobStore, body: Buffer, overrides: Partial<IngestOptions> = {}): IngestOptions {
  return { blobs, inlineLimit: 1024, declaredSize: body.length, maxSize: 64 * 1024 * 1024, digester, ...overrides };
}

/** A socket-like body: 64 KiB chunks, then an odd tail. */
function chunked(body: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += 65_536) chunks.push(body.subarray(offset, offset + 65_536));
  return chunks;
}

async function blobCount(blobs: FsBlobStore): Promise<number> {
  let count = 0;
  for await (const id of blobs.list()) count += id.length > 0 ? 1 : 0;
  return count;
}

async function readBlob(blobs: FsBlobStore, blobId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of blobs.read(blobId)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('a large body hashed off-thread gets the ETag, signed SHA-256 and checksum the in-place path gives', async () => {
  const blobs = new FsBlobStore(join(root, String(n++)));
  const body = randomBytes(5 * 1024 * 1024 + 4321);
  const crc = createChecksum('CRC32C');
  crc.update(body);
  const expectations = {
    contentMd5: createHash('md5').update(body).digest(),
    sha256Hex: createHash('sha256').update(body).digest('hex'),
    checksum: { algorithm: 'CRC32C' as const, expected: () => encodeChecksum(crc.digest()) },
  };
  const offThread = await ingestBody(chunked(body), expectations, options(blobs, body));
  const inPlace = await ingestBody(chunked(body), expectations, options(blobs, body, { digester: undefined }));
  assert.deepEqual(offThread.md5, inPlace.md5);
  assert.deepEqual(offThread.checksum, inPlace.checksum);
  assert.equal(offThread.size, body.length);
  assert.equal(offThread.data.kind, 'blobs');
  if (offThread.data.kind !== 'blobs') return;
  assert.ok((await readBlob(blobs, offThread.data.blobs[0]!.blobId)).equals(body));
});

test('a large body that fails its Content-MD5, signed SHA-256 or checksum leaves no blob behind', async () => {
  const blobs = new FsBlobStore(join(root, String(n++)));
  const body = randomBytes(2 * 1024 * 1024 + 1);
  const wrong = randomBytes(16);
  await assert.rejects(ingestBody(chunked(body), { contentMd5: wrong }, options(blobs, body)), code('BadDigest'));
  await assert.rejects(ingestBody(chunked(body), { sha256Hex: '0'.repeat(64) }, options(blobs, body)), code('XAmzContentSHA256Mismatch'));
  const checksum = { algorithm: 'CRC32' as const, expected: () => encodeChecksum(Buffer.alloc(4)) };
  await assert.rejects(ingestBody(chunked(body), { checksum }, options(blobs, body)), code('BadDigest'));
  assert.equal(await blobCount(blobs), 0);
});

test('a large body that breaks off, runs short or runs long leaves no blob behind', async () => {
  const blobs = new FsBlobStore(join(root, String(n++)));
  const body = randomBytes(3 * 1024 * 1024);
  async function* breaksOff(): AsyncGenerator<Uint8Array> {
    yield* chunked(body).slice(0, 20);
    throw new Error('socket closed');
  }
  await assert.rejects(ingestBody(breaksOff(), {}, options(blobs, body)), /socket closed/);
  await assert.rejects(ingestBody(chunked(body).slice(1), {}, options(blobs, body)), code('IncompleteBody'));
  await assert.rejects(
    ingestBody(chunked(body), {}, options(blobs, body, { declaredSize: undefined, maxSize: 2 * 1024 * 1024 })),
    code('EntityTooLarge'),
  );
  assert.equal(await blobCount(blobs), 0);
  // The digest thread was left in a clean state: the next body goes through.
  const next = await ingestBody(chunked(body), {}, options(blobs, body));
  assert.deepEqual(next.md5, createHash('md5').update(body).digest());
});

test('an empty body of unknown size stores no blob', async () => {
  const blobs = new FsBlobStore(join(root, String(n++)));
  const result = await ingestBody([], {}, options(blobs, Buffer.alloc(0), { declaredSize: undefined }));
  assert.deepEqual(result.data, { kind: 'blobs', blobs: [] });
  assert.deepEqual(result.md5, createHash('md5').digest());
  assert.equal(await blobCount(blobs), 0);
});

test('a cleanup that fails after a refused body is reported, and the client still gets the refusal', async () => {
  const store = new FsBlobStore(join(root, String(n++)));
  // A real store whose writers cannot remove what they wrote (a backend gone away mid-request).
  const blobs: FsBlobStore = Object.assign(Object.create(store) as FsBlobStore, {
    create: async () => {
      const writer = await store.create();
      return { append: (c: Uint8Array) => writer.append(c), commit: () => writer.commit(), abort: () => Promise.reject(new Error('backend unreachable')) };
    },
    write: (source: Iterable<Uint8Array>) => store.write(source),
    delete: () => Promise.reject(new Error('backend unreachable')),
  });
  const body = randomBytes(3 * 1024 * 1024);
  const reported: unknown[] = [];
  const onCleanupFailure = (e: unknown) => reported.push(e);
  await assert.rejects(
    ingestBody(chunked(body), {}, options(blobs, body, { declaredSize: undefined, maxSize: 2 * 1024 * 1024, onCleanupFailure })),
    code('EntityTooLarge'),
  );
  await assert.rejects(ingestBody(chunked(body), { contentMd5: randomBytes(16) }, options(blobs, body, { onCleanupFailure })), code('BadDigest'));
  assert.deepEqual(reported.map((e) => (e as Error).message), ['backend unreachable', '1 of 1 blob(s) could not be deleted']);
});

test('discardData deletes a few blobs at a time, tries every one, and then rejects with each failure', async () => {
  const store = new FsBlobStore(join(root, String(n++)));
  let running = 0;
  let peak = 0;
  const tried: string[] = [];
  const blobs: FsBlobStore = Object.assign(Object.create(store) as FsBlobStore, {
    delete: async (blobId: string) => {
      tried.push(blobId);
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      if (blobId.startsWith('03')) throw new Error('backend unreachable');
    },
  });
  const refs = Array.from({ length: 10 }, (_, i) => ({ blobId: i.toString(16).padStart(2, '0').repeat(16), size: 1 }));
  await assert.rejects(discardData(blobs, { kind: 'blobs', blobs: refs }), (e: unknown) => e instanceof AggregateError && e.errors.length === 1 && /1 of 10 blob/.test(e.message));
  assert.equal(tried.length, 10);
  assert.ok(peak <= BLOB_REQUESTS_AT_ONCE, `at most ${BLOB_REQUESTS_AT_ONCE} at once, saw ${peak}`);
});
