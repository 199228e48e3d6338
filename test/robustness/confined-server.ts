// A server started inside a watched directory, so that a write escaping its data directory has
// somewhere observable to land:
//   root/data     the data directory (--data)
//   root/cwd      the server's working directory: where a relative path would resolve
//   root/sibling  a neighbour with a canary file: where `data/../sibling` would point
// test/support/vault-server.ts starts the server in the test runner's working directory (the
// repository, shared with other work), which cannot be watched; hence this small launcher.
import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdir, readdir, realpath, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { repoRoot } from '../support/repo-root.js';
import { randomCredentials } from '../support/vault-server.js';
import type { Credentials } from '../durability/signed-http-client.js';

export interface ConfinedServer {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  readonly root: string;
  readonly dataDir: string;
  readonly credentials: Credentials;
  /** How the process ended, or undefined while it runs. */
  exitStatus(): string | undefined;
  /** The last lines the server wrote, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  stop(): Promise<void>;
}

const OUTPUT_TAIL = 16_000;

/** Creates the working directory and the sibling with its canary; once, before the first server. */
export async function prepareConfinement(root: string): Promise<void> {
  await mkdir(join(root, 'cwd'), { recursive: true });
  await mkdir(join(root, 'sibling'), { recursive: true });
  await writeFile(join(root, 'sibling', 'canary.txt'), 'must stay untouched\n');
}

/** Starts a server on `root/data` with `root/cwd` as its working directory (see prepareConfinement). */
export async function startConfinedServer(root: string): Promise<ConfinedServer> {
  const entry = process.env.HOLDFAST_TEST_SERVER_ENTRY ?? join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  const dataDir = join(root, 'data');
  const credentials = randomCredentials();
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('HOLDFAST_')) env[name] = value;
  }
  env.HOLDFAST_ROOT_ACCESS_KEY_ID = credentials.accessKeyId;
  env.HOLDFAST_ROOT_SECRET_ACCESS_KEY = credentials.secretAccessKey;

  const child = spawn(process.execPath, [entry, 'server', '--data', dataDir, '--listen', '127.0.0.1:0'], {
    cwd: join(root, 'cwd'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let tail = '';
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = `exit code ${code}, signal ${signal}`;
      process.off('exit', killOnExit);
      resolve();
    });
    child.once('error', (error) => {
      // Could not be started at all (no exit event follows).
      exit ??= `could not start: ${error.message}`;
      process.off('exit', killOnExit);
      resolve();
    });
  });
  const record = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
  };
  child.stdout.on('data', record);
  child.stderr.on('data', record);

  let endpoint: string;
  try {
    endpoint = await waitForListening(child, () => tail, () => exit);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    endpoint,
    port: Number(new URL(endpoint).port),
    pid: child.pid ?? 0,
    root,
    dataDir,
    credentials,
    exitStatus: () => exit,
    output: () => tail,
    async stop() {
      if (exit !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function waitForListening(child: ChildProcess, output: () => string, exit: () => string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "listening on" line within 20 s\n${output()}`)), 20_000);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(new URL(match[1]).origin);
      }
    };
    child.stdout?.on('data', onData);
    const ended = () => {
      clearTimeout(timer);
      // The exit or error handler registered first has already recorded why.
      setImmediate(() => reject(new Error(`server ended (${exit()}) before listening\n${output()}`)));
    };
    child.once('exit', ended);
    child.once('error', ended);
  });
}

/** Every entry under `dir` (not following symlinks) by relative path, with type, size and mtime. */
export async function snapshotTree(dir: string, skip: (relativePath: string) => boolean = () => false): Promise<Map<string, string>> {
  const snapshot = new Map<string, string>();
  // Entries can vanish while we walk (a refused upload's blob being deleted): skip them.
  const gone = (error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  };
  const walk = async (current: string) => {
    for (const name of (await readdir(current).catch(gone)) ?? []) {
      const path = join(current, name);
      const rel = relative(dir, path).split(sep).join('/');
      if (skip(rel)) continue;
      const stat = await lstat(path).catch(gone);
      if (stat === undefined) continue;
      const type = stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : stat.isFile() ? 'file' : 'other';
      snapshot.set(rel, `${type} ${type === 'dir' ? '' : stat.size} ${stat.mtimeMs} ${stat.mode.toString(8)}`);
      if (type === 'dir') await walk(path);
    }
  };
  await walk(dir);
  return snapshot;
}

/** Differences between two snapshots, one line each. */
export function diffSnapshots(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const lines: string[] = [];
  for (const [path, state] of after) {
    if (!before.has(path)) lines.push(`created ${path} (${state})`);
    else if (before.get(path) !== state) lines.push(`changed ${path}: ${before.get(path)} → ${state}`);
  }
  for (const path of before.keys()) if (!after.has(path)) lines.push(`removed ${path}`);
  return lines;
}

const BLOB = /^blobs\/([0-9a-f]{2})\/([0-9a-f]{32})$/;
const BLOB_SHARD = /^blobs\/[0-9a-f]{2}$/;
const METADATA_FILE = /^metadata\/vault\.sqlite(-wal|-shm|-journal)?$/;

/**
 * What may exist in the data directory once the server has started: the files present at start
 * (`known`), the SQLite database and its WAL/SHM, and blobs named by 32 hex characters in the
 * shard named by their first two. No symlinks, nothing resolving outside the directory. Blob ids
 * are random, so a file named after anything a client sent would show up here.
 */
export async function dataDirProblems(dataDir: string, known: ReadonlySet<string>): Promise<Array<{ path: string; problem: string }>> {
  const problems: Array<{ path: string; problem: string }> = [];
  const realRoot = await realpath(dataDir);
  for (const [path, state] of await snapshotTree(dataDir)) {
    if (known.has(path)) continue;
    if (state.startsWith('symlink')) problems.push({ path, problem: `symlink in the data directory: ${path}` });
    const real = await realpath(join(dataDir, path)).catch(() => undefined);
    if (real !== undefined && real !== realRoot && !real.startsWith(realRoot + sep)) problems.push({ path, problem: `${path} resolves outside: ${real}` });
    if (METADATA_FILE.test(path) || path === 'blobs' || BLOB_SHARD.test(path)) continue;
    const blob = BLOB.exec(path);
    if (blob !== null && blob[2]!.startsWith(blob[1]!) && state.startsWith('file')) continue;
    problems.push({ path, problem: `unexpected entry in the data directory: ${JSON.stringify(path)} (${state})` });
  }
  return problems;
}
