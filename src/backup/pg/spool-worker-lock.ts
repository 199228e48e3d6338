import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The lock a spool's background worker holds (`worker.lock`, O_EXCL, holding its pid), so that
 * the commands PostgreSQL runs once per file start one worker, not one each. A lock whose pid is
 * no longer running — a worker killed with -9 — is stale and is taken over.
 */
export class SpoolWorkerLock {
  constructor(readonly path: string) {}

  /** True if this process now holds the lock. */
  async tryLock(pid: number): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.path, 'wx', 0o600);
        await handle.writeFile(`${pid}\n`);
        await handle.close();
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (await this.isHeld()) return false;
        await unlink(this.path).catch(() => undefined);
      }
    }
    return false;
  }

  /** Whether a running process holds the lock. */
  async isHeld(): Promise<boolean> {
    const text = await readFile(this.path, 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    });
    if (text === undefined) return false;
    const pid = Number(text.trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: the pid runs, under another user.
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  async unlock(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }
}

/**
 * Stops the prefetch workers of every repository in a spool (`SPOOL/archive-get/REPO/worker.lock`)
 * and waits until each has gone, so the spool can be removed: a worker outlives the recovery that
 * started it by its idle time, and one still writing a segment makes `rm -r` fail with ENOTEMPTY.
 * Only a pid whose command line is a `wal-fetch-worker` is signalled (a reused pid is left alone);
 * SIGTERM first, SIGKILL after `graceMs`. Returns the pids stopped.
 */
export async function stopSpoolWorkers(spoolDirectory: string, graceMs = 5_000): Promise<number[]> {
  const stopped: number[] = [];
  const repositories = await readdir(join(spoolDirectory, 'archive-get')).catch(() => [] as string[]);
  for (const repository of repositories) {
    const text = await readFile(join(spoolDirectory, 'archive-get', repository, 'worker.lock'), 'utf8').catch(() => undefined);
    const pid = Number(text?.trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) continue;
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!commandLine.split('\0').includes('wal-fetch-worker')) continue;
    if (await signalUntilGone(pid, graceMs)) stopped.push(pid);
  }
  return stopped;
}

async function signalUntilGone(pid: number, graceMs: number): Promise<boolean> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const send = (signal: NodeJS.Signals) => {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  };
  send('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive()) {
    if (Date.now() > deadline) {
      send('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 100));
      return !alive();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
