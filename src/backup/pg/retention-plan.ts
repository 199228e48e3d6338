import { type CountAndAgeKeepReason, POLICY_MAX_BACKUP_RETENTION_DAYS, countAndAgeKeepReasons, isBeyondPolicyMaximum } from '../retention-rule.js';
import { isBackupId } from './backup-id.js';
import { backupsPrefix, MANIFEST_NAME } from './backup-layout.js';
import type { BackupManifest } from './backup-manifest.js';
import type { RepositoryOverview } from './repository-overview.js';
import { walPrefix } from './wal-archive-layout.js';
import { parseWalFileName } from './wal-file-name.js';
import { walSegmentNumber } from './wal-position.js';

/**
 * Which backups and WAL files of a repository a retention policy keeps, and which keys may go —
 * a pure function of the repository's catalog, what the bucket holds (from ListObjectVersions)
 * and the time. Whether a version may actually be deleted is Object Lock's decision, made later
 * per version (repository-pruning.ts); a backup that must stay because it is still locked is fed
 * back in (`stillLocked`), and the WAL it needs stays with it.
 *
 * The rules, all failing closed (when unsure, keep):
 * - A complete backup is kept if `--keep-count` keeps it (the N newest by stop time), or
 *   `--keep-days` does (stopped within D days), or it is the newest — always.
 * - A removed backup goes with everything in its folder: `manifest.json` FIRST, then the parts.
 *   The manifest is the commit point (written last by `backup`); removing it first turns the
 *   backup into an incomplete one at once, which `list` and `restore` ignore, so a prune that
 *   stops half-way never leaves a listed backup with missing parts.
 * - An incomplete backup folder (parts, no manifest) goes once nothing in it changed for 24 h:
 *   a backup still uploading writes a part at least every few minutes.
 * - WAL: a segment, partial segment or backup history file goes only if its segment number is
 *   below the start segment of every backup that stays. Replay only moves forward in LSN, on
 *   whatever timeline, so no recovery from a kept backup — to any target, on any timeline — can
 *   read it. As a second check, nothing inside the WAL a kept backup needs for a recovery to the
 *   newest archived WAL (planRecoveryWal, through the overview) is ever removed.
 * - A timeline history file goes only if its timeline is older than every kept backup's, is not
 *   on the history of a kept backup's timeline or recovery target, and keeps no WAL at all.
 * - Keys this code did not write (strays, unknown names in a backup folder, folders whose
 *   manifest does not parse) are never touched; they are reported.
 */

/**
 * The policy's 90-day maximum (src/backup/retention-rule.ts): `--keep-days` above it would break
 * the policy by itself and is refused; `--keep-count` never keeps a backup past it; the newest
 * backup, which is never removed, is reported when it is older.
 */
export { POLICY_MAX_BACKUP_RETENTION_DAYS };

/** An incomplete backup folder this long unchanged is abandoned, not still uploading. */
export const INCOMPLETE_BACKUP_AGE_MS = 24 * 3600 * 1000;

const PART_NAME = /^base\.tar\.gz\.part-\d{5}$/;

export interface RetentionPolicy {
  /** Keep the N newest complete backups. */
  readonly keepCount: number | undefined;
  /** Keep the backups that stopped within D days. */
  readonly keepDays: number | undefined;
}

export class RetentionPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetentionPolicyError';
  }
}

/** Checks a policy: at least one rule, whole numbers, `keepDays` within the policy's maximum. */
export function retentionPolicy(keepCount: number | undefined, keepDays: number | undefined): RetentionPolicy {
  if (keepCount === undefined && keepDays === undefined) throw new RetentionPolicyError('a retention policy needs --keep-count N, --keep-days D, or both.');
  if (keepCount !== undefined && !(Number.isSafeInteger(keepCount) && keepCount >= 1)) throw new RetentionPolicyError(`--keep-count takes a whole number of backups, 1 or more, not ${keepCount}.`);
  if (keepDays !== undefined && !(Number.isSafeInteger(keepDays) && keepDays >= 1)) throw new RetentionPolicyError(`--keep-days takes a whole number of days, 1 or more, not ${keepDays}.`);
  if (keepDays !== undefined && keepDays > POLICY_MAX_BACKUP_RETENTION_DAYS) {
    throw new RetentionPolicyError(
      `--keep-days ${keepDays} exceeds the backup-data-immutability policy's "maximum backup retention of 90 days after data deletion" (section 5); keep ${POLICY_MAX_BACKUP_RETENTION_DAYS} days or fewer.`,
    );
  }
  return Object.freeze({ keepCount, keepDays });
}

