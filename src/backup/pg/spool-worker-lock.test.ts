import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SpoolWorkerLock, stopSpoolWorkers } from './spool-worker-lock.js';

const dir = await mkdtemp(join(tmpdir(), 'holdfast-spool-lock-'));
const children: ChildProcess[] = [];
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** A long-running process whose command line carries `marker`, as the prefetch worker's does. */
async function sleeper(marker: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', marker], { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  return child;
}

async function lockedBy(spool: string, repository: string, pid: number): Promise<void> {
  await mkdir(join(spool, 'archive-get', repository), { recursive: true });
  await writeFile(join(spool, 'archive-get', repository, 'worker.lock'), `${pid}\n`);
}

test('a second process cannot take a lock a running process holds; a dead holder is taken over', async () => {
  const lock = new SpoolWorkerLock(join(dir, 'takeover.lock'));
  const holder = await sleeper('holder');
  assert.equal(await lock.tryLock(holder.pid!), true);
  assert.equal(await lock.tryLock(process.pid), false);
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
  assert.equal(await lock.isHeld(), false);
  assert.equal(await lock.tryLock(process.pid), true);
  await lock.unlock();
});

test('stopSpoolWorkers stops each repository\'s wal-fetch-worker and leaves a reused pid of another program alone', async () => {
  const spool = join(dir, 'spool');
  const worker = await sleeper('wal-fetch-worker');
  const stranger = await sleeper('something-else');
  await lockedBy(spool, 'aaaa', worker.pid!);
  await lockedBy(spool, 'bbbb', stranger.pid!);
  const exited = new Promise((resolve) => worker.once('exit', (_code, signal) => resolve(signal)));

  assert.deepEqual(await stopSpoolWorkers(spool, 2_000), [worker.pid]);
  assert.equal(await exited, 'SIGTERM');
  assert.equal(stranger.exitCode, null);
  assert.equal(stranger.signalCode, null);
  // A spool without workers, or none at all, is fine.
  assert.deepEqual(await stopSpoolWorkers(join(dir, 'no-such-spool')), []);
});
