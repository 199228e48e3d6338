// Bodies stream (issue 2, "Durability and resource bounds"): a 1 GiB PUT with UNSIGNED-PAYLOAD
// and its GET pass through the server while its resident memory stays within a fixed margin of
// the idle baseline. The object is generated on the fly from a seed and hashed on the fly on both
// ways, so neither side of the test holds it in memory either.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { test } from 'node:test';
import { startVault } from '../support/vault-server.js';
import { RssSampler, mib, procAvailable, residentBytes } from './process-memory.js';
import { seedFromEnv, seededBytes, seededStream, sha256Hex } from './seeded-content.js';
import { EMPTY_SHA256, SignedS3Client, UNSIGNED_PAYLOAD, describeResponse, keyPath } from './signed-http-client.js';

const SIZE = 1024 ** 3;
/** Socket buffers, the blob store's write batches and read-ahead need a few MiB; a buffered body needs 1 GiB. */
const RSS_MARGIN = 200 * 1024 * 1024;
const BUCKET = 'streaming';
const SEED_ENV = 'HOLDFAST_STREAMING_SEED';

void test('a 1 GiB object streams in and out with the server RSS bounded', { timeout: 60_000 }, async (t) => {
  if (!procAvailable()) {
    t.skip('reads the server RSS from /proc: Linux only');
    return;
  }
  const seed = seedFromEnv(SEED_ENV);
  const label = `streaming-memory:${seed}`;
  const vault = await startVault();
  t.after(() => vault.stop());
  const pid = vault.process.pid ?? assert.fail('server has no pid');
  const client = new SignedS3Client(vault.endpoint, vault, { idleTimeoutMs: 30_000 });
  t.after(() => client.close());

  const created = await client.send({ method: 'PUT', path: `/${BUCKET}`, payloadHash: EMPTY_SHA256 });
  assert.equal(created.status, 200, describeResponse(created));
  // Warm up the PUT and GET paths so that lazily loaded code is part of the baseline.
  const warm = seededBytes(`${label}:warm-up`, 2 * 1024 * 1024);
  const warmPut = await client.send({
    method: 'PUT',
    path: keyPath(BUCKET, 'warm-up'),
    headers: { 'content-length': String(warm.length) },
    payloadHash: UNSIGNED_PAYLOAD,
    body: warm,
  });
  assert.equal(warmPut.status, 200, describeResponse(warmPut));
  const warmGet = await client.send({ method: 'GET', path: keyPath(BUCKET, 'warm-up'), payloadHash: EMPTY_SHA256 });
  assert.equal(sha256Hex(warmGet.body), sha256Hex(warm), 'warm-up object content');
  const baseline = await residentBytes(pid);

  const sampler = new RssSampler(pid, 50);
  const putStarted = performance.now();
  const sent = createHash('sha256');
  let sentBytes = 0;
  const body = seededStream(label, SIZE).pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent.update(chunk);
        sentBytes += chunk.length;
        done(null, chunk);
      },
    }),
  );
  const put = await client.send({
    method: 'PUT',
    path: keyPath(BUCKET, 'one-gib.bin'),
    headers: { 'content-length': String(SIZE), 'content-type': 'application/octet-stream' },
    payloadHash: UNSIGNED_PAYLOAD,
    body,
  });
  const putSeconds = (performance.now() - putStarted) / 1000;
  assert.equal(put.status, 200, `PUT of 1 GiB: ${describeResponse(put)}`);
  assert.equal(sentBytes, SIZE, 'the client sent the whole body');
  const afterPut = await sampler.stop();

  const getSampler = new RssSampler(pid, 50);
  const getStarted = performance.now();
  const response = await client.open({ method: 'GET', path: keyPath(BUCKET, 'one-gib.bin'), payloadHash: EMPTY_SHA256 });
  assert.equal(response.statusCode, 200, 'GET of the 1 GiB object');
  const received = createHash('sha256');
  let receivedBytes = 0;
  for await (const chunk of response) {
    received.update(chunk as Buffer);
    receivedBytes += (chunk as Buffer).length;
  }
  assert.ok(response.complete, 'GET response cut short');
  const getSeconds = (performance.now() - getStarted) / 1000;
  const afterGet = await getSampler.stop();

  assert.equal(receivedBytes, SIZE, 'bytes read back');
  assert.equal(received.digest('hex'), sent.digest('hex'), 'the object read back differs from what was sent');
  for (const [phase, { peak, samples }] of [['PUT', afterPut], ['GET', afterGet]] as const) {
    assert.ok(samples >= 5, `only ${samples} RSS samples during the ${phase}`);
    assert.ok(
      peak - baseline < RSS_MARGIN,
      `server RSS peaked at ${mib(peak)} during the ${phase}, ${mib(peak - baseline)} above the idle ` +
        `${mib(baseline)} (allowed: ${mib(RSS_MARGIN)}); the body is being buffered\n${vault.output()}`,
    );
  }
  t.diagnostic(
    `seed ${seed}: baseline ${mib(baseline)}; peak during PUT ${mib(afterPut.peak)} (${putSeconds.toFixed(1)} s, ` +
      `${afterPut.samples} samples), during GET ${mib(afterGet.peak)} (${getSeconds.toFixed(1)} s, ${afterGet.samples} samples)`,
  );
});
