import { open, readFile, unlink } from 'node:fs/promises';

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
