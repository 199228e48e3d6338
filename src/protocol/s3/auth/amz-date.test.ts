import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatAmzDate, parseAmzDate } from './amz-date.js';

test('parseAmzDate accepts exactly the timestamps that name a real instant (the format round trip)', () => {
  const field = (max: number, width: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(width, '0'));
  const stamp = fc
    .tuple(field(9999, 4), field(19, 2), field(39, 2), field(29, 2), field(69, 2), field(69, 2), fc.constantFrom('T', 't', ' '), fc.constantFrom('Z', 'z', ''))
    .map(([y, mo, d, h, mi, s, t, z]) => `${y}${mo}${d}${t}${h}${mi}${s}${z}`);
  fc.assert(
    fc.property(stamp, (text) => {
      const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
      const ms = m === null ? undefined : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
      const expected = ms !== undefined && formatAmzDate(ms) === text ? ms : undefined;
      assert.equal(parseAmzDate(text), expected, text);
    }),
    { numRuns: 5000 },
  );
});

test('parseAmzDate: examples', () => {
  assert.equal(parseAmzDate('20130524T000000Z'), Date.UTC(2013, 4, 24));
  assert.equal(parseAmzDate('20240229T235959Z'), Date.UTC(2024, 1, 29, 23, 59, 59));
  for (const bad of ['20230229T000000Z', '20130231T000000Z', '20131301T000000Z', '20130524T240000Z', '20130524T000060Z', '00990524T000000Z', '2013052T0000000Z', '20130524T000000', '+2013052T000000Z', '']) {
    assert.equal(parseAmzDate(bad), undefined, bad);
  }
});
