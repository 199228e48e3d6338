import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../infra/clock.js';
import { type ClockJump, RetentionClock } from './retention-clock.js';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const START = Date.UTC(2033, 2, 1);

function setup(saved?: number) {
  const wall = new ManualClock(START);
  let monotonic = 1_000;
  let stored = saved;
  const jumps: ClockJump[] = [];
  const clock = new RetentionClock({
    wall,
    monotonicMs: () => monotonic,
    toleranceMs: DAY,
    store: { load: async () => stored, save: async (ms) => void (stored = ms) },
    onJump: (jump) => jumps.push(jump),
  });
  const elapse = (ms: number) => {
    monotonic += ms;
    wall.advance(ms);
  };
  return { wall, clock, jumps, elapse, stored: () => stored };
}

test('follows the wall clock while it behaves, and persists the trusted time', async () => {
  const { clock, elapse, jumps, stored } = setup();
  await clock.start(false);
  elapse(5 * HOUR);
  assert.equal(clock.nowMs(), START + 5 * HOUR);
  await clock.persist();
  assert.equal(stored(), START + 5 * HOUR);
  assert.deepEqual(jumps, []);
});

test('a forward jump while running is not believed: time advances only monotonically, and an alert is raised', async () => {
  const { clock, wall, elapse, jumps } = setup();
  await clock.start(false);
  elapse(HOUR);
  wall.advance(400 * DAY);
  assert.equal(clock.nowMs(), START + HOUR);
  assert.equal(clock.paused, true);
  assert.equal(jumps.length, 1);
  elapse(HOUR);
  assert.equal(clock.nowMs(), START + 2 * HOUR);
  await clock.confirmWallClock();
  assert.equal(clock.nowMs(), START + 400 * DAY + 2 * HOUR);
});

test('a clock set backwards is followed: it only makes retention look longer', async () => {
  const { clock, wall } = setup();
  await clock.start(false);
  wall.advance(-30 * DAY);
  assert.equal(clock.nowMs(), START - 30 * DAY);
  assert.equal(clock.paused, false);
});

test('across a restart, a wall clock far past the last trusted time stays untrusted until confirmed', async () => {
  const lastTrusted = START - 10 * DAY;
  const paused = setup(lastTrusted);
  await paused.clock.start(false);
  assert.equal(paused.clock.paused, true);
  assert.equal(paused.clock.nowMs(), lastTrusted);
  const confirmed = setup(lastTrusted);
  await confirmed.clock.start(true);
  assert.equal(confirmed.clock.paused, false);
  assert.equal(confirmed.clock.nowMs(), START);
  const shortStop = setup(START - HOUR);
  await shortStop.clock.start(false);
  assert.equal(shortStop.clock.paused, false);
});