/** One key under the repository prefix, summed over its versions (ListObjectVersions). */
export interface StoredKey {
  readonly key: string;
  /** Versions holding data (not delete markers). */
  readonly versions: number;
  readonly deleteMarkers: number;
  /** The newest LastModified among its versions and delete markers. */
  readonly newestModifiedMs: number;
}

export type KeepReason = CountAndAgeKeepReason | 'locked';

export interface BackupDecision {
  readonly manifest: BackupManifest;
  /** Empty when the backup is removed. */
  readonly reasons: readonly KeepReason[];
  readonly keep: boolean;
  /** Stopped more than the policy's maximum retention ago (kept anyway, reported). */
  readonly beyondPolicyMaximum: boolean;
  /** Its keys in deletion order: `manifest.json` first, then the parts. */
  readonly keys: readonly string[];
}

export interface IncompleteBackupFolder {
  readonly id: string;
  readonly keys: readonly string[];
  readonly newestModifiedMs: number;
  /** Unchanged for 24 h: abandoned. */
  readonly removable: boolean;
}

export interface WalRetention {
  /** Removable WAL keys (segments, partials, backup and timeline history files), oldest first. */
  readonly removable: readonly string[];
  /** The start segment of the oldest backup that stays: older WAL goes. */
  readonly keptFrom: string | undefined;
  /** Why no WAL is removed at all, if that is the case. */
  readonly notPruned: string | undefined;
}

export interface RetentionPlan {
  readonly policy: RetentionPolicy;
  readonly nowMs: number;
  /** Every complete backup, newest first. */
  readonly backups: readonly BackupDecision[];
  readonly incomplete: readonly IncompleteBackupFolder[];
  readonly wal: WalRetention;
  /** Keys left alone because this code did not write them, or cannot read them. */
  readonly untouched: readonly string[];
  readonly warnings: readonly string[];
}

export interface RetentionPlanInput {
  readonly overview: RepositoryOverview;
  /** Everything under `PREFIX/backups/` and `PREFIX/wal/`, versions and delete markers included. */
  readonly stored: readonly StoredKey[];
  readonly prefix: string;
  readonly policy: RetentionPolicy;
  readonly nowMs: number;
  /** Backups the policy lets go but Object Lock does not (yet): they stay, with their WAL. */
  readonly stillLocked?: ReadonlySet<string>;
}

