import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { type BackupCatalog, readBackupCatalog } from './backup-catalog.js';
import type { BackupManifest } from './backup-manifest.js';
import type { BackupRepositoryLocation } from './backup-repository.js';
import { newestTimeline, planRecoveryWal, RecoveryPlanError, type RequiredSegmentRange } from './recovery-wal-plan.js';
import { parseTimelineHistory, TimelineHistoryError, type TimelineSwitch } from './timeline-history.js';
import { readArchivedWalText, type WalArchiveListing } from './wal-archive-listing.js';
import { type RepositoryKey, RepositoryKeyError } from './repository-key.js';
import { formatLsn, timelineHex, walSegmentName, walSegmentNumber } from './wal-position.js';

/**
 * What `holdfast pg show` and `verify` report about a repository, from its catalog alone (no
 * object is read but the small history files): per timeline, the archived range, the gaps inside
 * it and where it branched off; per backup, whether a recovery from it to the newest archived
 * WAL finds every segment it needs, and if not, the first missing one; and the newest segment,
 * whose age is the recovery point a restore could reach right now.
 */

export interface TimelineOverview {
  readonly timeline: number;
  readonly firstSegment: string;
  readonly lastSegment: string;
  readonly segments: number;
  /** Segments between first and last that are not archived (at most 100 named). */
  readonly gaps: readonly string[];
  readonly gapCount: number;
  /** Where this timeline branched off its parent (from its history file). */
  readonly branchedFrom: { readonly timeline: number; readonly atLsn: string } | undefined;
  readonly newestStoredAt: string | undefined;
}

export interface BackupOverview {
  readonly manifest: BackupManifest;
  /** Restorable to the newest WAL of `targetTimeline` without a missing segment. */
  readonly restorableToLatest: boolean;
  readonly targetTimeline: number;
  readonly walRequired: readonly RequiredSegmentRange[];
  readonly missingWal: readonly string[];
  readonly missingWalCount: number;
  /** Why no plan could be made (e.g. a history file that does not parse). */
  readonly planProblem: string | undefined;
}

export interface RepositoryOverview {
  readonly catalog: BackupCatalog;
  readonly timelines: readonly TimelineOverview[];
  readonly backups: readonly BackupOverview[];
  readonly histories: ReadonlyMap<number, readonly TimelineSwitch[]>;
  readonly historyProblems: readonly string[];
}

const MAX_NAMED_GAPS = 100;

export async function readRepositoryOverview(client: S3Client, location: BackupRepositoryLocation, encryption?: RepositoryKey): Promise<RepositoryOverview> {
  const catalog = await readBackupCatalog(client, location);
  const histories = new Map<number, readonly TimelineSwitch[]>();
  const historyProblems: string[] = [];
  for (const timeline of [...catalog.listing.historyTimelines].sort((a, b) => a - b)) {
    const name = `${timelineHex(timeline)}.history`;
    try {
      const text = await readArchivedWalText(client, location, name, encryption);
      if (text !== undefined) histories.set(timeline, parseTimelineHistory(text, timeline));
    } catch (error) {
      // Without the key of an encrypted repository, a history file cannot be read: reported, not fatal.
      if (!(error instanceof TimelineHistoryError) && !(error instanceof RepositoryKeyError)) throw error;
      historyProblems.push(`${name}: ${error.message}`);
    }
  }
  return overviewOf(catalog, histories, historyProblems);
}

export function overviewOf(catalog: BackupCatalog, histories: ReadonlyMap<number, readonly TimelineSwitch[]>, historyProblems: readonly string[] = []): RepositoryOverview {
  const segmentBytes = catalog.backups[0]?.walSegmentSize ?? 16 * 1024 * 1024;
  const timelines = timelineOverviews(catalog.listing, histories, segmentBytes);
  const backups = catalog.backups.map((manifest): BackupOverview => {
    const targetTimeline = newestTimeline(manifest.timeline, catalog.listing);
    try {
      const plan = planRecoveryWal(manifest, catalog.listing, histories, { kind: 'latest' }, targetTimeline);
      return Object.freeze({
        manifest,
        restorableToLatest: plan.missingCount === 0,
        targetTimeline,
        walRequired: plan.required,
        missingWal: plan.missing,
        missingWalCount: plan.missingCount,
        planProblem: undefined,
      });
    } catch (error) {
      if (!(error instanceof RecoveryPlanError)) throw error;
      return Object.freeze({ manifest, restorableToLatest: false, targetTimeline, walRequired: [], missingWal: [], missingWalCount: 0, planProblem: error.message });
    }
  });
  return Object.freeze({ catalog, timelines, backups, histories, historyProblems });
}

function timelineOverviews(listing: WalArchiveListing, histories: ReadonlyMap<number, readonly TimelineSwitch[]>, segmentBytes: number): TimelineOverview[] {
  return [...listing.segments.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([hex, segments]) => {
      const timeline = parseInt(hex, 16);
      const gaps: string[] = [];
      let gapCount = 0;
      for (let i = 1; i < segments.length; i++) {
        const previous = walSegmentNumber(segments[i - 1]!.name, segmentBytes);
        const current = walSegmentNumber(segments[i]!.name, segmentBytes);
        for (let missing = previous + 1n; missing < current; missing++) {
          gapCount += 1;
          if (gaps.length < MAX_NAMED_GAPS) gaps.push(walSegmentName(timeline, missing, segmentBytes));
        }
      }
      const parent = histories.get(timeline)?.at(-1);
      const newest = segments.at(-1)!;
      return Object.freeze({
        timeline,
        firstSegment: segments[0]!.name,
        lastSegment: newest.name,
        segments: segments.length,
        gaps: Object.freeze(gaps),
        gapCount,
        branchedFrom: parent === undefined ? undefined : { timeline: parent.timeline, atLsn: formatLsn(parent.switchLsn) },
        newestStoredAt: Number.isFinite(newest.lastModifiedMs) ? new Date(newest.lastModifiedMs).toISOString() : undefined,
      });
    });
}
