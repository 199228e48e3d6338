import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import type { DigestRun } from '../../domain/ports.js';
import { checksumAlgorithms, createChecksum } from './checksum.js';
import { DigestWorkerPool } from './digest-worker-pool.js';

const pool = new DigestWorkerPool(2);
after(() => pool.close());

/** Feeds `chunks` the way ingest does: write (here: keep) each full batch, release it, wait when asked. */
async function feed(run: DigestRun, chunks: readonly Uint8Array[]): Promise<Buffer> {
  const seen: Buffer[] = [];
  const keep = (batch: Buffer) => {
    seen.push(Buffer.from(batch));
    run.release(batch);
  };
  for (const chunk of chunks) {
    for (const batch of run.take(chunk)) keep(batch);
    await run.ready();
  }
  const last = run.end();
  if (last !== undefined) keep(last);
  return Buffer.concat(seen);
}

/** Chunks of uneven sizes, some larger than a batch, crossing batch boundaries anywhere. */
function unevenChunks(body: Buffer): Buffer[] {
  const sizes = [1, 65_536, 1_048_575, 3, 2_500_000, 65_537, 1_048_576, 999];
  const chunks: Buffer[] = [];
  for (let offset = 0, i = 0; offset < body.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(body.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

test('off-thread digests equal the in-place ones for every algorithm, and the batches carry the body', async () => {
  const body = randomBytes(9 * 1024 * 1024 + 12_345);
  for (const algorithm of checksumAlgorithms) {
    const run = pool.start({ sha256: true, checksum: algorithm });
    const written = await feed(run, unevenChunks(body));
    const digests = await run.digests();
    assert.ok(written.equals(body), `${algorithm}: the batches hold the body`);
    assert.deepEqual(digests.md5, createHash('md5').update(body).digest());
    assert.deepEqual(digests.sha256, createHash('sha256').update(body).digest());
    const expected = createChecksum(algorithm);
    expected.update(body);
    assert.deepEqual(digests.checksum, expected.digest(), algorithm);
  }
});

test('runs at the same time on the same threads keep their bodies apart', async () => {
  const bodies = [randomBytes(5 * 1024 * 1024 + 1), randomBytes(3 * 1024 * 1024), randomBytes(10), Buffer.alloc(0)];
  const results = await Promise.all(
    bodies.map(async (body) => {
      const run = pool.start({ sha256: false, checksum: undefined });
      await feed(run, unevenChunks(body));
      return run.digests();
    }),
  );
  results.forEach((digests, i) => {
    assert.deepEqual(digests.md5, createHash('md5').update(bodies[i]!).digest());
    assert.equal(digests.sha256, undefined);
    assert.equal(digests.checksum, undefined);
  });
});

test('a cancelled run frees its thread for the next one', async () => {
  const run = pool.start({ sha256: false, checksum: 'CRC32' });
  run.take(randomBytes(2 * 1024 * 1024 + 5));
  run.cancel();
  await assert.rejects(run.digests(), /cancelled/);
  const body = randomBytes(1024 * 1024 + 1);
  const next = pool.start({ sha256: false, checksum: 'CRC32' });
  await feed(next, [body]);
  assert.deepEqual((await next.digests()).md5, createHash('md5').update(body).digest());
});

test('closing the pool fails a run still open instead of leaving its caller waiting', async () => {
  const own = new DigestWorkerPool(1);
  const run = own.start({ sha256: false, checksum: undefined });
  run.take(randomBytes(1024 * 1024));
  await own.close();
  await assert.rejects(run.digests());
  assert.throws(() => own.start({ sha256: false, checksum: undefined }), /closed/);
});

test('a pool whose threads cannot start gives up after a few tries: bodies are then hashed in place', async () => {
  const broken = new DigestWorkerPool(1, new URL('./no-such-digest-worker.js', import.meta.url));
  try {
    assert.equal(broken.minBytes, 1024 * 1024);
    for (let i = 0; i < 3; i++) {
      const run = broken.start({ sha256: false, checksum: undefined });
      run.take(randomBytes(1024 * 1024));
      await assert.rejects(run.digests());
    }
    assert.equal(broken.minBytes, Number.POSITIVE_INFINITY);
  } finally {
    await broken.close();
  }
});
