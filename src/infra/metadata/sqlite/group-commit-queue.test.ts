import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openWalSyncedDatabase } from '../../sqlite/open-wal-synced-database.js';
import { type CommitSync, GroupCommitQueue } from './group-commit-queue.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-group-commit-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A real database in WAL mode with synchronous=NORMAL, and a second connection that sees what is committed. */
function freshDatabase() {
  const path = join(root, `db-${n++}`, 'queue.sqlite');
  const { db, wal } = openWalSyncedDatabase(path, 'CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY)');
  const reader = new Database(path, { readonly: true });
  const committed = () => (reader.prepare('SELECT k FROM t ORDER BY k').all() as Array<{ k: string }>).map((r) => r.k);
  const close = async () => {
    reader.close();
    db.close();
    await wal.close();
  };
  return { db, wal, committed, close };
}

/** A CommitSync whose syncs complete only when the test says so. */
function gatedSync() {
  const calls: Array<{ finish: () => void; fail: (error: Error) => void }> = [];
  const sync: CommitSync = { sync: () => new Promise<void>((resolve, reject) => calls.push({ finish: resolve, fail: reject })) };
  return { sync, calls };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A queue on a fresh database whose syncs the test completes, and an insert to queue. */
function gatedQueue() {
  const { db, committed, close } = freshDatabase();
  const gate = gatedSync();
  return { queue: new GroupCommitQueue(db, gate.sync), gate, insert: db.prepare('INSERT INTO t (k) VALUES (?)'), committed, close };
}


test('with a CommitSync, a write is acknowledged only after the sync that follows its COMMIT', async () => {
  const { queue, gate, insert, committed, close } = gatedQueue();
  let acknowledged = false;
  const write = queue.run(() => insert.run('a')).then(() => (acknowledged = true));
  await settle();
  assert.deepEqual(committed(), ['a'], 'COMMIT has run');
  assert.equal(gate.calls.length, 1);
  assert.equal(acknowledged, false, 'not acknowledged while its sync runs');
  gate.calls[0]!.finish();
  await write;
  assert.equal(acknowledged, true);
  await queue.drain();
  await close();
});

test('untilDurable(): nothing to wait for when idle; while a batch syncs, a reader waits for it', async () => {
  const { queue, gate, insert, close } = gatedQueue();
  assert.equal(queue.untilDurable(), undefined);
  const write = queue.run(() => insert.run('a'));
  await settle();
  const waiting = queue.untilDurable();
  assert.ok(waiting !== undefined, 'a committed, unsynced batch is waited for');
  let readerDone = false;
  const reader = waiting.then(() => (readerDone = true));
  await settle();
  assert.equal(readerDone, false);
  gate.calls[0]!.finish();
  await Promise.all([write, reader]);
  assert.equal(queue.untilDurable(), undefined);
  await close();
});

test('writes made while a batch syncs wait for it, then commit together as the next batch, with one sync', async () => {
  const { queue, gate, insert, committed, close } = gatedQueue();
  const acknowledged: string[] = [];
  const first = ['a', 'b'].map((k) => queue.run(() => insert.run(k)).then(() => acknowledged.push(k)));
  await settle();
  assert.equal(gate.calls.length, 1, 'one batch, one sync');
  const firstBatch = queue.applyingBatch - 1;
  const second = ['c', 'd'].map((k) => queue.run(() => insert.run(k)).then(() => acknowledged.push(k)));
  await settle();
  assert.deepEqual(committed(), ['a', 'b'], 'not committed while the first batch syncs');
  const throughFirst = queue.untilDurable(firstBatch);
  assert.ok(throughFirst !== undefined);
  gate.calls[0]!.finish();
  await Promise.all([...first, throughFirst]);
  await settle();
  assert.deepEqual(committed(), ['a', 'b', 'c', 'd'], 'committed as one batch once the first is durable');
  assert.equal(gate.calls.length, 2, 'and synced once');
  assert.deepEqual(acknowledged.sort(), ['a', 'b'], 'the second batch waits for its own sync');
  gate.calls[1]!.finish();
  await Promise.all(second);
  assert.deepEqual(acknowledged.sort(), ['a', 'b', 'c', 'd']);
  await queue.drain();
  await close();
});

test('a failed sync rejects its batch, every later write and every reader waiting, and drain() still ends', async () => {
  const { queue, gate, insert, committed, close } = gatedQueue();
  const write = queue.run(() => insert.run('a'));
  await settle();
  const reader = queue.untilDurable();
  gate.calls[0]!.fail(new Error('fdatasync failed: EIO'));
  await assert.rejects(write, /EIO/);
  await assert.rejects(reader!, /EIO/);
  await assert.rejects(queue.run(() => insert.run('b')), /EIO/);
  assert.deepEqual(committed(), ['a'], 'the later write was never committed');
  assert.equal(gate.calls.length, 1);
  await queue.drain();
  await close();
});

test('a write that throws is rolled back alone; the others of its batch commit', async () => {
  const { db, wal, committed, close } = freshDatabase();
  const queue = new GroupCommitQueue(db, wal);
  const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
  const results = await Promise.allSettled([
    queue.run(() => insert.run('a')),
    queue.run(() => {
      insert.run('b');
      throw new Error('guard refused');
    }),
    queue.run(() => insert.run('c')),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(committed(), ['a', 'c']);
  await queue.drain();
  await close();
});
