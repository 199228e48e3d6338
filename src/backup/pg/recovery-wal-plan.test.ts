import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BackupManifest } from './backup-manifest.js';
import { newestTimeline, planRecoveryWal, RecoveryPlanError, type RecoveryTarget } from './recovery-wal-plan.js';
import { parseTimelineHistory } from './timeline-history.js';
import { type ArchivedWalFile, walArchiveListingOf } from './wal-archive-listing.js';

const MiB16 = 16 * 1024 * 1024;

/** A backup on timeline 1 from 0/2000028 (segment 2) to 0/3000100 (segment 3). */
const manifest = {
  id: '20261126T090000Z-abcdef',
  timeline: 1,
  walSegmentSize: MiB16,
  startLsn: '0/2000028',
  stopLsn: '0/3000100',
  startWalSegment: '000000010000000000000002',
  stopWalSegment: '000000010000000000000003',
} as unknown as BackupManifest;

function file(name: string, lastModifiedMs = 0): ArchivedWalFile {
  const kind = name.endsWith('.history') ? 'timeline-history' : name.endsWith('.partial') ? 'partial' : 'segment';
  return { name, kind, key: `wal/${name.slice(0, 8)}/${name}`, size: 1, lastModifiedMs };
}
const seg = (timeline: number, n: number) => `${timeline.toString(16).padStart(8, '0').toUpperCase()}00000000${n.toString(16).toUpperCase().padStart(8, '0')}`;

describe('the WAL a recovery needs', () => {
  test('latest on one timeline: start segment through the newest archived; a hole is named', () => {
    const listing = walArchiveListingOf([2, 3, 4, 6, 7].map((n) => file(seg(1, n), n * 1000)));
    const plan = planRecoveryWal(manifest, listing, new Map(), { kind: 'latest' }, 1);
    assert.deepEqual(plan.required, [{ timeline: 1, firstSegment: seg(1, 2), lastSegment: seg(1, 7), segments: 6 }]);
    assert.deepEqual(plan.missing, [seg(1, 5)]);
    assert.equal(plan.reachableThrough?.name, seg(1, 4), 'recovery gets as far as the segment before the hole');
  });

  test('the mandatory range is required even when the archive ends before it', () => {
    const plan = planRecoveryWal(manifest, walArchiveListingOf([file(seg(1, 2))]), new Map(), { kind: 'immediate' }, 1);
    assert.deepEqual(plan.missing, [seg(1, 3)]);
  });

  test('a target time needs segments only through the first one stored after it', () => {
    const listing = walArchiveListingOf([2, 3, 4, 5, 7].map((n) => file(seg(1, n), n * 1000)));
    const target: RecoveryTarget = { kind: 'time', text: 'x', atMs: 4500 };
    const plan = planRecoveryWal(manifest, listing, new Map(), target, 1);
    assert.deepEqual(plan.missing, [], 'the hole at segment 6 is after the target');
    assert.equal(plan.required[0]!.lastSegment, seg(1, 5));
    const later = planRecoveryWal(manifest, listing, new Map(), { kind: 'time', text: 'x', atMs: 5500 }, 1);
    assert.deepEqual(later.missing, [seg(1, 6)]);
  });

  test('a target LSN needs segments through its own; one before the backup ended is refused', () => {
    const listing = walArchiveListingOf([2, 3, 4].map((n) => file(seg(1, n))));
    const plan = planRecoveryWal(manifest, listing, new Map(), { kind: 'lsn', text: '0/4000010', lsn: 0x4000010n }, 1);
    assert.deepEqual(plan.missing, []);
    assert.equal(plan.required[0]!.lastSegment, seg(1, 4));
    const beyond = planRecoveryWal(manifest, listing, new Map(), { kind: 'lsn', text: '0/5000010', lsn: 0x5000010n }, 1);
    assert.deepEqual(beyond.missing, [seg(1, 5)]);
    assert.throws(() => planRecoveryWal(manifest, listing, new Map(), { kind: 'lsn', text: '0/3000000', lsn: 0x3000000n }, 1), RecoveryPlanError);
  });

  test('across a timeline switch: the old timeline up to the switch segment, the new one from it', () => {
    // Timeline 2 began at 0/4800000, inside segment 4: segment 4 is read from timeline 2.
    const history = parseTimelineHistory('1\t0/4800000\tno recovery target specified\n', 2);
    const listing = walArchiveListingOf([
      ...[2, 3].map((n) => file(seg(1, n))),
      file(`${seg(1, 4)}.partial`),
      file('00000002.history'),
      ...[4, 5, 6].map((n) => file(seg(2, n))),
    ]);
    assert.equal(newestTimeline(1, listing), 2);
    const plan = planRecoveryWal(manifest, listing, new Map([[2, history]]), { kind: 'latest' }, 2);
    assert.deepEqual(plan.required, [
      { timeline: 1, firstSegment: seg(1, 2), lastSegment: seg(1, 3), segments: 2 },
      { timeline: 2, firstSegment: seg(2, 4), lastSegment: seg(2, 6), segments: 3 },
    ]);
    assert.deepEqual(plan.missing, []);
    assert.equal(plan.reachableThrough?.name, seg(2, 6));
  });

  test('a backup from a branch that is not on the target timeline\'s history is refused', () => {
    // Timeline 2 split off at 0/2800000, before this backup ended on timeline 1.
    const history = parseTimelineHistory('1\t0/2800000\treason\n', 2);
    const listing = walArchiveListingOf([file('00000002.history')]);
    assert.throws(() => planRecoveryWal(manifest, listing, new Map([[2, history]]), { kind: 'latest' }, 2), /not on the history of timeline 2/);
  });

  test('history files: malformed or out-of-order lines are refused', () => {
    assert.deepEqual(parseTimelineHistory('# comment\n1\t0/3000000\tx\n2\t0/5000000\ty\n', 3), [
      { timeline: 1, switchLsn: 0x3000000n },
      { timeline: 2, switchLsn: 0x5000000n },
    ]);
    assert.throws(() => parseTimelineHistory('1\tnot-an-lsn\n', 2), /malformed/);
    assert.throws(() => parseTimelineHistory('2\t0/5000000\n1\t0/3000000\n', 3), /out of order/);
  });
});
