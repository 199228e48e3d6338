import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { run } from './pg-host.js';

/**
 * The one vault of a `bench:pg` run: the built CLI's embedded server (SQLite + files) in its own
 * fresh data directory, over HTTPS with a self-signed certificate made by `holdfast cert` —
 * pgBackRest speaks S3 only over TLS — root credentials generated for this run and given in the
 * server's environment (there are no default credentials). Everything else is done with scoped
 * service identities made through `holdfast admin`, as an operator would.
 */

export const REGION = 'us-east-1';
const START_TIMEOUT_MS = 30_000;

export interface KeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface BenchVault {
  /** `https://127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** The self-signed certificate (readable by the postgres user): AWS_CA_BUNDLE for Holdfast's CLI. */
  readonly caFile: string;
  /** `holdfast admin ARGS --json` as root. */
  admin<T>(args: readonly string[]): Promise<T>;
  /** Creates a bucket; with Object Lock and a COMPLIANCE default retention of `lockDays` when given. */
  createBucket(name: string, lockDays?: number): Promise<void>;
  output(): string;
  stop(): Promise<void>;
  kill(): void;
}

export async function startBenchVault(cliEntry: string, dir: string): Promise<BenchVault> {
  const tlsDir = join(dir, 'tls');
  // Traversable, not listable: the postgres user reads the certificate; data/ stays the vault's (0700).
  await mkdir(dir, { mode: 0o711 });
  await run(process.execPath, [cliEntry, 'cert', '--out', tlsDir], { env: process.env, timeoutMs: 30_000 });
  // The key stays 0600 (root's vault reads it); the postgres user must read the certificate.
  await chmod(tlsDir, 0o755);
  const caFile = join(tlsDir, 'holdfast.crt');
  const root: KeyPair = {
    accessKeyId: `HFBENCH${randomString(13, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
    secretAccessKey: randomString(40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
  };
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('HOLDFAST_') && !name.startsWith('AWS_')) env[name] = value;
  env.HOLDFAST_ROOT_ACCESS_KEY_ID = root.accessKeyId;
  env.HOLDFAST_ROOT_SECRET_ACCESS_KEY = root.secretAccessKey;
  const flags = (process.env.HOLDFAST_BENCH_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
  const child: ChildProcess = spawn(
    process.execPath,
    [...flags, cliEntry, 'server', '--data', join(dir, 'data'), '--listen', '127.0.0.1:0', '--tls-cert', caFile, '--tls-key', join(tlsDir, 'holdfast.key')],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-16_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the vault did not start in ${START_TIMEOUT_MS / 1000} s:\n${tail}`)), START_TIMEOUT_MS);
    const onData = () => {
      const match = /listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(tail);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the vault exited before listening:\n${tail}`));
    });
  });
  const endpoint = `https://127.0.0.1:${port}`;
  const ca = await readFile(caFile);
  const adminEnv: NodeJS.ProcessEnv = { ...env, AWS_ACCESS_KEY_ID: root.accessKeyId, AWS_SECRET_ACCESS_KEY: root.secretAccessKey, AWS_CA_BUNDLE: caFile, HOLDFAST_ENDPOINT: endpoint };
  delete adminEnv.HOLDFAST_ROOT_ACCESS_KEY_ID;
  delete adminEnv.HOLDFAST_ROOT_SECRET_ACCESS_KEY;
  return {
    endpoint,
    port,
    pid: child.pid ?? -1,
    caFile,
    async admin<T>(args: readonly string[]): Promise<T> {
      const result = await run(process.execPath, [cliEntry, 'admin', ...args, '--json'], { env: adminEnv, timeoutMs: 30_000 });
      return JSON.parse(result.stdout) as T;
    },
    async createBucket(name: string, lockDays?: number) {
      const client = new S3Client({
        endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials: root,
        maxAttempts: 1,
        requestHandler: { httpsAgent: new Agent({ ca }) },
      });
      try {
        await client.send(new CreateBucketCommand({ Bucket: name, ...(lockDays === undefined ? {} : { ObjectLockEnabledForBucket: true }) }));
        if (lockDays !== undefined) {
          await client.send(
            new PutObjectLockConfigurationCommand({
              Bucket: name,
              ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: lockDays } } },
            }),
          );
        }
      } finally {
        client.destroy();
      }
    },
    output: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Creates a service identity with roles (or none) and one key through `holdfast admin`. */
export async function createServiceKey(vault: BenchVault, name: string, roles: readonly string[]): Promise<KeyPair> {
  await vault.admin(['users', 'create', name, '--service', ...roles.flatMap((role) => ['--role', role])]);
  return vault.admin<KeyPair>(['keys', 'create', name]);
}

function randomString(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}
