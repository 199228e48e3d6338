import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, lstat, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyTicks, CLOCK_TICKS_PER_SECOND, ticksOf } from './background-load.js';
import { freeLoopbackPort } from '../src/infra/net/free-port.js';

/** A free TCP port on 127.0.0.1. */
export const freePort = freeLoopbackPort;

/**
 * The host side of `npm run bench:pg`: the postgres OS user, commands run as it with their wall
 * and CPU time, free ports, CPU meters. PostgreSQL refuses to run as root, and pgBackRest must run
 * as the cluster's owner, so when the bench runs as root (the dev VM, CI) every PostgreSQL-side
 * process — the clusters, pgbench, pg_basebackup, both backup tools — runs as `postgres`.
 */

export interface OsUser {
  readonly uid: number;
  readonly gid: number;
}

/** The `postgres` OS user when running as root; undefined (run as ourselves) otherwise. */
export function postgresOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface RunOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Run as this user (spawn's uid/gid; libuv drops root's supplementary groups). */
  readonly user?: OsUser | undefined;
  readonly cwd?: string;
  readonly timeoutMs: number;
  /** Exit codes that are not a failure (default: only 0). */
  readonly okCodes?: readonly number[];
  /** A pipeline instead of one program: `command` is given to bash -o pipefail -c, `args` are $1…. */
  readonly shell?: boolean;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  /** User + system CPU seconds of the command and every descendant it waited for (GNU time). */
  readonly cpuSeconds: number | undefined;
}

const OUTPUT_TAIL = 64_000;
const GNU_TIME = '/usr/bin/time';

/** Commands still running, killed (with their process group) if the bench exits first. */
export const runningCommands = new Set<number>();

/**
 * Runs one command and measures it: wall time here, CPU time by GNU time (`-f '%U %S'` written to
 * a file descriptor of its own, so it never mixes with the command's stderr). Rejects on a
 * non-zero exit (unless listed in okCodes) with the tail of its output.
 */
export async function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const timed = await gnuTimeAvailable();
  const argv = options.shell === true ? ['/bin/bash', '-o', 'pipefail', '-c', command, 'bash', ...args] : [command, ...args];
  // GNU time's report goes to a file of its own (never mixed into the command's stderr); /tmp is
  // writable by whichever user the command runs as.
  const timeFile = join(tmpdir(), `holdfast-bench-time-${randomBytes(8).toString('hex')}`);
  const full = timed ? [GNU_TIME, '-f', '%U %S', '-o', timeFile, ...argv] : argv;
  const started = performance.now();
  const child = spawn(full[0]!, full.slice(1), {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...(options.user === undefined ? {} : { uid: options.user.uid, gid: options.user.gid }),
  });
  if (child.pid !== undefined) runningCommands.add(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString('utf8')).slice(-OUTPUT_TAIL)));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-OUTPUT_TAIL)));
  const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), options.timeoutMs);
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve(exitCode ?? (signal === null ? 1 : 128)));
  }).finally(() => {
    clearTimeout(timer);
    if (child.pid !== undefined) runningCommands.delete(child.pid);
  });
  const wallMs = performance.now() - started;
  const timing = timed ? await readFile(timeFile, 'utf8').catch(() => '') : '';
  if (timed) await rm(timeFile, { force: true });
  const [user, system] = timing.trim().split(/\s+/).slice(-2).map(Number);
  const cpuSeconds = user === undefined || system === undefined || Number.isNaN(user + system) ? undefined : user + system;
  if (!(options.okCodes ?? [0]).includes(code)) {
    const shown = options.shell === true ? command : [command, ...args].join(' ');
    throw new Error(`${shown.slice(0, 300)} exited with ${code} after ${(wallMs / 1000).toFixed(1)} s\n${stderr.slice(-3000)}${stdout.slice(-1500)}`);
  }
  return { code, stdout, stderr, wallMs, cpuSeconds };
}

let gnuTime: Promise<boolean> | undefined;
function gnuTimeAvailable(): Promise<boolean> {
  gnuTime ??= lstat(GNU_TIME).then(
    () => true,
    () => false,
  );
  return gnuTime;
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}


/** Bytes of regular files under `dir`, skipping the top-level entries named in `skip` (pg_wal). */
export async function treeBytes(dir: string, skip: readonly string[] = []): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (skip.includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await treeBytes(path);
    else if (entry.isFile()) total += (await lstat(path)).size;
  }
  return total;
}

export async function removeTree(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** CPU used over a window: the whole machine (busy cores) and the vault process. */
export class CpuMeter {
  readonly #vaultPid: number;
  readonly #start: number;
  readonly #startVault: number;
  readonly #startedAt = performance.now();

  private constructor(vaultPid: number, machine: number, vault: number) {
    this.#vaultPid = vaultPid;
    this.#start = machine;
    this.#startVault = vault;
  }

  static async start(vaultPid: number): Promise<CpuMeter> {
    return new CpuMeter(vaultPid, await busyTicks(), await ticksOf([vaultPid]));
  }

  async read(): Promise<CpuUse> {
    const [machine, vault] = await Promise.all([busyTicks(), ticksOf([this.#vaultPid])]);
    const seconds = (performance.now() - this.#startedAt) / 1000;
    return {
      machineBusyCores: seconds > 0 ? (machine - this.#start) / CLOCK_TICKS_PER_SECOND / seconds : 0,
      vaultCpuSeconds: (vault - this.#startVault) / CLOCK_TICKS_PER_SECOND,
    };
  }
}

export interface CpuUse {
  /** Average busy cores of the whole machine over the window (all processes, ours and others'). */
  readonly machineBusyCores: number;
  /** CPU seconds the vault process used in the window. */
  readonly vaultCpuSeconds: number;
}

/** `15.20 (Debian …)`-style version line of a program, or 'unknown'. */
export async function versionOf(command: string, args: readonly string[]): Promise<string> {
  try {
    return execFileSync(command, [...args], { encoding: 'utf8', timeout: 10_000 }).trim().split('\n')[0] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function cpuModel(): Promise<string> {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(await readFile('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}
