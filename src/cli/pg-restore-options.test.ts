import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ABSENT_FRESH_MS, WalPrefetchSpool } from '../backup/pg/wal-prefetch-spool.js';
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
    const command = defaultRestoreCommand('s3://pg/prod', 'http://127.0.0.1:9470', ['--prefetch', '8', '--spool', '/var/spool/holdfast x'], ['/usr/bin/node', '/opt/holdfast/main.js']);
    assert.ok(command.startsWith(`mv -f '${spool.directory}'/%f %p 2>/dev/null || `), command);
    assert.ok(command.endsWith(`/usr/bin/node /opt/holdfast/main.js pg wal-fetch %f %p --repo s3://pg/prod --endpoint http://127.0.0.1:9470 --prefetch 8 --spool '/var/spool/holdfast x'; }`), command);
    // The default spool is relative: restore_command runs in the data directory.
    assert.match(defaultRestoreCommand('s3://pg/prod', 'http://127.0.0.1:9470', ['--prefetch', '8', '--spool', DEFAULT_RESTORE_SPOOL]), /^mv -f pg_wal\/holdfast-prefetch\/archive-get\/[0-9a-f]{16}\/%f %p 2>\/dev\/null \|\| /);
  });

  test('run by /bin/sh as PostgreSQL runs it: a prefetched segment is moved, a fresh absence marker answers 1, anything else reaches wal-fetch', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'holdfast-restore-command-'));
    try {
      await mkdir(join(dataDir, 'pg_wal'));
      const spool = new WalPrefetchSpool(join(dataDir, DEFAULT_RESTORE_SPOOL), 'http://127.0.0.1:9470', 's3://pg/prod');
      await spool.ensure();
      // wal-fetch stands in as a program that records its call and answers 7.
      const fallback = join(dataDir, 'fallback-called');
      const command = defaultRestoreCommand('s3://pg/prod', 'http://127.0.0.1:9470', ['--prefetch', '8', '--spool', DEFAULT_RESTORE_SPOOL], ['sh', '-c', `echo "$0" >> ${fallback}; exit 7`]);
      // PostgreSQL replaces %f and %p and runs the result with system(), in the data directory.
      const run = (name: string) => runShell(command.replaceAll('%f', name).replaceAll('%p', 'pg_wal/RECOVERYXLOG'), dataDir);
      const segment = '000000010000000000000003';
      await writeFile(spool.pathOf(segment), 'verified segment');
      assert.equal(await run(segment), 0);
      assert.equal(await readFile(join(dataDir, 'pg_wal', 'RECOVERYXLOG'), 'utf8'), 'verified segment');
      assert.equal(existsSync(spool.pathOf(segment)), false, 'moved, not copied');

      await spool.markAbsent('00000002.history');
      assert.equal(await run('00000002.history'), 1, 'a fresh marker: not in the archive');
      const stale = new Date(Date.now() - (ABSENT_FRESH_MS + 5_000));
      await writeFile(spool.pathOf('00000003.history.absent'), '');
      await utimes(spool.pathOf('00000003.history.absent'), stale, stale);
      assert.equal(await run('00000003.history'), 7, 'a stale marker is asked again');
      assert.equal(await run('000000010000000000000004'), 7, 'not prefetched');
      assert.equal((await readFile(fallback, 'utf8')).trim().split('\n').length, 2, 'wal-fetch ran exactly for the two it had to answer');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

function runShell(command: string, cwd: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}
