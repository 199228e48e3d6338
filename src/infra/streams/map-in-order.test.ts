import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapInOrder } from './map-in-order.js';

/** A call that finishes when the test says so, recording that it started. */
function controllable() {
  const started: number[] = [];
  const finish = new Map<number, (value: string) => void>();
  const fail = new Map<number, (error: Error) => void>();
  const map = (item: number, index: number) =>
    new Promise<string>((resolve, reject) => {
      started.push(index);
      finish.set(item, resolve);
      fail.set(item, reject);
    });
  return { started, finish, fail, map };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('results come back in the order of the items even when later calls finish first', async () => {
  const { finish, map } = controllable();
  const results: string[] = [];
  const done = (async () => {
    for await (const value of mapInOrder([0, 1, 2, 3], 3, map)) results.push(value);
  })();
  await tick();
  finish.get(2)!('c');
  finish.get(1)!('b');
  await tick();
  assert.deepEqual(results, [], 'item 0 has not finished, so nothing is yielded yet');
  finish.get(0)!('a');
  await tick();
  finish.get(3)!('d');
  await done;
  assert.deepEqual(results, ['a', 'b', 'c', 'd']);
});

test('never more than `width` calls run, and the source is pulled only when there is room', async () => {
  const { started, finish, map } = controllable();
  let pulled = 0;
  async function* source() {
    for (let i = 0; i < 5; i++) {
      pulled++;
      yield i;
    }
  }
  const results: string[] = [];
  const done = (async () => {
    for await (const value of mapInOrder(source(), 2, map)) results.push(value);
  })();
  await tick();
  assert.deepEqual(started, [0, 1]);
  assert.equal(pulled, 2);
  finish.get(0)!('a');
  await tick();
  assert.deepEqual(started, [0, 1, 2], 'one more starts when the first is consumed');
  for (const item of [1, 2, 3, 4]) {
    finish.get(item)?.(String(item));
    await tick();
  }
  await done;
  assert.deepEqual(results, ['a', '1', '2', '3', '4']);
  assert.equal(pulled, 5);
});

test('a failed call surfaces in its turn; calls still running are left unobserved without an unhandled rejection', async () => {
  const { finish, fail, map } = controllable();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const results: string[] = [];
    const done = (async () => {
      for await (const value of mapInOrder([0, 1, 2], 3, map)) results.push(value);
    })();
    await tick();
    finish.get(0)!('a');
    fail.get(1)!(new Error('part 2 is corrupt'));
    await assert.rejects(done, /part 2 is corrupt/);
    fail.get(2)!(new Error('abandoned'));
    await tick();
    await tick();
    assert.deepEqual(results, ['a']);
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a consumer that stops early closes the source', async () => {
  let closed = false;
  async function* source() {
    try {
      for (let i = 0; ; i++) yield i;
    } finally {
      closed = true;
    }
  }
  for await (const value of mapInOrder(source(), 2, (item) => Promise.resolve(item * 10))) {
    if (value === 30) break;
  }
  assert.equal(closed, true);
});

test('a width below 1 is refused', async () => {
  await assert.rejects(mapInOrder([1], 0, (item) => Promise.resolve(item)).next(), RangeError);
});
