import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCronExpression } from './cron-expression.js';
import { nextRun, upcomingRuns } from './cron-next-run.js';
import { checkTimeZone, instantsOfLocalMinute, TimeZoneError } from './zoned-time.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const runs = (cron: string, afterIso: string, zone: string, count: number) => upcomingRuns(parseCronExpression(cron), at(afterIso), zone, count).map(iso);

test('a daily schedule in UTC and in a zone', () => {
  assert.deepEqual(runs('0 3 * * *', '2026-06-01T00:00:00Z', 'UTC', 2), ['2026-06-01T03:00:00.000Z', '2026-06-02T03:00:00.000Z']);
  // 03:00 in Berlin in summer is 01:00 UTC (CEST, +2), in winter 02:00 UTC (CET, +1).
  assert.deepEqual(runs('0 3 * * *', '2026-06-01T00:00:00Z', 'Europe/Berlin', 1), ['2026-06-01T01:00:00.000Z']);
  assert.deepEqual(runs('0 3 * * *', '2026-01-10T12:00:00Z', 'Europe/Berlin', 1), ['2026-01-11T02:00:00.000Z']);
});

test('the next run is strictly after the given time, and seconds are ignored', () => {
  assert.equal(iso(nextRun(parseCronExpression('0 3 * * *'), at('2026-06-01T03:00:00Z'), 'UTC')), '2026-06-02T03:00:00.000Z');
  assert.equal(iso(nextRun(parseCronExpression('* * * * *'), at('2026-06-01T03:00:30Z'), 'UTC')), '2026-06-01T03:01:00.000Z');
  assert.equal(iso(nextRun(parseCronExpression('*/15 * * * *'), at('2026-06-01T03:59:59.999Z'), 'UTC')), '2026-06-01T04:00:00.000Z');
});

test('weekdays, month ends and the day-of-month OR day-of-week rule', () => {
  // 2026-06-05 is a Friday: the next weekday run is Monday the 8th.
  assert.deepEqual(runs('0 3 * * MON-FRI', '2026-06-05T04:00:00Z', 'UTC', 2), ['2026-06-08T03:00:00.000Z', '2026-06-09T03:00:00.000Z']);
  // The 31st skips the months without one.
  assert.deepEqual(runs('0 0 31 * *', '2026-01-31T01:00:00Z', 'UTC', 3), ['2026-03-31T00:00:00.000Z', '2026-05-31T00:00:00.000Z', '2026-07-31T00:00:00.000Z']);
  // The 13th, or any Friday: June 2026 has Fridays 5, 12, 19, 26 and the 13th is a Saturday.
  assert.deepEqual(runs('0 0 13 * FRI', '2026-06-01T00:00:00Z', 'UTC', 4), [
    '2026-06-05T00:00:00.000Z',
    '2026-06-12T00:00:00.000Z',
    '2026-06-13T00:00:00.000Z',
    '2026-06-19T00:00:00.000Z',
  ]);
});

test('Feb 29 runs only in leap years, and skips 2100', () => {
  assert.deepEqual(runs('0 12 29 2 *', '2026-01-01T00:00:00Z', 'UTC', 2), ['2028-02-29T12:00:00.000Z', '2032-02-29T12:00:00.000Z']);
  assert.deepEqual(runs('0 12 29 2 *', '2097-01-01T00:00:00Z', 'UTC', 1), ['2104-02-29T12:00:00.000Z']);
  // In a zone east of UTC the local Feb 29 starts on Feb 28 UTC.
  assert.deepEqual(runs('0 0 29 2 *', '2027-06-01T00:00:00Z', 'Europe/Berlin', 1), ['2028-02-28T23:00:00.000Z']);
});

