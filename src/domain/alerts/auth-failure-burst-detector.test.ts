import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthFailureBurstDetector, sourceKey } from './auth-failure-burst-detector.js';

const T0 = 1_000_000;

test('N failures within the window make one burst; slower failures never do', () => {
  const detector = new AuthFailureBurstDetector({ threshold: 5, windowMs: 10_000, cooldownMs: 60_000 });
  // One failure every 3 s: at most 4 within any 10 s window.
  for (let i = 0; i < 20; i++) assert.equal(detector.recordFailure('203.0.113.9', T0 + i * 3_000), undefined);

  const fast = new AuthFailureBurstDetector({ threshold: 5, windowMs: 10_000, cooldownMs: 60_000 });
  const results = Array.from({ length: 5 }, (_, i) => fast.recordFailure('203.0.113.9', T0 + i * 1_000, i % 2 === 0 ? 'AKIDA' : 'AKIDB'));
  assert.deepEqual(results.slice(0, 4), [undefined, undefined, undefined, undefined]);
  assert.deepEqual(results[4], {
    sourceIp: '203.0.113.9',
    sourceKey: '203.0.113.9',
    failures: 5,
    windowMs: 10_000,
    firstAtMs: T0,
    lastAtMs: T0 + 4_000,
    accessKeyIds: ['AKIDA', 'AKIDB'],
  });
});

test('after a burst the source is quiet for the cooldown, then a continuing attack is reported again', () => {
  const detector = new AuthFailureBurstDetector({ threshold: 3, windowMs: 10_000, cooldownMs: 60_000 });
  const bursts: number[] = [];
  // One failure per second for two minutes.
  for (let s = 0; s < 120; s++) if (detector.recordFailure('198.51.100.7', T0 + s * 1_000) !== undefined) bursts.push(s);
  assert.deepEqual(bursts, [2, 62]);
});

test('sources are counted apart; an IPv6 /64 is one source; IPv4-mapped addresses are IPv4', () => {
  const detector = new AuthFailureBurstDetector({ threshold: 3, windowMs: 10_000 });
  assert.equal(detector.recordFailure('192.0.2.1', T0), undefined);
  assert.equal(detector.recordFailure('192.0.2.2', T0), undefined);
  assert.equal(detector.recordFailure('2001:db8:1:2::1', T0), undefined);
  assert.equal(detector.recordFailure('2001:db8:1:2:ffff::99', T0 + 1), undefined);
  const burst = detector.recordFailure('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd', T0 + 2);
  assert.equal(burst?.sourceKey, '2001:db8:1:2::/64');
  assert.equal(detector.recordFailure('::ffff:192.0.2.1', T0 + 3), undefined);
  assert.equal(detector.recordFailure('192.0.2.1', T0 + 4)?.sourceKey, '192.0.2.1');
});

test('sourceKey handles compressed, embedded-IPv4, zoned and non-IP inputs', () => {
  assert.equal(sourceKey('::1'), '0:0:0:0::/64');
  assert.equal(sourceKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(sourceKey('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64');
  assert.equal(sourceKey('2001:db8::'), '2001:db8:0:0::/64');
  assert.equal(sourceKey('unknown'), 'unknown');
});

test('memory stays bounded under many sources: the least recently seen is forgotten', () => {
  const detector = new AuthFailureBurstDetector({ threshold: 2, windowMs: 60_000, maxSources: 100 });
  assert.equal(detector.recordFailure('10.9.9.9', T0), undefined);
  for (let i = 0; i < 5_000; i++) detector.recordFailure(`10.0.${i >> 8}.${i & 255}`, T0 + 1);
  assert.equal(detector.trackedSources, 100);
  // 10.9.9.9 was evicted, so its second failure starts a new count instead of completing a burst.
  assert.equal(detector.recordFailure('10.9.9.9', T0 + 2), undefined);
  // A recently seen source is still remembered.
  assert.equal(detector.recordFailure('10.0.19.135', T0 + 3)?.failures, 2);
});

test('invalid options are refused', () => {
  assert.throws(() => new AuthFailureBurstDetector({ threshold: 0 }), /threshold/);
  assert.throws(() => new AuthFailureBurstDetector({ windowMs: 1.5 }), /windowMs/);
});
