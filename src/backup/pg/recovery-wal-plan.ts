import type { BackupManifest } from './backup-manifest.js';
import type { TimelineSwitch } from './timeline-history.js';
import type { ArchivedWalFile, WalArchiveListing } from './wal-archive-listing.js';
import { formatLsn, parseLsn, walSegmentName, walSegmentNumber } from './wal-position.js';

/**
 * Which archived WAL segments a recovery from one base backup reads, and which of them the
 * archive lacks — computed before anything is restored, so a hole is reported by segment name
 * instead of surfacing as a recovery that stops early.
 *
 * Why this matters: PostgreSQL reads a missing segment (restore_command exits 1) as the end of
 * the archive. With a recovery target, PostgreSQL 14+ then refuses to start ("recovery ended
 * before configured recovery target was reached"); without one ("latest") it ends recovery at
 * the hole and promotes a cluster that is silently missing every later transaction. So:
 *
 * - always required: the backup's start segment through its stop segment (consistency);
 * - `latest`: every segment through the newest archived one on the target timeline;
 * - `lsn`: through the segment holding the target LSN;
 * - `time`: through the first segment stored after the target time (Last-Modified is when the
 *   segment reached the archive, after every record in it was written);
 * - `name` and `immediate`: only the mandatory range — where a restore point lies is unknown
 *   until replay, and PostgreSQL stops if it is not reached.
 *
 * Timelines follow PostgreSQL's rules (xlogrecovery.c, XLogFileReadAnyTLI; timeline.c): the
 * target timeline's history file lists its ancestors and the LSN where each ended; segments
 * before a switch point's segment come from the old timeline, the switch segment onwards from
 * the new one (the old timeline's copy of it is archived as `.partial`, never read).
 */

export type RecoveryTarget =
  | { readonly kind: 'latest' }
  | { readonly kind: 'immediate' }
  | { readonly kind: 'time'; readonly text: string; readonly atMs: number }
  | { readonly kind: 'lsn'; readonly text: string; readonly lsn: bigint }
  | { readonly kind: 'name'; readonly name: string };

export interface RequiredSegmentRange {
  readonly timeline: number;
  readonly firstSegment: string;
  readonly lastSegment: string;
  readonly segments: number;
}

export interface RecoveryWalPlan {
  readonly targetTimeline: number;
  readonly required: readonly RequiredSegmentRange[];
  /** Required segments the archive does not hold, in WAL order (at most `MAX_REPORTED_MISSING`). */
  readonly missing: readonly string[];
  readonly missingCount: number;
  /** The newest required segment before the first hole: how far a recovery can get. */
  readonly reachableThrough: ArchivedWalFile | undefined;
}

export class RecoveryPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecoveryPlanError';
  }
}

const MAX_REPORTED_MISSING = 20;

interface PathElement {
  readonly timeline: number;
  readonly beginLsn: bigint;
  /** Where the next timeline begins; undefined for the target timeline itself. */
  readonly endLsn: bigint | undefined;
}

/** The newest timeline reachable from `from` by history files, as PostgreSQL's findNewestTimeLine probes. */
export function newestTimeline(from: number, listing: WalArchiveListing): number {
  let newest = from;
  while (listing.historyTimelines.has(newest + 1)) newest += 1;
  return newest;
}

