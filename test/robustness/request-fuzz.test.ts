// Fuzzing the request parser and key handling (issue 2, "Proven by"): hundreds of malformed,
// hostile and forged requests over raw TCP against one running server. Properties, checked after
// every case:
//   - every response is an S3 XML error (4xx; HEAD: just the status) or a success the request
//     earned by being correctly signed and valid; never a 5xx;
//   - a correctly signed PUT of a hostile key stores exactly that key (read back byte-exact,
//     listed verbatim, distinct from its Unicode-equivalent spellings) or is refused;
//   - broken bodies (aws-chunked, Content-Length, tampered signatures) store nothing;
//   - the server keeps answering its health probe and never exits;
//   - nothing appears or changes outside the data directory, and inside it only the database and
//     blobs named by 32 hex characters;
//   - the server's RSS stays within a fixed margin of its idle baseline.
// Replay a failure with HOLDFAST_FUZZ_SEED=<seed> (and HOLDFAST_FUZZ_PATH=<path> to jump to the
// shrunk counterexample), both printed by fast-check.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { mib, procAvailable, residentBytes } from '../durability/process-memory.js';
import { seedFromEnv } from '../durability/seeded-content.js';
import { RequestSigner, keyPath } from '../durability/signed-http-client.js';
import { dataDirProblems, diffSnapshots, snapshotTree, startConfinedServer } from './confined-server.js';
import { describeCase, fuzzCase, type FuzzCase } from './hostile-input.js';
import { exchange, rawRequest } from './raw-http.js';
import { BUCKET, EXISTING_KEY, type FuzzTarget, call, createUpload, responseProblems, runCase } from './request-fuzz-cases.js';

const NUM_RUNS = 400;
/** Stop generating new cases after this long (shrinking a failure may add to it). */
const TIME_LIMIT_MS = 50_000;
/** Fewer cases than this (a slow machine hit the time limit) would make the test too weak to pass. */
const MIN_RUNS = 150;
/** XML bodies are capped at 2 MiB and headers at 16 KiB before parsing; nothing here should cost more. */
const RSS_MARGIN = 150 * 1024 * 1024;

void test('hostile and malformed requests get S3 errors, never crash the server or escape the data directory', { timeout: 120_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'holdfast-fuzz-'));
  const server = await startConfinedServer(root).catch(async (error: unknown) => {
    await rm(root, { recursive: true, force: true });
    throw error;
  });
  t.after(async () => {
    await server.stop();
    await rm(root, { recursive: true, force: true });
  });
  const signer = new RequestSigner(server.endpoint, server.credentials);
  let counter = 0;
  const target: FuzzTarget = {
    port: server.port,
    signer,
    accessKeyId: server.credentials.accessKeyId,
    secretAccessKey: server.credentials.secretAccessKey,
    existingBody: Buffer.from('the existing object\n'),
    uploadId: '',
    nextKey: (prefix) => `${prefix}-${++counter}`,
  };

  // The harness itself must work, or every property below would hold vacuously.
  const created = await call(target, 'PUT', `/${BUCKET}`);
  assert.equal(created.status, 200, `CreateBucket: ${created.statusLine} ${created.body.toString()}`);
  const put = await call(target, 'PUT', keyPath(BUCKET, EXISTING_KEY), {}, target.existingBody);
  assert.equal(put.status, 200, `PUT ${EXISTING_KEY}: ${put.statusLine} ${put.body.toString()}`);
  const got = await call(target, 'GET', keyPath(BUCKET, EXISTING_KEY));
  assert.deepEqual([got.status, got.body.toString()], [200, target.existingBody.toString()], 'signed GET over a raw socket');
  target.uploadId = await createUpload(target);
  const anonymous = await exchange(server.port, rawRequest(`GET /${BUCKET}/${EXISTING_KEY} HTTP/1.1`, [['Host', 'x'], ['Connection', 'close']]), { waitMs: 5_000, methods: ['GET'] });
  assert.equal(anonymous.responses[0]?.status, 403, 'an unsigned GET is refused');
  assert.deepEqual(responseProblems(anonymous, ['GET'], { success: false }), [], 'the refusal is a well-formed S3 error');
  for (const mode of ['signed', 'unsigned-trailer'] as const) {
    const valid: FuzzCase = { kind: 'chunked', mode, size: 70_000, chunkSize: 64 * 1024, mutation: 'none', at: 0, badSize: '', decodedLength: 'exact' };
    assert.deepEqual(await runCase(valid, target), [], `a valid ${mode} aws-chunked upload is stored`);
  }

  const outside = (rel: string) => rel === 'data';
  const rootBefore = await snapshotTree(root, outside);
  const knownInData = new Set((await snapshotTree(server.dataDir)).keys());
  const measureRss = procAvailable();
  const baseline = measureRss ? await residentBytes(server.pid) : 0;
  let peak = baseline;
  let runs = 0;
  const kinds = new Map<string, number>();

  const property = fc.asyncProperty(fuzzCase, async (c) => {
    runs++;
    kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    const problems = await runCase(c, target);

    const health = await exchange(server.port, rawRequest('GET /_holdfast/health HTTP/1.1', [['Host', 'x'], ['Connection', 'close']]), { waitMs: 5_000, methods: ['GET'] });
    if (health.responses[0]?.status !== 200) problems.push(`health probe afterwards: ${health.responses[0]?.statusLine ?? 'no answer'}`);
    if (server.exitStatus() !== undefined) problems.push(`the server exited: ${server.exitStatus()}`);

    problems.push(...diffSnapshots(rootBefore, await snapshotTree(root, outside)).map((line) => `outside the data directory: ${line}`));
    problems.push(...(await dataDirProblems(server.dataDir, knownInData)));

    if (measureRss && server.exitStatus() === undefined) {
      const rss = await residentBytes(server.pid);
      peak = Math.max(peak, rss);
      if (rss - baseline > RSS_MARGIN) problems.push(`server RSS ${mib(rss)} is ${mib(rss - baseline)} above its ${mib(baseline)} baseline`);
    }
    assert.deepEqual(problems, [], `case ${describeCase(c)}\n--- server output ---\n${server.output().slice(-3000)}`);
  });

  const seed = seedFromEnv('HOLDFAST_FUZZ_SEED');
  const path = process.env.HOLDFAST_FUZZ_PATH;
  await fc.assert(property, {
    seed,
    ...(path === undefined ? {} : { path }),
    numRuns: NUM_RUNS,
    plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)],
  });
  assert.ok(runs >= MIN_RUNS, `only ${runs} cases ran within ${TIME_LIMIT_MS} ms (seed ${seed}); the server or machine is too slow for a meaningful run`);
  t.diagnostic(`seed ${seed}: ${runs} cases (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}); server RSS ${mib(baseline)} → peak ${mib(peak)}`);
});
