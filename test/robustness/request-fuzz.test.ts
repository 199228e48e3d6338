// Fuzzing the request parser and key handling (issue 2, "Proven by"): hundreds of malformed,
// hostile and forged requests over raw TCP against a running server. Properties, checked after
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
// A case that kills the server fails, and the next case gets a fresh server, so that fast-check
// can shrink the failure to the smallest request that still kills it.
// Replay a failure with HOLDFAST_FUZZ_SEED=<seed> (and HOLDFAST_FUZZ_PATH=<path> to go straight
// to the shrunk counterexample), both printed by fast-check.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { mib, procAvailable, residentBytes } from '../durability/process-memory.js';
import { RequestSigner, keyPath } from '../durability/signed-http-client.js';
import { type ConfinedServer, dataDirProblems, diffSnapshots, prepareConfinement, snapshotTree, startConfinedServer } from './confined-server.js';
import { type FuzzCase, describeCase, fuzzCase } from './hostile-input.js';
import { exchange, rawRequest } from './raw-http.js';
import { BUCKET, EXISTING_KEY, type FuzzTarget, call, createUpload, responseProblems, runCase } from './request-fuzz-cases.js';

const NUM_RUNS = 500;
/** Stop generating new cases after this long (shrinking a failure may add to it). */
const TIME_LIMIT_MS = 50_000;
/** Fewer cases than this (a slow machine hit the time limit) would make the test too weak to pass. */
const MIN_RUNS = 150;
/**
 * No case sends more than a few MiB, and XML bodies and headers are capped before parsing: RSS
 * grows by well under 100 MiB in practice (lazy GC, parser garbage). A leak per case would pass it.
 */
const RSS_MARGIN = 200 * 1024 * 1024;
const SEED_ENV = 'HOLDFAST_FUZZ_SEED';

interface Session {
  readonly server: ConfinedServer;
  readonly target: FuzzTarget;
  /**
   * Files in the data directory once the server had started (database, key file, lock), and any
   * an earlier case was already failed for, so that each violation fails only the case that caused it.
   */
  readonly knownInData: Set<string>;
  readonly baselineRss: number;
}

/** A fresh server on an empty data directory, with the bucket, object and upload the cases aim at, checked to work. */
async function openSession(root: string): Promise<Session> {
  await rm(join(root, 'data'), { recursive: true, force: true });
  const server = await startConfinedServer(root);
  let counter = 0;
  const target: FuzzTarget = {
    port: server.port,
    signer: new RequestSigner(server.endpoint, server.credentials),
    accessKeyId: server.credentials.accessKeyId,
    secretAccessKey: server.credentials.secretAccessKey,
    existingBody: Buffer.from('the existing object\n'),
    uploadId: '',
    nextKey: (prefix) => `${prefix}-${++counter}`,
  };
  try {
    const created = await call(target, 'PUT', `/${BUCKET}`);
    assert.equal(created.status, 200, `CreateBucket: ${created.statusLine} ${created.body.toString()}`);
    const put = await call(target, 'PUT', keyPath(BUCKET, EXISTING_KEY), {}, target.existingBody);
    assert.equal(put.status, 200, `PUT ${EXISTING_KEY}: ${put.statusLine} ${put.body.toString()}`);
    target.uploadId = await createUpload(target);
  } catch (error) {
    await server.stop();
    throw error;
  }
  const knownInData = new Set((await snapshotTree(server.dataDir)).keys());
  const baselineRss = procAvailable() ? await residentBytes(server.pid) : 0;
  return { server, target, knownInData, baselineRss };
}

/** The health probe, unauthenticated, as a load balancer sends it. */
async function healthy(port: number): Promise<string | undefined> {
  const ex = await exchange(port, rawRequest('GET /_holdfast/health HTTP/1.1', [['Host', 'x'], ['Connection', 'close']]), { waitMs: 5_000, methods: ['GET'] });
  const status = ex.responses[0]?.status;
  return status === 200 ? undefined : `health probe: ${ex.responses[0]?.statusLine ?? `no answer (${ex.socketError ?? 'closed'})`}`;
}

function fuzzSeed(): number {
  const given = process.env[SEED_ENV];
  if (given === undefined || given === '') return randomInt(-(2 ** 31), 2 ** 31);
  if (!/^-?\d{1,10}$/.test(given)) throw new Error(`${SEED_ENV} must be an integer seed as fast-check prints it, got ${JSON.stringify(given)}`);
  return Number(given);
}