export function planRecoveryWal(
  manifest: BackupManifest,
  listing: WalArchiveListing,
  histories: ReadonlyMap<number, readonly TimelineSwitch[]>,
  target: RecoveryTarget,
  targetTimeline: number,
): RecoveryWalPlan {
  const segmentBytes = manifest.walSegmentSize;
  const startLsn = parseLsn(manifest.startLsn)!;
  const stopLsn = parseLsn(manifest.stopLsn)!;
  const path = timelinePath(targetTimeline, histories);
  const index = path.findIndex((element) => element.timeline === manifest.timeline);
  const own = path[index];
  if (own === undefined || startLsn < own.beginLsn || (own.endLsn !== undefined && stopLsn > own.endLsn)) {
    const ended = own?.endLsn === undefined ? '' : ` (timeline ${own.timeline} ended at ${formatLsn(own.endLsn)}, before the backup ended at ${manifest.stopLsn})`;
    throw new RecoveryPlanError(`backup ${manifest.id} (timeline ${manifest.timeline}) is not on the history of timeline ${targetTimeline}${ended}; pick a backup taken on that timeline's history, or --target-timeline ${manifest.timeline}.`);
  }

  const stopSegment = walSegmentNumber(manifest.stopWalSegment, segmentBytes);
  const targetLsn = target.kind === 'lsn' ? target.lsn : undefined;
  if (targetLsn !== undefined && targetLsn < stopLsn) {
    throw new RecoveryPlanError(`the target LSN ${target.kind === 'lsn' ? target.text : ''} is before the end of backup ${manifest.id} (${manifest.stopLsn}): a recovery cannot stop before the backup is consistent; pick an older backup.`);
  }

  const required: RequiredSegmentRange[] = [];
  const missing: string[] = [];
  let missingCount = 0;
  let reachableThrough: ArchivedWalFile | undefined;
  let done = false;
  for (let i = index; i < path.length && !done; i++) {
    const element = path[i]!;
    const first = i === index ? walSegmentNumber(manifest.startWalSegment, segmentBytes) : segmentOf(element.beginLsn, segmentBytes);
    let last: bigint;
    if (element.endLsn !== undefined) last = segmentOf(element.endLsn, segmentBytes) - 1n;
    else last = newestArchivedSegment(listing, element.timeline, segmentBytes) ?? first - 1n;
    if (last < stopSegment && element.timeline === manifest.timeline) last = stopSegment;
    if (targetLsn !== undefined && (element.endLsn === undefined || targetLsn < element.endLsn)) {
      const targetSegment = segmentOf(targetLsn, segmentBytes);
      if (targetSegment < last || element.endLsn === undefined) last = targetSegment;
      done = true;
    }
    let counted = 0n;
    for (let segment = first; segment <= last; segment++) {
      const name = walSegmentName(element.timeline, segment, segmentBytes);
      const stored = listing.get(name);
      counted += 1n;
      if (stored === undefined) {
        missingCount += 1;
        if (missing.length < MAX_REPORTED_MISSING) missing.push(name);
      } else if (missingCount === 0) {
        reachableThrough = stored;
      }
      const pastMandatory = element.timeline !== manifest.timeline || segment >= stopSegment;
      if (pastMandatory && (target.kind === 'immediate' || target.kind === 'name')) {
        last = segment;
        done = true;
      }
      if (pastMandatory && target.kind === 'time' && stored !== undefined && stored.lastModifiedMs > target.atMs) {
        last = segment;
        done = true;
      }
    }
    if (counted > 0n) {
      required.push(
        Object.freeze({
          timeline: element.timeline,
          firstSegment: walSegmentName(element.timeline, first, segmentBytes),
          lastSegment: walSegmentName(element.timeline, last, segmentBytes),
          segments: Number(counted),
        }),
      );
    }
  }
  return Object.freeze({ targetTimeline, required: Object.freeze(required), missing: Object.freeze(missing), missingCount, reachableThrough });
}

function segmentOf(lsn: bigint, segmentBytes: number): bigint {
  return lsn / BigInt(segmentBytes);
}

function timelinePath(targetTimeline: number, histories: ReadonlyMap<number, readonly TimelineSwitch[]>): PathElement[] {
  if (targetTimeline === 1) return [{ timeline: 1, beginLsn: 0n, endLsn: undefined }];
  const switches = histories.get(targetTimeline);
  if (switches === undefined) throw new RecoveryPlanError(`the archive has no history file for timeline ${targetTimeline} (${targetTimeline.toString(16).toUpperCase().padStart(8, '0')}.history), so its ancestry is unknown.`);
  const path: PathElement[] = [];
  let begin = 0n;
  for (const change of switches) {
    path.push({ timeline: change.timeline, beginLsn: begin, endLsn: change.switchLsn });
    begin = change.switchLsn;
  }
  path.push({ timeline: targetTimeline, beginLsn: begin, endLsn: undefined });
  return path;
}

function newestArchivedSegment(listing: WalArchiveListing, timeline: number, segmentBytes: number): bigint | undefined {
  const list = listing.segments.get(timeline.toString(16).toUpperCase().padStart(8, '0'));
  const newest = list?.at(-1);
  return newest === undefined ? undefined : walSegmentNumber(newest.name, segmentBytes);
}
