/**
 * The load generator: a process of its own (forked by s3-bench.ts), so the server under test does
 * not share its event loop. It receives one scenario at a time over IPC and replies with the
 * measurement. node:http with keep-alive agents; 4 KiB requests use presigned URLs prepared before
 * the timed window (see sigv4-signer.ts for why).
 */
import { randomBytes } from 'node:crypto';
import { type Agent } from 'node:http';
import { runClosedLoop, runOnce } from './closed-loop.js';
import { exchange, exchangeStreamed, keepAliveAgent } from './http-exchange.js';
import { serveRequests } from './ipc-worker.js';
import { BenchSigner } from './sigv4-signer.js';
import {
  type HttpTarget,
  KEYS_KEPT_FOR_GETS,
  type PointResult,
  SMALL_OBJECT_BYTES,
  type Scenario,
  type WorkRequest,
} from './workload.js';

/** Long enough for the whole run, far below SigV4's 7-day limit. */
const PRESIGN_EXPIRY_SECONDS = 3600;
/** After the timed window, in-flight requests get this long before their sockets are destroyed. */
const DRAIN_GRACE_MS = 30_000;
/** A 1 GiB transfer slower than this is a hang, not a measurement. */
const LARGE_TIMEOUT_MS = 180_000;

const FILL = randomBytes(1024 * 1024);
const SMALL_BODY = randomBytes(SMALL_OBJECT_BYTES);
const SMALL_PUT_HEADERS = Object.freeze({ 'content-length': String(SMALL_OBJECT_BYTES) });

serveRequests(async (request: WorkRequest): Promise<PointResult> => {
  if (request.target === undefined) throw new Error('the load generator needs a target');
  return run(request.target, request.scenario);
});

async function run(target: HttpTarget, scenario: Scenario): Promise<PointResult> {
  const signer = new BenchSigner(target);
  switch (scenario.kind) {
    case 'large-put':
      return largePut(target, signer, scenario.key, scenario.bytes);
    case 'large-get':
      return largeGet(target, signer, scenario.key, scenario.bytes);
    case 'small-put':
      return smallPut(target, signer, scenario);
    case 'small-get':
      return smallGet(target, signer, scenario);
  }
}

async function largePut(target: HttpTarget, signer: BenchSigner, key: string, bytes: number): Promise<PointResult> {
  const path = `/${target.bucket}/${key}`;
  const headers = await signer.signHeaders('PUT', path, { 'content-length': String(bytes) });
  return withAgent(keepAliveAgent(1), LARGE_TIMEOUT_MS, (agent) =>
    runOnce(async () => {
      const reply = await exchangeStreamed(agent, target.port, path, headers, FILL, bytes);
      return reply.status === 200 ? bytes : `PUT ${key}: HTTP ${reply.status} ${reply.errorHead}`;
    }),
  );
}

async function largeGet(target: HttpTarget, signer: BenchSigner, key: string, bytes: number): Promise<PointResult> {
  const path = `/${target.bucket}/${key}`;
  const headers = await signer.signHeaders('GET', path, {});
  return withAgent(keepAliveAgent(1), LARGE_TIMEOUT_MS, (agent) =>
    runOnce(async () => {
      const reply = await exchange(agent, target.port, 'GET', path, headers, undefined);
      if (reply.status !== 200) return `GET ${key}: HTTP ${reply.status} ${reply.errorHead}`;
      if (reply.bodyBytes !== bytes) return `GET ${key}: ${reply.bodyBytes} bytes, expected ${bytes}`;
      return bytes;
    }),
  );
}

async function smallPut(
  target: HttpTarget,
  signer: BenchSigner,
  scenario: Extract<Scenario, { kind: 'small-put' }>,
): Promise<PointResult> {
  const keys = Array.from({ length: scenario.maxOps }, (_, i) => `${scenario.keyPrefix}${i}`);
  const urls = await presignAll(signer, 'PUT', target.bucket, keys);
  const written: string[] = [];
  const result = await withAgent(
    keepAliveAgent(scenario.concurrency),
    scenario.warmupMs + scenario.durationMs + DRAIN_GRACE_MS,
    (agent) =>
      runClosedLoop(scenario, async (index) => {
        const key = keys[index] ?? '';
        const reply = await exchange(agent, target.port, 'PUT', urls[index] ?? '', SMALL_PUT_HEADERS, SMALL_BODY);
        if (reply.status !== 200) return `PUT ${key}: HTTP ${reply.status} ${reply.errorHead}`;
        if (written.length < KEYS_KEPT_FOR_GETS) written.push(key);
        return SMALL_OBJECT_BYTES;
      }),
  );
  return { ...result, writtenKeys: written };
}

async function smallGet(
  target: HttpTarget,
  signer: BenchSigner,
  scenario: Extract<Scenario, { kind: 'small-get' }>,
): Promise<PointResult> {
  if (scenario.keys.length === 0) throw new Error('no keys to read: every PUT before this point failed');
  const urls = await presignAll(signer, 'GET', target.bucket, scenario.keys);
  return withAgent(
    keepAliveAgent(scenario.concurrency),
    scenario.warmupMs + scenario.durationMs + DRAIN_GRACE_MS,
    (agent) =>
      runClosedLoop({ ...scenario, maxOps: Number.MAX_SAFE_INTEGER }, async (index) => {
        const slot = index % urls.length;
        const reply = await exchange(agent, target.port, 'GET', urls[slot] ?? '', undefined, undefined);
        const key = scenario.keys[slot] ?? '';
        if (reply.status !== 200) return `GET ${key}: HTTP ${reply.status} ${reply.errorHead}`;
        if (reply.bodyBytes !== SMALL_OBJECT_BYTES) return `GET ${key}: ${reply.bodyBytes} bytes, expected ${SMALL_OBJECT_BYTES}`;
        return SMALL_OBJECT_BYTES;
      }),
  );
}

async function presignAll(
  signer: BenchSigner,
  method: 'GET' | 'PUT',
  bucket: string,
  keys: readonly string[],
): Promise<string[]> {
  const urls: string[] = [];
  for (const key of keys) urls.push(await signer.presign(method, `/${bucket}/${key}`, PRESIGN_EXPIRY_SECONDS));
  return urls;
}

/** Runs `body` with a fresh agent; destroys the agent's sockets when done or after `timeoutMs`. */
async function withAgent<T>(agent: Agent, timeoutMs: number, body: (agent: Agent) => Promise<T>): Promise<T> {
  const watchdog = setTimeout(() => agent.destroy(), timeoutMs);
  try {
    return await body(agent);
  } finally {
    clearTimeout(watchdog);
    agent.destroy();
  }
}
