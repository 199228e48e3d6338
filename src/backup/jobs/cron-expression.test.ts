import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CronSyntaxError, matchesDay, parseCronExpression } from './cron-expression.js';

const sorted = (set: ReadonlySet<number>) => [...set].sort((a, b) => a - b);

test('lists, ranges and steps expand to the values they name', () => {
  const e = parseCronExpression('0,15,30-32 */6 1-10/3 * *');
  assert.deepEqual(sorted(e.minutes), [0, 15, 30, 31, 32]);
  assert.deepEqual(sorted(e.hours), [0, 6, 12, 18]);
  assert.deepEqual(sorted(e.daysOfMonth), [1, 4, 7, 10]);
  assert.equal(e.months.size, 12);
  assert.equal(e.daysOfWeek.size, 7);
  assert.deepEqual(sorted(parseCronExpression('5/20 * * * *').minutes), [5, 25, 45]);
});

test('month and day names, in any case, and 7 as Sunday', () => {
  const e = parseCronExpression('0 3 * jan,Jun-aug MON-fri');
  assert.deepEqual(sorted(e.months), [1, 6, 7, 8]);
  assert.deepEqual(sorted(e.daysOfWeek), [1, 2, 3, 4, 5]);
  assert.deepEqual(sorted(parseCronExpression('0 0 * * 7').daysOfWeek), [0]);
  assert.deepEqual(sorted(parseCronExpression('0 0 * * 5-7').daysOfWeek), [0, 5, 6]);
  assert.deepEqual(sorted(parseCronExpression('0 0 * * SUN').daysOfWeek), [0]);
});

test('macros expand to their five fields', () => {
  const same = (macro: string, fields: string) => {
    const a = parseCronExpression(macro);
    const b = parseCronExpression(fields);
    for (const k of ['minutes', 'hours', 'daysOfMonth', 'months', 'daysOfWeek'] as const) assert.deepEqual(sorted(a[k]), sorted(b[k]), `${macro} ${k}`);
    assert.equal(a.text, macro);
  };
  same('@hourly', '0 * * * *');
  same('@daily', '0 0 * * *');
  same('@midnight', '0 0 * * *');
  same('@weekly', '0 0 * * 0');
  same('@monthly', '0 0 1 * *');
  same('@yearly', '0 0 1 1 *');
  same('@annually', '0 0 1 1 *');
  same('@DAILY', '0 0 * * *');
});

test('day of month and day of week are ORed when both are restricted (Vixie cron), ANDed otherwise', () => {
  const both = parseCronExpression('0 3 1,15 * MON');
  assert.equal(matchesDay(both, 1, 3), true, 'the 1st, a Wednesday');
  assert.equal(matchesDay(both, 9, 1), true, 'a Monday the 9th');
  assert.equal(matchesDay(both, 9, 2), false);
  const dowOnly = parseCronExpression('0 3 * * MON');
  assert.equal(matchesDay(dowOnly, 1, 3), false);
  assert.equal(matchesDay(dowOnly, 9, 1), true);
  // A field starting with * counts as unrestricted even with a step, as in Vixie cron.
  const starStep = parseCronExpression('0 3 */2 * MON');
  assert.equal(starStep.dayOfMonthRestricted, false);
  assert.equal(matchesDay(starStep, 3, 1), true);
  assert.equal(matchesDay(starStep, 4, 1), false);
  assert.equal(matchesDay(starStep, 3, 2), false);
});

test('everyHour marks interval schedules', () => {
  assert.equal(parseCronExpression('15 * * * *').everyHour, true);
  assert.equal(parseCronExpression('15 0-23 * * *').everyHour, true);
  assert.equal(parseCronExpression('15 */2 * * *').everyHour, false);
  assert.equal(parseCronExpression('@daily').everyHour, false);
});

test('invalid expressions are refused with a message naming the field and the problem', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['0 3 * *', /has 4 fields; a schedule has 5/],
    ['0 3 * * * *', /has 6 fields/],
    ['60 3 * * *', /minute field "60" has 60, outside 0-59/],
    ['0 24 * * *', /hour field "24" has 24, outside 0-23/],
    ['0 3 0 * *', /day-of-month field "0" has 0, outside 1-31/],
    ['0 3 * 13 *', /month field "13" has 13, outside 1-12/],
    ['0 3 * * 8', /day-of-week field "8" has 8, outside 0-7/],
    ['0 3 * FOO *', /month field "FOO" has "FOO"; expected a number 1-12 or a name \(JAN/],
    ['0 3 * * MONDAY', /day-of-week field "MONDAY" has "MONDAY"/],
    ['*/0 * * * *', /step "0"/],
    ['*/x * * * *', /step "x"/],
    ['*/61 * * * *', /step 61, larger than the field's range/],
    ['30-10 * * * *', /range 30-10 running backwards/],
    ['1,,2 * * * *', /empty list item/],
    ['0 3 30 2 *', /never runs: no month in the month field has day 30/],
    ['0 3 31 4,6,9,11 *', /never runs/],
    ['@reboot', /@reboot has no meaning/],
    ['@fortnightly', /unknown macro "@fortnightly"/],
    ['-5 * * * *', /expected a number 0-59/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseCronExpression(text), (e: unknown) => e instanceof CronSyntaxError && message.test(e.message), `"${text}" should fail with ${message}`);
  }
  // Feb 29 and "31st or a Monday" are possible, so they parse.
  parseCronExpression('0 3 29 2 *');
  parseCronExpression('0 3 31 2 MON');
});
