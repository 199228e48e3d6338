import { backupIdTimeMs } from '../pg/backup-id.js';
import { INCOMPLETE_BACKUP_AGE_MS } from '../pg/retention-plan.js';
import { countAndAgeKeepReasons, isBeyondPolicyMaximum } from '../retention-rule.js';

/** One key under `PREFIX/runs/`, summed over its versions (ListObjectVersions). */
export interface StoredRunKey {
  readonly key: string;
  /** Versions holding data (not delete markers). */
  readonly versions: number;
  /** The current version is data, not a delete marker. */
  readonly current: boolean;
  readonly newestModifiedMs: number;
}

export type RunKeepReason = 'newest' | 'newest-recorded-success' | 'keep-count' | 'keep-days' | 'running';

export interface RunDecision {
  readonly runId: string;
  readonly startedMs: number;
  /** Has a current manifest.json: a run that completed. */
  readonly complete: boolean;
  readonly reasons: readonly RunKeepReason[];
  readonly keep: boolean;
  /** Older than the policy's 90-day maximum (removed, unless it is the newest). */
  readonly beyondPolicyMaximum: boolean;
  /** Deletion order: `manifest.json` first (the commit point: the run stops being restorable at once), then the rest. */
  readonly keys: readonly string[];
}

export interface JobRunRetentionInput {
  readonly prefix: string;
  readonly stored: readonly StoredRunKey[];
  readonly keepCount: number | undefined;
  readonly keepDays: number | undefined;
  readonly nowMs: number;
  /** Runs the history says are the newest success, or still running: never removed whatever the bucket shows. */
  readonly protectedRuns: ReadonlyMap<string, 'newest-recorded-success' | 'running'>;
}

export interface JobRunRetentionPlan {
  /** Newest first. */
  readonly runs: readonly RunDecision[];
  /** Keys under `runs/` this code did not write, or whose manifest someone hid under a delete marker (left alone). */
  readonly untouched: readonly string[];
}

/**
 * Which runs of a streamed job (mariadb-dump, directory, pg-dump…) its retention keeps — a pure
 * function of what the bucket holds, the job's `retention` and the time. Failing closed:
 *
 * - A complete run (current `manifest.json`) stays by the keep rule every retention shares
 *   (countAndAgeKeepReasons: the newest always; the `keepCount` newest, never past the policy's
 *   90-day maximum; those started within `keepDays`).
 * - The newest success the job history recorded and a run in progress are never removed, even if
 *   the listing missed them.
 * - A folder without a current manifest (a failed, timed-out or interrupted run) goes once nothing
 *   in it changed for 24 h, like an abandoned base backup.
 * - Whether a version may go is Object Lock's decision, made per version by the caller.
 */
export function planJobRunRetention(input: JobRunRetentionInput): JobRunRetentionPlan {
  const runsPrefix = `${input.prefix === '' ? '' : `${input.prefix}/`}runs/`;
  const folders = new Map<string, { keys: string[]; complete: boolean; hiddenManifest: boolean; newestModifiedMs: number }>();
  const untouched: string[] = [];
  for (const stored of input.stored) {
    const rest = stored.key.startsWith(runsPrefix) ? stored.key.slice(runsPrefix.length) : undefined;
    const slash = rest?.indexOf('/') ?? -1;
    const runId = rest === undefined || slash < 0 ? undefined : rest.slice(0, slash);
    if (runId === undefined || backupIdTimeMs(runId) === undefined) {
      untouched.push(stored.key);
      continue;
    }
    const folder = folders.get(runId) ?? { keys: [], complete: false, hiddenManifest: false, newestModifiedMs: -Infinity };
    const isManifest = rest!.slice(slash + 1) === 'manifest.json';
    if (isManifest) {
      folder.keys.unshift(stored.key);
      if (stored.current) folder.complete = true;
      else if (stored.versions > 0) folder.hiddenManifest = true;
    } else folder.keys.push(stored.key);
    folder.newestModifiedMs = Math.max(folder.newestModifiedMs, stored.newestModifiedMs);
    folders.set(runId, folder);
  }
  for (const [runId, folder] of folders) {
    // A manifest hidden under a delete marker: someone deleted it without its version id.
    // Whether that run should go is a person's decision, not a retention rule's.
    if (folder.hiddenManifest) {
      untouched.push(...folder.keys);
      folders.delete(runId);
    }
  }
  const newestFirst = [...folders.keys()].sort().reverse();
  let completeRank = 0;
  const runs = newestFirst.map((runId): RunDecision => {
    const folder = folders.get(runId)!;
    const startedMs = backupIdTimeMs(runId)!;
    const reasons: RunKeepReason[] = [];
    const protectedAs = input.protectedRuns.get(runId);
    if (protectedAs !== undefined) reasons.push(protectedAs);
    if (folder.complete) {
      reasons.push(...countAndAgeKeepReasons(completeRank, startedMs, input, input.nowMs));
      completeRank += 1;
    } else if (folder.newestModifiedMs > input.nowMs - INCOMPLETE_BACKUP_AGE_MS) {
      // Possibly still uploading (or just failed): left for a later prune.
      reasons.push('running');
    }
    return Object.freeze({
      runId,
      startedMs,
      complete: folder.complete,
      reasons: Object.freeze(reasons),
      keep: reasons.length > 0,
      beyondPolicyMaximum: isBeyondPolicyMaximum(startedMs, input.nowMs),
      keys: Object.freeze(folder.keys),
    });
  });
  return Object.freeze({ runs: Object.freeze(runs), untouched: Object.freeze(untouched) });
}