test('Europe/Berlin spring forward: a skipped 02:30 runs at 03:00 CEST, once', () => {
  // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
  assert.deepEqual(instantsOfLocalMinute(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Berlin'), []);
  assert.deepEqual(runs('30 2 * * *', '2026-03-28T02:00:00Z', 'Europe/Berlin', 3), [
    '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first valid minute after the gap
    '2026-03-30T00:30:00.000Z', // 02:30 CEST
    '2026-03-31T00:30:00.000Z',
  ]);
  // Every 15 minutes of hour 2: four skipped times collapse into one run at 03:00.
  assert.deepEqual(runs('*/15 2 * * *', '2026-03-28T23:00:00Z', 'Europe/Berlin', 2), ['2026-03-29T01:00:00.000Z', '2026-03-30T00:00:00.000Z']);
  // A time after the gap on the same day is not disturbed.
  assert.deepEqual(runs('0 3 * * *', '2026-03-28T23:00:00Z', 'Europe/Berlin', 1), ['2026-03-29T01:00:00.000Z']);
});

test('Europe/Berlin fall back: a repeated 02:30 runs once, at its first occurrence', () => {
  // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30 happens at 00:30Z and 01:30Z.
  assert.deepEqual(instantsOfLocalMinute(Date.UTC(2026, 9, 25, 2, 30), 'Europe/Berlin').map(iso), ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
  assert.deepEqual(runs('30 2 * * *', '2026-10-24T12:00:00Z', 'Europe/Berlin', 2), ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  // Asked from inside the second pass, the next run is the next day's.
  assert.deepEqual(runs('30 2 * * *', '2026-10-25T01:15:00Z', 'Europe/Berlin', 1), ['2026-10-26T01:30:00.000Z']);
});

test('hourly schedules follow real time across both Berlin transitions', () => {
  // Spring: 01:30 CET (00:30Z), then 03:30 CEST (01:30Z): one hour apart, 02:30 does not exist.
  assert.deepEqual(runs('30 * * * *', '2026-03-29T00:00:00Z', 'Europe/Berlin', 3), ['2026-03-29T00:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-29T02:30:00.000Z']);
  // Autumn: 02:30 CEST (00:30Z) and 02:30 CET (01:30Z) both run; still one hour apart.
  assert.deepEqual(runs('30 * * * *', '2026-10-25T00:00:00Z', 'Europe/Berlin', 3), ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z', '2026-10-25T02:30:00.000Z']);
  // Every 20 minutes through the repeated hour: no gap, no duplicate.
  const every20 = runs('*/20 * * * *', '2026-10-25T00:30:00Z', 'Europe/Berlin', 6);
  assert.deepEqual(every20, [
    '2026-10-25T00:40:00.000Z',
    '2026-10-25T01:00:00.000Z',
    '2026-10-25T01:20:00.000Z',
    '2026-10-25T01:40:00.000Z',
    '2026-10-25T02:00:00.000Z',
    '2026-10-25T02:20:00.000Z',
  ]);
});

test('America/New_York: spring forward at 02:00, fall back repeats 01:00-01:59', () => {
  // 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
  assert.deepEqual(runs('30 2 * * *', '2026-03-07T12:00:00Z', 'America/New_York', 3), [
    '2026-03-08T07:00:00.000Z', // 03:00 EDT
    '2026-03-09T06:30:00.000Z', // 02:30 EDT
    '2026-03-10T06:30:00.000Z',
  ]);
  // 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00 UTC; 01:30 happens at 05:30Z and 06:30Z.
  assert.deepEqual(runs('30 1 * * *', '2026-10-31T12:00:00Z', 'America/New_York', 2), ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  assert.deepEqual(runs('0 3 * * *', '2026-10-31T12:00:00Z', 'America/New_York', 2), ['2026-11-01T08:00:00.000Z', '2026-11-02T08:00:00.000Z']);
  assert.deepEqual(runs('45 * * * *', '2026-11-01T05:00:00Z', 'America/New_York', 3), ['2026-11-01T05:45:00.000Z', '2026-11-01T06:45:00.000Z', '2026-11-01T07:45:00.000Z']);
});

test('consecutive runs of a nightly schedule over a whole year never repeat and never skip a night', () => {
  for (const zone of ['Europe/Berlin', 'America/New_York']) {
    const all = upcomingRuns(parseCronExpression('30 2 * * *'), at('2026-01-01T00:00:00Z'), zone, 365);
    for (let i = 1; i < all.length; i++) {
      const gapHours = (all[i]! - all[i - 1]!) / 3600_000;
      assert.ok(gapHours >= 23 && gapHours <= 25, `${zone}: ${iso(all[i - 1]!)} → ${iso(all[i]!)} is ${gapHours} h`);
    }
  }
});

test('unknown time zones are refused with the fix', () => {
  assert.throws(() => checkTimeZone('Europe/Atlantis'), (e: unknown) => e instanceof TimeZoneError && /"Europe\/Atlantis" is not a time zone.*Europe\/Berlin/.test(e.message));
  assert.equal(checkTimeZone('UTC'), 'UTC');
});

test('next-run computation is fast enough to run for every job on every tick', () => {
  const e = parseCronExpression('* * * * *');
  const started = performance.now();
  upcomingRuns(e, at('2026-10-25T00:00:00Z'), 'Europe/Berlin', 100);
  const nearMs = performance.now() - started;
  const quiet = performance.now();
  upcomingRuns(parseCronExpression('0 3 * * *'), at('2026-06-01T00:00:00Z'), 'Europe/Berlin', 100);
  const farMs = performance.now() - quiet;
  // Printed, not asserted: no timed tests on a shared machine.
  console.log(`100 next runs: "* * * * *" across a DST change ${nearMs.toFixed(1)} ms; "0 3 * * *" in summer ${farMs.toFixed(1)} ms`);
});
