import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type FileDataSync, WalFileSync, WalSyncFailedError } from './wal-file-sync.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-wal-sync-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function freshFile(): string {
  const path = join(root, `db-${n++}.sqlite-wal`);
  writeFileSync(path, 'frames');
  return path;
}

/** A FileDataSync whose calls finish only when the test says so, so the order of events is the test's. */
function gatedSync() {
  const calls: Array<{ finish: () => void; fail: (error: Error) => void }> = [];
  const sync: FileDataSync = () => new Promise<void>((resolve, reject) => calls.push({ finish: resolve, fail: reject }));
  return { sync, calls };
}

/** Lets every queued promise reaction run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('sync() resolves after a real fdatasync of the file', async () => {
  const wal = new WalFileSync(freshFile());
  await wal.sync();
  await Promise.all([wal.sync(), wal.sync(), wal.sync()]);
  await wal.close();
});

test('calls made together share one fdatasync', async () => {
  const gate = gatedSync();
  const wal = new WalFileSync(freshFile(), gate.sync);
  const synced = [wal.sync(), wal.sync(), wal.sync()];
  await settle();
  assert.equal(gate.calls.length, 1);
  gate.calls[0]!.finish();
  await Promise.all(synced);
  await wal.close();
});

test('a call made while an fdatasync runs waits for the next one: the running one may have started before its commit', async () => {
  const gate = gatedSync();
  const wal = new WalFileSync(freshFile(), gate.sync);
  const states: string[] = [];
  const first = wal.sync().then(() => states.push('first'));
  await settle();
  assert.equal(gate.calls.length, 1);
  const second = wal.sync().then(() => states.push('second'));
  const third = wal.sync().then(() => states.push('third'));
  gate.calls[0]!.finish();
  await first;
  await settle();
  assert.deepEqual(states, ['first'], 'the later calls are not covered by the fdatasync that was already running');
  assert.equal(gate.calls.length, 2, 'one more fdatasync for both later calls');
  gate.calls[1]!.finish();
  await Promise.all([second, third]);
  assert.deepEqual(states, ['first', 'second', 'third']);
  await wal.close();
});

test('a failed fdatasync rejects its callers and every later call, even if the disk recovers', async () => {
  const gate = gatedSync();
  const path = freshFile();
  const wal = new WalFileSync(path, gate.sync);
  const failed = wal.sync();
  await settle();
  gate.calls[0]!.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  await assert.rejects(failed, (error: unknown) => {
    assert.ok(error instanceof WalSyncFailedError);
    assert.match(error.message, /EIO/);
    assert.ok(error.message.includes(path));
    assert.match(error.message, /restart the server/);
    return true;
  });
  await assert.rejects(wal.sync(), WalSyncFailedError);
  assert.equal(gate.calls.length, 1, 'no fdatasync is tried after a failure: it could succeed without the lost pages');
  await wal.close();
});

test('close() waits for the fdatasync in progress', async () => {
  const gate = gatedSync();
  const wal = new WalFileSync(freshFile(), gate.sync);
  const synced = wal.sync();
  await settle();
  let closed = false;
  const closing = wal.close().then(() => (closed = true));
  await settle();
  assert.equal(closed, false);
  gate.calls[0]!.finish();
  await Promise.all([synced, closing]);
  await assert.rejects(wal.sync(), /after close/);
});