export function planRetention(input: RetentionPlanInput): RetentionPlan {
  const { overview, policy, nowMs } = input;
  const warnings: string[] = [];
  const untouched: string[] = [];
  const folders = backupFolders(input.stored, input.prefix, untouched);

  const newestFirst = [...overview.catalog.backups].sort((a, b) => (a.stopTime !== b.stopTime ? (a.stopTime < b.stopTime ? 1 : -1) : a.id < b.id ? 1 : -1));
  const backups = newestFirst.map((manifest, rank): BackupDecision => {
    const stoppedMs = Date.parse(manifest.stopTime);
    const reasons: KeepReason[] = countAndAgeKeepReasons(rank, stoppedMs, policy, nowMs);
    if (reasons.length === 0 && input.stillLocked?.has(manifest.id) === true) reasons.push('locked');
    const keep = reasons.length > 0;
    const beyondPolicyMaximum = isBeyondPolicyMaximum(stoppedMs, nowMs);
    if (keep && beyondPolicyMaximum && !reasons.includes('locked')) {
      // Only the newest can be kept this old: keep-count stops at the maximum, keep-days is within it.
      warnings.push(
        `backup ${manifest.id} stopped ${manifest.stopTime}, more than the policy's ${POLICY_MAX_BACKUP_RETENTION_DAYS}-day maximum backup retention ago, ` +
          `and is kept (${reasons.join(', ')}): it is the newest backup — is the backup job still running?`,
      );
    }
    const keys = folders.get(manifest.id)?.keys ?? [];
    return Object.freeze({ manifest, reasons: Object.freeze(reasons), keep, beyondPolicyMaximum, keys: Object.freeze(keys) });
  });

  const complete = new Set(newestFirst.map((m) => m.id));
  const invalid = new Set(overview.catalog.invalid.map((bad) => bad.key));
  const incomplete: IncompleteBackupFolder[] = [];
  for (const [id, folder] of folders) {
    if (complete.has(id)) continue;
    if (folder.manifestKey !== undefined && invalid.has(folder.manifestKey)) {
      warnings.push(`${folder.manifestKey} is not a valid manifest; the folder is left alone.`);
      untouched.push(...folder.keys);
      continue;
    }
    if (folder.manifestHasData) {
      // A manifest version hidden under a delete marker: someone deleted it without its version
      // id. Whether that backup should go is a person's decision, not a retention rule's.
      warnings.push(`${folder.manifestKey!} has a version but no current one (a delete marker hides it); the folder is left alone.`);
      untouched.push(...folder.keys);
      continue;
    }
    incomplete.push(Object.freeze({ id, keys: Object.freeze(folder.keys), newestModifiedMs: folder.newestModifiedMs, removable: folder.newestModifiedMs <= nowMs - INCOMPLETE_BACKUP_AGE_MS }));
  }

  for (const bad of overview.catalog.invalid) warnings.push(`${bad.key}: ${bad.problem}`);
  const wal = walRetention(input, backups.filter((b) => b.keep).map((b) => b.manifest), untouched);
  return Object.freeze({ policy, nowMs, backups: Object.freeze(backups), incomplete: Object.freeze(incomplete), wal, untouched: Object.freeze(untouched), warnings: Object.freeze(warnings) });
}

interface BackupFolder {
  /** Deletion order: the manifest first, then parts in order. */
  readonly keys: string[];
  manifestKey: string | undefined;
  manifestHasData: boolean;
  newestModifiedMs: number;
}

/** The keys of each backup folder this code wrote: `manifest.json` and parts; anything else is untouched. */
function backupFolders(stored: readonly StoredKey[], prefix: string, untouched: string[]): Map<string, BackupFolder> {
  const root = backupsPrefix(prefix);
  const folders = new Map<string, BackupFolder>();
  for (const entry of [...stored].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    if (!entry.key.startsWith(root)) continue;
    const [id, name, extra] = entry.key.slice(root.length).split('/');
    if (id === undefined || name === undefined || extra !== undefined || !isBackupId(id) || (name !== MANIFEST_NAME && !PART_NAME.test(name))) {
      untouched.push(entry.key);
      continue;
    }
    const folder = folders.get(id) ?? { keys: [], manifestKey: undefined, manifestHasData: false, newestModifiedMs: -Infinity };
    folders.set(id, folder);
    folder.newestModifiedMs = Math.max(folder.newestModifiedMs, entry.newestModifiedMs);
    if (name === MANIFEST_NAME) {
      folder.keys.unshift(entry.key);
      folder.manifestKey = entry.key;
      folder.manifestHasData = entry.versions > 0;
    } else {
      folder.keys.push(entry.key);
    }
  }
  return folders;
}

