import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WalPrefetchSpool } from '../backup/pg/wal-prefetch-spool.js';
import { DEFAULT_RESTORE_SPOOL, defaultRestoreCommand, parseRestoreTarget, parseTargetTime, RestoreOptionError } from './pg-restore-options.js';

describe('restore target options', () => {
  test('target times need a zone; the exact text (microseconds) is passed on, the instant parsed', () => {
    assert.deepEqual(parseTargetTime('2026-11-26T10:15:00Z'), { text: '2026-11-26 10:15:00+00', atMs: Date.UTC(2026, 10, 26, 10, 15, 0) });
    const micro = parseTargetTime('2026-11-26 10:15:00.123456+05:30');
    assert.equal(micro.text, '2026-11-26 10:15:00.123456+05:30');
    assert.equal(micro.atMs, Date.UTC(2026, 10, 26, 4, 45, 0, 123) + 1, 'rounded up past the last whole millisecond');
    assert.equal(parseTargetTime('2026-11-26 10:15:00-0800').atMs, Date.UTC(2026, 10, 26, 18, 15));
    assert.equal(parseTargetTime('2026-11-26 10:15:00+02').atMs, Date.UTC(2026, 10, 26, 8, 15));
    for (const bad of ['2026-11-26 10:15:00', 'yesterday', '2026-13-40 10:15:00Z', '2026-11-26 10:15Z']) {
      assert.throws(() => parseTargetTime(bad), RestoreOptionError, bad);
    }
  });

  test('one target at a time; latest by default; LSN, name, timeline and action checked', () => {
    assert.deepEqual(parseRestoreTarget({}), { target: { kind: 'latest' }, targetTimeline: 'latest', targetAction: 'pause', targetInclusive: true });
    assert.deepEqual(parseRestoreTarget({ targetLsn: '0/3000060', targetAction: 'promote', targetExclusive: true, targetTimeline: '2' }), {
      target: { kind: 'lsn', text: '0/3000060', lsn: 0x3000060n },
      targetTimeline: 2,
      targetAction: 'promote',
      targetInclusive: false,
    });
    assert.deepEqual(parseRestoreTarget({ target: 'immediate' }).target, { kind: 'immediate' });
    assert.deepEqual(parseRestoreTarget({ targetName: 'before-upgrade' }).target, { kind: 'name', name: 'before-upgrade' });
    const refused: [Parameters<typeof parseRestoreTarget>[0], RegExp][] = [
      [{ targetTime: '2026-11-26 10:00:00Z', targetLsn: '0/1' }, /cannot be combined/],
      [{ targetLsn: 'zero' }, /not an LSN/],
      [{ target: 'now' }, /takes "immediate" .* or "latest"/],
      [{ targetTimeline: '0' }, /latest, current or a timeline number/],
      [{ targetName: 'x', targetAction: 'explode' }, /pause, promote or shutdown/],
      [{ targetAction: 'promote' }, /need a target/],
      [{ targetName: 'x'.repeat(64) }, /1 to 63 characters/],
    ];
    for (const [flags, message] of refused) assert.throws(() => parseRestoreTarget(flags), (e: unknown) => e instanceof RestoreOptionError && message.test(e.message), JSON.stringify(flags));
  });

  test('the restore_command quotes what the shell would split, and carries no credentials', () => {
    assert.equal(
      defaultRestoreCommand('s3://pg/prod', 'http://127.0.0.1:9470', ['--no-sync'], ['/usr/bin/node', "/opt/hold fast/it's/main.js"]),
      "/usr/bin/node '/opt/hold fast/it'\\''s/main.js' pg wal-fetch %f %p --repo s3://pg/prod --endpoint http://127.0.0.1:9470 --no-sync",
    );
  });

  test('with a prefetch spool, the restore_command first moves a prefetched segment from this repository\'s spool folder, else runs wal-fetch', () => {
    const spool = new WalPrefetchSpool('/var/spool/holdfast x', 'http://127.0.0.1:9470', 's3://pg/prod');
    assert.equal(
      defaultRestoreCommand('s3://pg/prod', 'http://127.0.0.1:9470', ['--prefetch', '8', '--spool', '/var/spool/holdfast x'], ['/usr/bin/node', '/opt/holdfast/main.js']),
      `mv -f '${spool.directory}'/%f %p 2>/dev/null || /usr/bin/node /opt/holdfast/main.js pg wal-fetch %f %p --repo s3://pg/prod --endpoint http://127.0.0.1:9470 --prefetch 8 --spool '/var/spool/holdfast x'`,
    );
    // The default spool is relative: restore_command runs in the data directory.
    assert.match(defaultRestoreCommand('s3://pg/prod', 'http://127.0.0.1:9470', ['--prefetch', '8', '--spool', DEFAULT_RESTORE_SPOOL]), /^mv -f pg_wal\/holdfast-prefetch\/archive-get\/[0-9a-f]{16}\/%f %p 2>\/dev\/null \|\| /);
  });
});
