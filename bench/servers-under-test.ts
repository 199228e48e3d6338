import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import { exchange } from './http-exchange.js';
import { BenchSigner } from './sigv4-signer.js';
import type { HttpTarget } from './workload.js';

export const BUCKET = 'bench';
const REGION = 'us-east-1';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

export interface ServerUnderTest {
  readonly target: HttpTarget;
  readonly pid: number;
  /** The last lines the server printed, for failure reports. */
  output(): string;
  stop(): Promise<void>;
  kill(): void;
}

/**
 * Holdfast as a user runs it: the built CLI, a fresh data directory, root credentials generated for
 * this run (never literals), loopback only. The bench's own environment reaches it, minus HOLDFAST_*.
 */
export async function startHoldfast(serverEntry: string, dataDir: string): Promise<ServerUnderTest> {
  const credentials = {
    accessKeyId: randomString(20, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
    secretAccessKey: randomString(40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
  };
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('HOLDFAST_')) env[name] = value;
  env.HOLDFAST_ROOT_ACCESS_KEY_ID = credentials.accessKeyId;
  env.HOLDFAST_ROOT_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  const child = spawn(
    process.execPath,
    [...holdfastNodeFlags(), serverEntry, 'server', '--data', dataDir, '--listen', '127.0.0.1:0'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = captureOutput(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Holdfast did not start in ${START_TIMEOUT_MS} ms:\n${output()}`)), START_TIMEOUT_MS);
    const onData = () => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output());
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Holdfast exited (${signal ?? `code ${code}`}) before listening:\n${output()}`));
    });
  });
  const target: HttpTarget = { port, bucket: BUCKET, region: REGION, ...credentials };
  const server = wrap(child, target, output, 'SIGTERM');
  try {
    await createBucket(target);
  } catch (error) {
    server.kill();
    throw error;
  }
  return server;
}

/**
 * Extra node flags for the Holdfast process from HOLDFAST_BENCH_NODE_FLAGS (space-separated),
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the server under the benchmark's load.
 */
function holdfastNodeFlags(): string[] {
  return (process.env.HOLDFAST_BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
}

/** s3rver only knows its built-in key pair, and does not check V4 signatures beyond the key id. */
export async function startS3rver(directory: string): Promise<ServerUnderTest> {
  return startForked(new URL('./s3rver-process.js', import.meta.url), [directory], {
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  });
}

/** The do-nothing server; it checks no credentials, so any will do. */
export async function startNullServer(): Promise<ServerUnderTest> {
  return startForked(new URL('./null-server.js', import.meta.url), [], {
    accessKeyId: 'NULLSERVERNOAUTH0000',
    secretAccessKey: 'unused-by-the-null-server-0000000000000',
  });
}

async function startForked(
  module: URL,
  args: string[],
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<ServerUnderTest> {
  const child = fork(fileURLToPath(module), args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const output = captureOutput(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${module.pathname} did not start:\n${output()}`)), START_TIMEOUT_MS);
    child.once('message', (message: unknown) => {
      clearTimeout(timer);
      resolve((message as { port: number }).port);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${module.pathname} exited (${signal ?? `code ${code}`}) before listening:\n${output()}`));
    });
  });
  return wrap(child, { port, bucket: BUCKET, region: REGION, ...credentials }, output, 'disconnect');
}

function wrap(
  child: ChildProcess,
  target: HttpTarget,
  output: () => string,
  stopBy: 'SIGTERM' | 'disconnect',
): ServerUnderTest {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    target,
    pid: child.pid ?? 0,
    output,
    kill: () => child.kill('SIGKILL'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (stopBy === 'SIGTERM') child.kill('SIGTERM');
      else if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function createBucket(target: HttpTarget): Promise<void> {
  const signer = new BenchSigner(target);
  const path = `/${target.bucket}`;
  const headers = await signer.signHeaders('PUT', path, { 'content-length': '0' });
  const agent = new Agent({ keepAlive: false });
  try {
    const reply = await exchange(agent, target.port, 'PUT', path, headers, Buffer.alloc(0));
    if (reply.status !== 200) throw new Error(`CreateBucket ${target.bucket}: HTTP ${reply.status} ${reply.errorHead}`);
  } finally {
    agent.destroy();
  }
}

/** Peak resident set size of a live process (VmHWM), in bytes; undefined when it cannot be read. */
export async function peakRssBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

function captureOutput(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail;
}

function randomString(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}
