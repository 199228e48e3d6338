/**
 * The raw limit: a minimal process doing what a durable object store must do at the least, with
 * no protocol at all. Same bytes, same temporary filesystem as the servers:
 *   1 GiB PUT   one file, written in 1 MiB chunks, one fsync, close
 *   1 GiB GET   the file just written read back in 1 MiB chunks (page cache warm, as for the servers)
 *   4 KiB PUT   per object: exclusive create, write, fsync, close, `concurrency` at a time through
 *               libuv's thread pool (started with UV_THREADPOOL_SIZE ≥ the highest concurrency, so the
 *               pool is not what limits it)
 *   4 KiB GET   readFile of objects written before, round-robin
 * Forked by s3-bench.ts with the directory to work in as its only argument.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runClosedLoop, runOnce } from './closed-loop.js';
import { serveRequests } from './ipc-worker.js';
import { KEYS_KEPT_FOR_GETS, type PointResult, SMALL_OBJECT_BYTES, type Scenario } from './workload.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: raw-fsync-limit.js DIR');
const directory: string = dir;

const FILL = randomBytes(1024 * 1024);
const SMALL_BODY = randomBytes(SMALL_OBJECT_BYTES);

serveRequests(async ({ scenario }) => run(scenario));

async function run(scenario: Scenario): Promise<PointResult> {
  switch (scenario.kind) {
    case 'large-put':
      return runOnce(() => writeLarge(join(directory, scenario.key), scenario.bytes));
    case 'large-get':
      return runOnce(() => readLarge(join(directory, scenario.key), scenario.bytes));
    case 'small-put': {
      const written: string[] = [];
      const result = await runClosedLoop(scenario, async (index) => {
        const key = `${scenario.keyPrefix}${index}`;
        const handle = await open(join(directory, key), 'wx');
        try {
          await handle.write(SMALL_BODY, 0, SMALL_BODY.length, 0);
          await handle.sync();
        } finally {
          await handle.close();
        }
        if (written.length < KEYS_KEPT_FOR_GETS) written.push(key);
        return SMALL_OBJECT_BYTES;
      });
      return { ...result, writtenKeys: written };
    }
    case 'small-get': {
      const keys = scenario.keys;
      return runClosedLoop({ ...scenario, maxOps: Number.MAX_SAFE_INTEGER }, async (index) => {
        const key = keys[index % keys.length] ?? '';
        const body = await readFile(join(directory, key));
        return body.length === SMALL_OBJECT_BYTES ? body.length : `read ${key}: ${body.length} bytes`;
      });
    }
  }
}

async function writeLarge(path: string, bytes: number): Promise<number> {
  const handle = await open(path, 'wx');
  try {
    let left = bytes;
    while (left > 0) {
      const n = Math.min(left, FILL.length);
      await handle.write(FILL, 0, n);
      left -= n;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return bytes;
}

async function readLarge(path: string, bytes: number): Promise<number | string> {
  const handle = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  let total = 0;
  try {
    while (true) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return total === bytes ? total : `read ${path}: ${total} bytes, expected ${bytes}`;
}
