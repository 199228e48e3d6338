import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeProgress, formatBytes, formatDuration, ProgressLine } from './progress-line.js';

describe('progress lines', () => {
  test('bytes, share, rate and ETA', () => {
    assert.equal(describeProgress(512 * 1024 * 1024, 1024 * 1024 * 1024, 4), '512.0 MiB of 1.0 GiB (50%), 128.0 MiB/s, ETA 4 s');
    assert.equal(describeProgress(1500, undefined, 1), '1.5 KiB, 1.5 KiB/s');
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatDuration(125), '2 min 5 s');
    assert.equal(formatDuration(3 * 3600 + 120), '3 h 2 min');
  });

  test('a log gets a line per interval, a terminal one line rewritten in place', () => {
    let now = 0;
    const logged: string[] = [];
    const log = new ProgressLine('restore', { write: (t) => logged.push(t), interactive: false, nowMs: () => now, logIntervalMs: 10_000 });
    for (now = 0; now <= 25_000; now += 1_000) log.update(now, 100_000);
    assert.equal(logged.length, 2, `after 10 s and after 20 s, not at the start: ${logged.join('')}`);
    assert.ok(logged.every((line) => line.startsWith('restore: ') && line.endsWith('\n')));
    log.done();
    assert.equal(logged.length, 2, 'no trailing newline for a log');

    const shown: string[] = [];
    const tty = new ProgressLine('backup', { write: (t) => shown.push(t), interactive: true, nowMs: () => now });
    for (let i = 0; i < 10; i++, now += 100) tty.update(i * 1000);
    assert.equal(shown.length, 5);
    assert.ok(shown.every((text) => text.startsWith('\r\x1b[2Kbackup: ')));
    tty.done();
    assert.equal(shown.at(-1), '\n');
  });

  test('steps: a log gets a line per new step, a terminal the step rewritten in place with the time so far', () => {
    let now = 0;
    const logged: string[] = [];
    const log = new ProgressLine('drill 1', { write: (t) => logged.push(t), interactive: false, nowMs: () => now });
    for (const step of ['starting', 'restoring', 'restoring', 'restoring', 'probe orders', 'restoring']) {
      log.step(step);
      now += 1000;
    }
    assert.deepEqual(logged, ['drill 1: starting\n', 'drill 1: restoring\n', 'drill 1: probe orders\n', 'drill 1: restoring\n']);
    log.done();
    assert.equal(logged.length, 4);

    const shown: string[] = [];
    const tty = new ProgressLine('drill 2', { write: (t) => shown.push(t), interactive: true, nowMs: () => now });
    tty.step('restoring');
    now += 61_000;
    tty.step('restoring');
    assert.deepEqual(shown, ['\r\x1b[2Kdrill 2: restoring (0 s)', '\r\x1b[2Kdrill 2: restoring (1 min 1 s)']);
    tty.done();
    assert.equal(shown.at(-1), '\n');
  });
});
