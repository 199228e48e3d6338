import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freeLoopbackPort } from '../../infra/net/free-port.js';
import { findPgTool, runToEnd } from './pg-client-tools.js';

/**
 * A restored data directory started on a free loopback port, for a restore drill: the server
 * runs as the OS user that owns PostgreSQL (it refuses root), with port, socket directory and
 * listen address on the command line so the restored configuration (the original's port, its
 * socket directory) never matters, and `archive_mode=off` so the drill can never push into the
 * production archive. Queries go through `psql` (libpq), as an operator's would.
 */

export interface ScratchCluster {
  readonly port: number;
  readonly socketDirectory: string;
  /** Runs one statement; the first column of each row, as text. */
  query(sql: string, database?: string): Promise<string[]>;
  /** The server's last output lines, for failure reasons. */
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export class ScratchClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScratchClusterError';
  }
}

const OUTPUT_TAIL_CHARS = 16_000;


/** The uid/gid PostgreSQL runs as when we are root: the `postgres` OS user; undefined otherwise. */
export function postgresOsUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new ScratchClusterError('running as root, but there is no `postgres` OS user to run the scratch cluster as (PostgreSQL refuses root); run the drill as the PostgreSQL user.');
  }
}

/** Hands a directory tree to `user` (the restore ran as root; PostgreSQL needs to own its files). */
export async function chownTree(path: string, user: { uid: number; gid: number }): Promise<void> {
  await chown(path, user.uid, user.gid);
  if (!(await lstat(path)).isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), user);
}

export async function startScratchCluster(options: {
  readonly dataDir: string;
  readonly socketDirectory: string;
  readonly env: NodeJS.ProcessEnv;
  readonly startTimeoutMs: number;
}): Promise<ScratchCluster> {
  const postgres = findPgTool('postgres', options.env);
  const psql = findPgTool('psql', options.env);
  const user = postgresOsUser();
  if (user !== undefined) {
    await chownTree(options.dataDir, user);
    await chown(options.socketDirectory, user.uid, user.gid);
  }
  const port = await freeLoopbackPort();
  let tail = '';
  const child: ChildProcess = spawn(
    postgres,
    ['-D', options.dataDir, '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${options.socketDirectory}`, '-c', 'archive_mode=off'],
    { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }) },
  );
  const record = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  const psqlEnv = { ...options.env, PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'postgres', PGCONNECT_TIMEOUT: '5' };
  const query = async (sql: string, database = 'postgres'): Promise<string[]> => {
    const result = await runToEnd(psql, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-w', '-d', database, '-c', sql], psqlEnv, 10 * 60_000);
    if (result.code !== 0) throw new ScratchClusterError(result.stderr.trim() || `psql exited ${result.code ?? result.signal}`);
    return result.stdout.split('\n').filter((line) => line !== '');
  };
  const stop = async () => {
    if (!hasExited()) {
      child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 30_000)))]);
      clearTimeout(timer);
      if (!ended) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
        await exited;
      }
    }
  };
  const deadline = Date.now() + options.startTimeoutMs;
  for (;;) {
    if (hasExited()) throw new ScratchClusterError(`the restored cluster did not start: ${lastLines(tail)}`);
    try {
      await query('SELECT 1');
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new ScratchClusterError(`the restored cluster did not accept connections within ${Math.round(options.startTimeoutMs / 1000)} s: ${lastLines(tail)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return { port, socketDirectory: options.socketDirectory, query, output: () => tail, exited: hasExited, stop };
}

/** The last few log lines, on one line, for a reason in a record. */
export function lastLines(text: string, count = 4): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}