void test('hostile and malformed requests get S3 errors, never crash the server or escape the data directory', { timeout: 150_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'holdfast-fuzz-'));
  let session: Session | undefined;
  t.after(async () => {
    await session?.server.stop();
    await rm(root, { recursive: true, force: true });
  });
  await prepareConfinement(root);
  session = await openSession(root);

  // The harness itself must work, or every property below would hold vacuously.
  const { target, server } = session;
  const got = await call(target, 'GET', keyPath(BUCKET, EXISTING_KEY));
  assert.deepEqual([got.status, got.body.toString()], [200, target.existingBody.toString()], 'a signed GET over a raw socket');
  const anonymous = await exchange(server.port, rawRequest(`GET /${BUCKET}/${EXISTING_KEY} HTTP/1.1`, [['Host', 'x'], ['Connection', 'close']]), { waitMs: 5_000, methods: ['GET'] });
  assert.equal(anonymous.responses[0]?.status, 403, 'an unsigned GET is refused');
  assert.deepEqual(responseProblems(anonymous, ['GET'], { success: false }), [], 'the refusal is a well-formed S3 error');
  for (const mode of ['signed', 'unsigned-trailer'] as const) {
    const valid: FuzzCase = { kind: 'chunked', mode, size: 70_000, chunkSize: 64 * 1024, mutation: 'none', at: 0, badSize: '', decodedLength: 'exact' };
    assert.deepEqual(await runCase(valid, target), [], `a valid ${mode} aws-chunked upload is stored`);
  }

  const outside = (rel: string) => rel === 'data';
  const rootAtStart = await snapshotTree(root, outside);
  let peakRss = 0;
  let runs = 0;
  let restarts = 0;
  const kinds = new Map<string, number>();

  const property = fc.asyncProperty(fuzzCase, async (c) => {
    runs++;
    kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    if (session === undefined || session.server.exitStatus() !== undefined) {
      await session?.server.stop();
      session = await openSession(root);
      restarts++;
    }
    const { server, target, knownInData, baselineRss } = session;
    // Compared per case, so that a change is blamed on the case that made it (and shrinking works).
    const rootBefore = await snapshotTree(root, outside);
    const problems = await runCase(c, target).catch((error: unknown) => [`the case could not complete: ${String(error)}`]);

    const unhealthy = await healthy(server.port);
    if (unhealthy !== undefined) {
      problems.push(unhealthy);
      await sleep(500);
    }
    if (server.exitStatus() !== undefined) {
      const stderr = server.output().split('\n').slice(-40).join('\n');
      problems.push(`the server died (${server.exitStatus()}); its last output:\n${stderr}`);
    }

    problems.push(...diffSnapshots(rootBefore, await snapshotTree(root, outside)).map((line) => `outside the data directory: ${line}`));
    const inData = await dataDirProblems(server.dataDir, knownInData);
    for (const { path } of inData) knownInData.add(path);
    problems.push(...inData.map(({ problem }) => problem));

    if (procAvailable() && server.exitStatus() === undefined) {
      const rss = await residentBytes(server.pid);
      peakRss = Math.max(peakRss, rss);
      if (rss - baselineRss > RSS_MARGIN) problems.push(`server RSS ${mib(rss)} is ${mib(rss - baselineRss)} above its ${mib(baselineRss)} baseline`);
    }
    assert.deepEqual(problems, [], `case ${describeCase(c)}`);
  });

  const seed = fuzzSeed();
  const path = process.env.HOLDFAST_FUZZ_PATH;
  await fc.assert(property, {
    seed,
    ...(path === undefined ? {} : { path }),
    numRuns: NUM_RUNS,
    includeErrorInReport: true,
    plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)],
  });
  assert.deepEqual(diffSnapshots(rootAtStart, await snapshotTree(root, outside)), [], 'changes outside the data directory by the end');
  assert.ok(runs >= MIN_RUNS, `only ${runs} cases ran within ${TIME_LIMIT_MS} ms (seed ${seed}); too few for a meaningful run`);
  t.diagnostic(
    `seed ${seed}: ${runs} cases (${[...kinds].map(([kind, n]) => `${kind} ${n}`).join(', ')}), ${restarts} restarts; ` +
      `server RSS peak ${mib(peakRss)} (baseline ${mib(session.baselineRss)})`,
  );
});