function walRetention(input: RetentionPlanInput, survivors: readonly BackupManifest[], untouched: string[]): WalRetention {
  const { overview } = input;
  const root = walPrefix(input.prefix);
  const walKeys = [...input.stored].filter((s) => s.key.startsWith(root)).sort((a, b) => (a.key < b.key ? -1 : 1));
  const files: { key: string; name: string; kind: string; timeline: number; stored: StoredKey }[] = [];
  for (const entry of walKeys) {
    const [folder, name, extra] = entry.key.slice(root.length).split('/');
    const file = name === undefined ? undefined : parseWalFileName(name);
    if (file === undefined || extra !== undefined || file.timeline !== folder) {
      untouched.push(entry.key);
      continue;
    }
    files.push({ key: entry.key, name: file.name, kind: file.kind, timeline: parseInt(file.timeline, 16), stored: entry });
  }
  const keepAll = (notPruned: string): WalRetention => Object.freeze({ removable: Object.freeze([]), keptFrom: undefined, notPruned });
  if (survivors.length === 0) return keepAll('there is no complete backup, so no WAL is known to be unneeded.');
  if (overview.historyProblems.length > 0) return keepAll(`a timeline history file cannot be read (${overview.historyProblems[0]!}).`);
  const segmentBytes = survivors[0]!.walSegmentSize;
  if (survivors.some((m) => m.walSegmentSize !== segmentBytes)) return keepAll('the kept backups have different WAL segment sizes.');
  const survivorOverviews = survivors.map((m) => overview.backups.find((b) => b.manifest.id === m.id));
  const problem = survivorOverviews.find((b) => b === undefined || b.planProblem !== undefined);
  if (problem !== undefined) return keepAll(`no recovery plan for a kept backup${problem === undefined ? '' : ` (${problem.manifest.id}: ${problem.planProblem!})`}.`);

  const oldest = survivors.reduce((a, b) => (walSegmentNumber(b.startWalSegment, segmentBytes) < walSegmentNumber(a.startWalSegment, segmentBytes) ? b : a));
  const keptFromNumber = walSegmentNumber(oldest.startWalSegment, segmentBytes);
  const required = survivorOverviews.flatMap((b) => b!.walRequired);
  const neededByRecovery = (name: string, timeline: number) => {
    const segment = name.slice(0, 24);
    return required.some((range) => range.timeline === timeline && segment >= range.firstSegment && segment <= range.lastSegment);
  };
  const survivorHistoryFiles = new Set(survivors.map((m) => m.backupHistoryFile));

  const removable = new Set<string>();
  const remainingTimelines = new Set<number>();
  for (const file of files) {
    if (file.kind === 'timeline-history') continue;
    const old = walSegmentNumber(file.name, segmentBytes) < keptFromNumber;
    const goes = old && !neededByRecovery(file.name, file.timeline) && !(file.kind === 'backup-history' && survivorHistoryFiles.has(file.name));
    if (goes) removable.add(file.key);
    else if (file.stored.versions > 0) remainingTimelines.add(file.timeline);
  }

  // Timelines a kept backup's recovery may walk: its own, its target's and their ancestors.
  const onPath = new Set<number>();
  for (const b of survivorOverviews) {
    for (const timeline of [b!.manifest.timeline, b!.targetTimeline]) {
      onPath.add(timeline);
      for (const change of overview.histories.get(timeline) ?? []) onPath.add(change.timeline);
    }
  }
  const lowestKeptTimeline = Math.min(...survivors.map((m) => m.timeline));
  for (const file of files) {
    if (file.kind !== 'timeline-history') continue;
    if (file.timeline < lowestKeptTimeline && !onPath.has(file.timeline) && !remainingTimelines.has(file.timeline)) removable.add(file.key);
  }
  // Oldest first: by segment number (then timeline), timeline history files last.
  const order = (f: (typeof files)[number]) => (f.kind === 'timeline-history' ? `~${f.name}` : `${f.name.slice(8, 24)}${f.name.slice(0, 8)}${f.name.slice(24)}`);
  const ordered = files
    .filter((f) => removable.has(f.key))
    .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
    .map((f) => f.key);
  return Object.freeze({ removable: Object.freeze(ordered), keptFrom: oldest.startWalSegment, notPruned: undefined });
}
