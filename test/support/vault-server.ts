import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { repoRoot } from './repo-root.js';

/** A Holdfast server started from the built CLI, as a user would run it. */
export interface RunningVault {
  /** Base URL for path-style requests, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** The last lines the server wrote to stdout and stderr, for failure messages. */
  output(): string;
  /**
   * SIGTERM, then wait for exit. Rejects unless the server exits with code 0 (the graceful-shutdown
   * contract). Removes the data directory if startVault created it. Safe to call after kill9().
   */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. Leaves the data directory for a restart on the same dataDir. */
  kill9(): Promise<void>;
}

export interface StartVaultOptions {
  /** Use this directory (kept afterwards) instead of a fresh temporary one. */
  readonly dataDir?: string;
  /**
   * Extra environment for the server. `HOLDFAST_ROOT_ACCESS_KEY_ID` and
   * `HOLDFAST_ROOT_SECRET_ACCESS_KEY` given here replace the random credentials, which is how a
   * restart after kill9() keeps the same identity.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** PEM CA certificate to trust when the server serves HTTPS (tlsCertFile/tlsKeyFile in `env`). */
  readonly ca?: string;
  /** How long to wait for the `listening on` line. */
  readonly startTimeoutMs?: number;
}

export const REGION = 'us-east-1';

const LISTENING = /listening on (https?:\/\/\S+)/;
const OUTPUT_TAIL_CHARS = 16_000;
const STOP_TIMEOUT_MS = 15_000;
/**
 * The built CLI. HOLDFAST_TEST_SERVER_ENTRY points the suite at another build of it (an installed
 * release, a branch's dist/) without rebuilding this checkout.
 */
const serverEntry = process.env.HOLDFAST_TEST_SERVER_ENTRY ?? join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** Children still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * A random credential pair in the shape AWS uses: a 20-character upper-case alphanumeric key id
 * and a 40-character secret. Only alphanumerics, so that no client's config syntax (s3cmd's INI
 * file, rclone's env, URL userinfo) needs quoting.
 */
export function randomCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return {
    accessKeyId: randomString(20, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
    secretAccessKey: randomString(40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
  };
}

function randomString(length: number, alphabet: string): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      // Rejection sampling keeps every character equally likely.
      if (byte < 256 - (256 % alphabet.length) && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

export async function startVault(options: StartVaultOptions = {}): Promise<RunningVault> {
  if (!existsSync(serverEntry)) {
    throw new Error(`${serverEntry} does not exist: run \`npm run build\` first`);
  }
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'holdfast-vault-')));
  const generated = randomCredentials();
  const accessKeyId = options.env?.HOLDFAST_ROOT_ACCESS_KEY_ID ?? generated.accessKeyId;
  const secretAccessKey = options.env?.HOLDFAST_ROOT_SECRET_ACCESS_KEY ?? generated.secretAccessKey;

  // The server gets no HOLDFAST_* settings from whoever runs the tests: each test states its own.
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('HOLDFAST_')) env[name] = value;
  }
  Object.assign(env, options.env, {
    HOLDFAST_ROOT_ACCESS_KEY_ID: accessKeyId,
    HOLDFAST_ROOT_SECRET_ACCESS_KEY: secretAccessKey,
  });

  const child = spawn(process.execPath, [serverEntry, 'server', '--data', dataDir, '--listen', '127.0.0.1:0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let tail = '';
  const record = (stream: string) => (chunk: Buffer) => {
    tail += chunk.toString('utf8').replace(/^/gm, `[${stream}] `);
    if (tail.length > OUTPUT_TAIL_CHARS) tail = tail.slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', record('stdout'));
  child.stderr.on('data', record('stderr'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });

  const removeOwnedDir = async () => {
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
  };

  let endpoint: string;
  try {
    endpoint = await waitForListening(child.stdout, exited, options.startTimeoutMs ?? 20_000, () => tail);
    await expectHealthy(endpoint, () => tail, options.ca);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await removeOwnedDir();
    throw error;
  }

  const waitForExit = async (timeoutMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    dataDir,
    process: child,
    output: () => tail,
    async stop() {
      const alreadyExited = child.exitCode !== null || child.signalCode !== null;
      if (!alreadyExited) child.kill('SIGTERM');
      const result = await waitForExit(STOP_TIMEOUT_MS);
      if (result === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        await removeOwnedDir();
        throw new Error(`server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${tail}`);
      }
      await removeOwnedDir();
      if (!alreadyExited && (result.code !== 0 || result.signal !== null)) {
        throw new Error(
          `server exited with code ${result.code} signal ${result.signal} on SIGTERM (expected 0)\n${tail}`,
        );
      }
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function waitForListening(
  stdoutStream: Readable,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  timeoutMs: number,
  output: () => string,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let stdout = '';
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = LISTENING.exec(stdout);
      if (match?.[1] !== undefined) {
        finish();
        // Normalise to the origin: path-style clients append `/bucket/key` themselves.
        resolve(new URL(match[1]).origin);
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`server printed no "listening on" line within ${timeoutMs} ms\n${output()}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      stdoutStream.off('data', onData);
    };
    stdoutStream.on('data', onData);
    void exited.then(({ code, signal }) => {
      finish();
      reject(new Error(`server exited (code ${code}, signal ${signal}) before listening\n${output()}`));
    });
  });
}

async function expectHealthy(endpoint: string, output: () => string, ca: string | undefined): Promise<void> {
  const status = await new Promise<number>((resolve, reject) => {
    const get = endpoint.startsWith('https:') ? httpsGet : httpGet;
    const req = get(`${endpoint}/_holdfast/health`, { timeout: 5_000, ...(ca === undefined ? {} : { ca }) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('health probe timed out')));
    req.on('error', reject);
  });
  if (status !== 200) {
    throw new Error(`GET /_holdfast/health answered ${status}, expected 200\n${output()}`);
  }
}
