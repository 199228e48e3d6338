import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Lock files this process holds: its own pid in a lock file proves nothing after a PID reuse. */
const heldLocks = new Set<string>();

/** One server per data directory: two writers on one SQLite file and blob tree would be a disaster. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, 'holdfast.pid');
  if (heldLocks.has(path)) throw new Error(`This process already serves ${dataDir}. Pass a different --data directory.`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.sync();
      await handle.close();
      heldLocks.add(path);
      return async () => {
        heldLocks.delete(path);
        await rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(`Another holdfast server (pid ${pid}) is using ${dataDir}. Stop it first, or pass a different --data directory.`, { cause: e });
      }
      // A stale lock from a crashed (e.g. SIGKILLed) server, possibly with our recycled pid: take it over.
      await rm(path, { force: true });
    }
  }
  throw new Error(`Cannot lock ${dataDir}: ${path} keeps reappearing.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
