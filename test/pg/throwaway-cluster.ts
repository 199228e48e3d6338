import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freeLoopbackPort } from '../../src/infra/net/free-port.js';
import { stopSpoolWorkers } from '../../src/backup/pg/spool-worker-lock.js';
import { DEFAULT_RESTORE_SPOOL } from '../../src/cli/pg-restore-options.js';
import { runCommand } from '../support/tools.js';

/** A free TCP port on 127.0.0.1 (re-exported for the tests that import it from here). */
export const freePort = freeLoopbackPort;

/**
 * A throwaway PostgreSQL 15 cluster for one test: `initdb` into a fresh temporary directory,
 * `postgres` on a free port (TCP on 127.0.0.1 and a socket in the directory), stopped and removed
 * by `stop()`. PostgreSQL refuses to run as root, so when the tests run as root (CI, the dev VM)
 * the cluster belongs to the `postgres` OS user of the Debian package.
 */

export const PG_BIN = process.env['HOLDFAST_TEST_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

export interface ThrowawayCluster {
  readonly dataDir: string;
  readonly port: number;
  /** Runs one statement as the superuser `postgres`, in database `postgres`. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  /** The last lines the server wrote (its log goes to stderr), for failure messages and measurements. */
  output(): string;
  /** Whether the server process has ended (e.g. recovery_target_action = shutdown, or a FATAL). */
  exited(): boolean;
  /** Fast shutdown (SIGINT); SIGKILL to the whole process group if it does not end in time. Removes the directory. */
  stop(): Promise<void>;
}

export interface ThrowawayClusterOptions {
  /** postgresql.conf settings, appended after initdb's (values are quoted here). */
  readonly settings?: Readonly<Record<string, string>>;
  /** The server's environment (what archive_command and restore_command see), added to PATH/HOME/LANG. */
  readonly env?: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
}

const OUTPUT_TAIL_CHARS = 64_000;

/** Servers still running, killed (with their process group) if the test process exits first. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

interface OsUser {
  readonly uid: number;
  readonly gid: number;
}

async function postgresOsUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await runCommand('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await runCommand('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}


function quoteSetting(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export async function startThrowawayCluster(options: ThrowawayClusterOptions = {}): Promise<ThrowawayCluster> {
  const user = await postgresOsUser();
  const base = await mkdtemp(join(tmpdir(), 'holdfast-pg-'));
  const dataDir = join(base, 'data');
  try {
    await mkdir(dataDir, { mode: 0o700 });
    if (user !== undefined) {
      await chown(base, user.uid, user.gid);
      await chown(dataDir, user.uid, user.gid);
    }
    const [initdb, initdbArgs] = asPostgres(user, join(PG_BIN, 'initdb'), ['-D', dataDir, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C', '--no-sync']);
    await runCommand(initdb, initdbArgs, { timeoutMs: 60_000 });
    const port = await freePort();
    const settings: Record<string, string> = {
      port: String(port),
      listen_addresses: '127.0.0.1',
      unix_socket_directories: base,
      // A throwaway cluster: durability of its own files is not under test.
      fsync: 'off',
      logging_collector: 'off',
      ...options.settings,
    };
    await appendFile(join(dataDir, 'postgresql.conf'), `\n# holdfast test settings\n${Object.entries(settings).map(([k, v]) => `${k} = ${quoteSetting(v)}`).join('\n')}\n`);
    return await startPostgres(base, dataDir, port, [], user, options);
  } catch (error) {
    await removeBase(base).catch(() => undefined); // the start failure is the error to report
    throw error;
  }
}

/** A scratch directory the postgres OS user owns, for `holdfast pg restore --into BASE/data`. */
export async function makeRestoreBase(): Promise<string> {
  const user = await postgresOsUser();
  const base = await mkdtemp(join(tmpdir(), 'holdfast-pg-restored-'));
  if (user !== undefined) await chown(base, user.uid, user.gid);
  return base;
}

/**
 * Starts a data directory restored by `holdfast pg restore` into `base/data` (see
 * makeRestoreBase): handed to the postgres OS user, then run on a free port. The port, socket
 * directory and listen address are given on the command line, which overrides the original
 * cluster's postgresql.conf (and the restored postgresql.auto.conf). Connections are accepted as
 * soon as the copy is consistent (hot standby), which may be before recovery has ended.
 */
export async function startRestoredCluster(base: string, options: ThrowawayClusterOptions = {}): Promise<ThrowawayCluster> {
  const user = await postgresOsUser();
  const dataDir = join(base, 'data');
  if (user !== undefined) await runCommand('chown', ['-R', `${user.uid}:${user.gid}`, base]);
  const port = await freePort();
  const args = ['-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${base}`, ...Object.entries(options.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  try {
    return await startPostgres(base, dataDir, port, args, user, options);
  } catch (error) {
    await removeBase(base).catch(() => undefined); // the start failure is the error to report
    throw error;
  }
}

function asPostgres(user: OsUser | undefined, command: string, args: readonly string[]): readonly [string, readonly string[]] {
  return user === undefined ? [command, args] : ['runuser', ['-u', 'postgres', '--', command, ...args]];
}

async function startPostgres(base: string, dataDir: string, port: number, extraArgs: readonly string[], user: OsUser | undefined, options: ThrowawayClusterOptions): Promise<ThrowawayCluster> {
  let child: ChildProcess | undefined;
  let tail = '';
  try {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: base,
      LANG: 'C.UTF-8',
      ...options.env,
    };
    // Its own process group, so stop() can end the postmaster and every child (archiver,
    // archive_command) at once if a fast shutdown hangs.
    child = spawn(join(PG_BIN, 'postgres'), ['-D', dataDir, ...extraArgs], {
      env,
      cwd: base,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
    });
    const record = (chunk: Buffer) => {
      tail += chunk.toString('utf8');
      if (tail.length > OUTPUT_TAIL_CHARS) tail = tail.slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', record);
    child.stderr?.on('data', record);
    live.add(child);
    const exited = new Promise<void>((resolve) =>
      child!.once('exit', () => {
        live.delete(child!);
        resolve();
      }),
    );

    const connect = () => new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2_000 });
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited during start-up\n${tail}`);
      const probe = connect();
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.end();
        break;
      } catch {
        await probe.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${options.startTimeoutMs ?? 30_000} ms\n${tail}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    const running = child;
    let stopped = false;
    return {
      dataDir,
      port,
      async query<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]> {
        const client = connect();
        await client.connect();
        try {
          return (await client.query<R>(sql, values)).rows;
        } finally {
          await client.end();
        }
      },
      output: () => tail,
      exited: () => running.exitCode !== null || running.signalCode !== null,
      async stop() {
        if (stopped) return;
        stopped = true;
        if (running.exitCode === null && running.signalCode === null) {
          // SIGINT to the postmaster alone is PostgreSQL's fast shutdown; it ends its children.
          running.kill('SIGINT');
          let timer: NodeJS.Timeout | undefined;
          const ended = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 15_000)))]);
          clearTimeout(timer);
          if (!ended) {
            killGroup(running, 'SIGKILL');
            await exited;
          }
        }
        await removeBase(base);
      },
    };
  } catch (error) {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      killGroup(child, 'SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    throw error;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/**
 * Removes a cluster's base directory. A restored copy's WAL prefetch worker (started by its
 * restore_command) outlives the server by its idle time and may be writing into the spool.
 */
async function removeBase(base: string): Promise<void> {
  await stopSpoolWorkers(join(base, 'data', DEFAULT_RESTORE_SPOOL));
  await rm(base, { recursive: true, force: true, maxRetries: 10 });
}
