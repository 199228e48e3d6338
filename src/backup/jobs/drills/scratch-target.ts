import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { dropScratchDatabase } from './mariadb-query.js';
import { describeConninfo, dropPgScratchDatabase } from './pg-scratch-database.js';
import { dropMongoScratchDatabase } from './mongo-scratch-database.js';
import { stopSpoolWorkers } from '../../pg/spool-worker-lock.js';

/**
 * A scratch target a drill creates, described well enough to tear it down without the drill that
 * made it: after the drill's budget ran out, or at start-up after a crash cut the drill off. No
 * secrets: a MariaDB or PostgreSQL password is named by its environment variable, as in the config.
 */
export type ScratchTarget =
  | {
      readonly kind: 'mariadb-database';
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly passwordEnv: string | undefined;
      readonly database: string;
    }
  /** A scratch database on the PostgreSQL server of a pg-dump job (`connection`: libpq conninfo without dbname). */
  | {
      readonly kind: 'pg-database';
      readonly connection: string | undefined;
      readonly passwordEnv: string | undefined;
      readonly database: string;
    }
  /** A scratch database on the MongoDB deployment of a mongodump job (`uri`: without a password). */
  | { readonly kind: 'mongo-database'; readonly uri: string; readonly passwordEnv: string | undefined; readonly database: string }
  /** A temporary directory (a directory drill's extracted tree). */
  | { readonly kind: 'directory'; readonly path: string }
  /** A directory holding a throwaway PostgreSQL cluster (its data directory somewhere below, with postmaster.pid while it runs). */
  | { readonly kind: 'pg-scratch'; readonly path: string };

export function describeScratchTarget(target: ScratchTarget): string {
  switch (target.kind) {
    case 'mariadb-database':
      return `scratch database ${target.database} on MariaDB ${target.host}:${target.port}`;
    case 'pg-database':
      return `scratch database ${target.database} on PostgreSQL ${describeConninfo(target.connection)}`;
    case 'mongo-database':
      return `scratch database ${target.database} on MongoDB ${new URL(target.uri).host}`;
    case 'directory':
      return `temporary directory ${target.path}`;
    case 'pg-scratch':
      return `throwaway PostgreSQL cluster under ${target.path}`;
  }
}

export interface TeardownOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** How long a postmaster gets for a fast shutdown before it is killed (default 30 s). */
  readonly shutdownGraceMs?: number;
}

/** Removes a scratch target; idempotent (a target already gone is fine). What was done, for the record. */
export async function tearDownScratchTarget(target: ScratchTarget, options: TeardownOptions): Promise<string> {
  switch (target.kind) {
    case 'mariadb-database': {
      const password = target.passwordEnv === undefined ? undefined : options.env[target.passwordEnv];
      await dropScratchDatabase({ host: target.host, port: target.port, user: target.user, password, env: options.env }, target.database);
      return `dropped ${describeScratchTarget(target)}`;
    }
    case 'pg-database':
      await dropPgScratchDatabase(target, target.database, options.env);
      return `dropped ${describeScratchTarget(target)}`;
    case 'mongo-database':
      await dropMongoScratchDatabase(target.uri, target.passwordEnv === undefined ? undefined : options.env[target.passwordEnv], target.database, options.env);
      return `dropped ${describeScratchTarget(target)}`;
    case 'directory':
      await rm(target.path, { recursive: true, force: true });
      return `removed ${describeScratchTarget(target)}`;
    case 'pg-scratch': {
      const stopped: number[] = [];
      for (const pidFile of await findPostmasterPidFiles(target.path, 3)) {
        const pid = await stopPostmaster(pidFile, options.shutdownGraceMs ?? 30_000);
        if (pid !== undefined) stopped.push(pid);
      }
      // A WAL prefetch worker the interrupted recovery started may still be writing into the spool.
      await stopSpoolWorkers(join(target.path, 'spool'));
      await rm(target.path, { recursive: true, force: true, maxRetries: 5 });
      return `${stopped.length === 0 ? 'no postmaster was running; ' : `stopped postmaster ${stopped.join(', ')}; `}removed ${describeScratchTarget(target)}`;
    }
  }
}

async function findPostmasterPidFiles(dir: string, depth: number): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    if (entry.isFile() && entry.name === 'postmaster.pid') found.push(join(dir, entry.name));
    else if (entry.isDirectory() && depth > 0) found.push(...(await findPostmasterPidFiles(join(dir, entry.name), depth - 1)));
  }
  return found;
}

/**
 * Stops the postmaster named by a `postmaster.pid` (line 1: its pid; line 2: its data directory —
 * PostgreSQL docs, "Database File Layout"). The pid is only signalled if it is still a process
 * working in that data directory, so a pid reused by another program after a reboot is
 * never touched. SIGINT is PostgreSQL's fast shutdown ("Shutting Down the Server"); a server
 * still there after the grace is killed. Returns the pid it stopped, if any.
 */
async function stopPostmaster(pidFile: string, graceMs: number): Promise<number | undefined> {
  const [pidLine, dataDir] = (await readFile(pidFile, 'utf8').catch(() => '')).split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return undefined;
  // The postmaster works in its data directory (it chdirs there at start), so its cwd says which cluster it is.
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  if (cwd !== undefined && cwd !== (await realpath(dataDir ?? '').catch(() => dataDir))) return undefined;
  signal(pid, 'SIGINT');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive(pid)) {
    signal(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) still answers signal 0; it is gone for us.
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    // /proc/PID/stat: "pid (comm) S ..."; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone in the meantime.
  }
}
