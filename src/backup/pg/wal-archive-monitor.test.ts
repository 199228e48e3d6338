import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../infra/clock.js';
import { type ArchivedKeyLister, parseWalArchiveWatches, WalArchiveMonitor, WalArchiveWatchConfigError, type WalArchiveStatus } from './wal-archive-monitor.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

/** An in-memory bucket; records every listing call so incremental listing can be checked. */
function fakeBucket() {
  const objects: { key: string; lastModifiedMs: number }[] = [];
  const calls: (string | undefined)[] = [];
  const lister: ArchivedKeyLister = {
    async *listKeys(_bucket, prefix, after) {
      calls.push(after);
      for (const o of [...objects].sort((a, b) => (a.key < b.key ? -1 : 1))) {
        if (o.key.startsWith(prefix) && (after === undefined || o.key > after)) yield o;
      }
    },
  };
  return { objects, calls, lister };
}

describe('WAL archive monitor (RPO)', () => {
  test('the age of the newest segment; stale once past the bound, resumed when WAL arrives again', async () => {
    const clock = new ManualClock(T0);
    const bucket = fakeBucket();
    const events: string[] = [];
    const [watch] = parseWalArchiveWatches([{ bucket: 'pg', prefix: 'main', archiveTimeoutSeconds: 60 }]);
    assert.equal(watch!.maxArchiveAgeSeconds, 120, 'twice archive_timeout');
    const monitor = new WalArchiveMonitor([watch!], bucket.lister, clock, {
      stale: (s: WalArchiveStatus) => events.push(`stale ${s.lastSegment ?? 'none'} ${Math.round(s.ageSeconds)}`),
      resumed: (s, stale) => events.push(`resumed ${s.lastSegment} after ${stale}`),
    });
    bucket.objects.push({ key: 'main/wal/00000001/000000010000000000000001', lastModifiedMs: T0 - 10_000 });
    bucket.objects.push({ key: 'main/wal/00000001/000000010000000000000001.00000028.backup', lastModifiedMs: T0 - 5_000 });
    bucket.objects.push({ key: 'other/wal/00000001/000000010000000000000009', lastModifiedMs: T0 });
    await monitor.check();
    assert.deepEqual(monitor.statuses().map((s) => [s.lastSegment, s.ageSeconds, s.stale]), [['000000010000000000000001', 10, false]], 'only segments of this repository count');

    clock.advance(111_000);
    await monitor.check();
    assert.deepEqual(events, ['stale 000000010000000000000001 121']);
    clock.advance(60_000);
    await monitor.check();
    assert.equal(events.length, 1, 'one alert per episode');

    // A new timeline's folder sorts after the old one: found by the incremental listing.
    bucket.objects.push({ key: 'main/wal/00000002/000000020000000000000002', lastModifiedMs: clock.nowMs() - 1_000 });
    await monitor.check();
    assert.deepEqual(events.slice(1), ['resumed 000000020000000000000002 after 60']);
    assert.equal(bucket.calls[0], undefined, 'the first check lists everything');
    assert.equal(bucket.calls.at(-1), 'main/wal/00000001/000000010000000000000001.00000028.backup', 'later ones only what came after');
  });

  test('a repository that never received WAL goes stale from when watching began; a listing error is reported in the alert', async () => {
    const clock = new ManualClock(T0);
    const statuses: WalArchiveStatus[] = [];
    const failing: ArchivedKeyLister = {
      // eslint-disable-next-line require-yield
      async *listKeys() {
        throw new Error('NoSuchBucket: pg');
      },
    };
    const monitor = new WalArchiveMonitor(parseWalArchiveWatches([{ bucket: 'pg', maxArchiveAgeSeconds: 30 }]), failing, clock, { stale: (s) => statuses.push(s), resumed: () => undefined });
    await monitor.check();
    assert.equal(statuses.length, 0);
    clock.advance(31_000);
    await monitor.check();
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0]!.lastSegment, undefined);
    assert.equal(statuses[0]!.checkError, 'NoSuchBucket: pg');
  });

  test('configuration errors name the entry and the fix', () => {
    const cases: [unknown, RegExp][] = [
      [{}, /is not a list/],
      [[{ prefix: 'x', archiveTimeoutSeconds: 60 }], /pgArchiveWatches\[0\]\.bucket/],
      [[{ bucket: 'b' }], /needs archiveTimeoutSeconds .* or maxArchiveAgeSeconds/],
      [[{ bucket: 'b', archiveTimeoutSeconds: 0 }], /whole number of seconds/],
      [[{ bucket: 'b', maxArchiveAgeSeconds: 60, color: 'red' }], /unknown field "color"/],
      [[{ bucket: 'b', prefix: 'p', maxArchiveAgeSeconds: 60 }, { bucket: 'b', prefix: '/p/', maxArchiveAgeSeconds: 60 }], /pgArchiveWatches\[1\] watches s3:\/\/b\/p a second time/],
    ];
    for (const [value, message] of cases) assert.throws(() => parseWalArchiveWatches(value), (e: unknown) => e instanceof WalArchiveWatchConfigError && message.test(e.message), JSON.stringify(value));
    assert.deepEqual(parseWalArchiveWatches(undefined), []);
  });
});
