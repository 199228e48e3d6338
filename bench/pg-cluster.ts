import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, chown, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, killGroup, type OsUser, run } from './pg-host.js';

/**
 * A PostgreSQL 15 cluster for the benchmark, the way test/pg/throwaway-cluster.ts makes them
 * (bench/ stands alone: it is what a user can run without the test tree): `initdb` into a
 * directory the postgres OS user owns, `postgres` in its own process group on a free port (TCP
 * on 127.0.0.1, socket in the cluster's base directory). Unlike the tests' clusters it keeps
 * `fsync = on`: pgbench's load, and so the WAL rate the archivers face, is a real cluster's.
 */

export const PG_BIN = process.env['HOLDFAST_BENCH_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

export interface BenchCluster {
  /** The directory holding `data/` and the socket. */
  readonly base: string;
  readonly dataDir: string;
  readonly port: number;
  readonly pid: number;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  /** Files waiting in pg_wal/archive_status (`*.ready`): segments PostgreSQL has finished but not archived. */
  readySegments(): Promise<number>;
  output(): string;
  /** Fast shutdown (SIGINT to the postmaster); SIGKILL to the group after 30 s. */
  stop(): Promise<void>;
  /** Immediate: SIGKILL to the whole process group (the exit handler). */
  kill(): void;
}

export interface ClusterStart {
  readonly user: OsUser | undefined;
  /** The server's environment: what archive_command and restore_command see. */
  readonly env: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
}

const OUTPUT_TAIL_CHARS = 64_000;

/** Clusters alive, for the exit handler. */
export const liveClusters = new Set<BenchCluster>();

function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `initdb` into BASE/data (BASE must exist and belong to the user), then start it. */
export async function createCluster(base: string, settings: Readonly<Record<string, string>>, start: ClusterStart): Promise<BenchCluster> {
  const dataDir = join(base, 'data');
  await mkdir(dataDir, { mode: 0o700 });
  if (start.user !== undefined) await chown(dataDir, start.user.uid, start.user.gid);
  await run(join(PG_BIN, 'initdb'), ['-D', dataDir, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    user: start.user,
    cwd: base,
    timeoutMs: 120_000,
  });
  const port = await freePort();
  const all: Record<string, string> = { port: String(port), listen_addresses: '127.0.0.1', unix_socket_directories: base, logging_collector: 'off', ...settings };
  await appendFile(join(dataDir, 'postgresql.conf'), `\n# holdfast bench:pg\n${Object.entries(all).map(([k, v]) => `${k} = ${quote(v)}`).join('\n')}\n`);
  return startPostgres(base, dataDir, port, [], start);
}

/**
 * Starts a restored data directory (BASE/data) on a free port: port, socket directory and listen
 * address on the command line, which override the source's postgresql.conf and auto.conf.
 * Resolves once it accepts connections (hot standby: possibly still in recovery).
 */
export async function startRestored(base: string, start: ClusterStart): Promise<BenchCluster> {
  const port = await freePort();
  // HOLDFAST_BENCH_RECOVERY_LOGS: every restore_command call and its answer, time-stamped (DEBUG2), to see where recovery's time goes.
  const trace = process.env['HOLDFAST_BENCH_RECOVERY_LOGS'] === undefined ? [] : ['-c', 'log_line_prefix=%m [%p] ', '-c', 'log_min_messages=debug2'];
  return startPostgres(base, join(base, 'data'), port, ['-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${base}`, ...trace], start);
}

async function startPostgres(base: string, dataDir: string, port: number, extraArgs: readonly string[], start: ClusterStart): Promise<BenchCluster> {
  let tail = '';
  const child: ChildProcess = spawn(join(PG_BIN, 'postgres'), ['-D', dataDir, ...extraArgs], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: base, LANG: 'C.UTF-8', ...start.env },
    cwd: base,
    // Its own process group: Ctrl-C at the terminal does not reach it (stop() shuts it down
    // in order), and kill() can end the postmaster, its children and archive_command at once.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(start.user === undefined ? {} : { uid: start.user.uid, gid: start.user.gid }),
  });
  const record = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const connect = () => new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5_000 });
  let stopped = false;
  const cluster: BenchCluster = {
    base,
    dataDir,
    port,
    pid: child.pid ?? -1,
    async query<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]> {
      const client = connect();
      client.on('error', () => undefined);
      await client.connect();
      try {
        return (await client.query<R>(sql, values)).rows;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async readySegments() {
      const names = await readdir(join(dataDir, 'pg_wal', 'archive_status')).catch(() => [] as string[]);
      // Segments only: a `.history` or `.backup` file is tiny and archived on its own.
      return names.filter((name) => /^[0-9A-F]{24}\.ready$/.test(name)).length;
    },
    output: () => tail,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!gone()) {
        child.kill('SIGINT');
        let timer: NodeJS.Timeout | undefined;
        const ended = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 30_000)))]);
        clearTimeout(timer);
        if (!ended) {
          killGroup(child.pid, 'SIGKILL');
          await exited;
        }
      }
      liveClusters.delete(cluster);
    },
    kill() {
      if (!gone()) killGroup(child.pid, 'SIGKILL');
    },
  };
  liveClusters.add(cluster);
  const deadline = Date.now() + (start.startTimeoutMs ?? 60_000);
  for (;;) {
    if (gone()) {
      liveClusters.delete(cluster);
      throw new Error(`postgres exited during start-up\n${tail.slice(-3000)}`);
    }
    const probe = connect();
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.end();
      return cluster;
    } catch {
      await probe.end().catch(() => undefined);
      if (Date.now() > deadline) {
        cluster.kill();
        liveClusters.delete(cluster);
        throw new Error(`postgres did not accept connections within ${(start.startTimeoutMs ?? 60_000) / 1000} s\n${tail.slice(-3000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Waits (polling every `everyMs`) until `probe` is true; rejects with `what` after `timeoutMs`. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Segment number of an LSN (`X/Y`) for 16 MiB segments. */
export function segmentOf(lsn: string, segmentBytes = 16 * 1024 * 1024): number {
  const [hi, lo] = lsn.split('/').map((part) => parseInt(part, 16));
  return Math.floor(((hi ?? 0) * 2 ** 32 + (lo ?? 0)) / segmentBytes);
}

/** Segment number (timeline ignored) of a WAL file name, e.g. 000000010000000000000003 → 3. */
export function segmentOfName(name: string): number {
  return parseInt(name.slice(8, 16), 16) * 0x100 + parseInt(name.slice(16, 24), 16);
}
