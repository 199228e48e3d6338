/**
 * The evidence record of one restore drill of a backup job — what the policy's "full rebuild
 * testing validates end-to-end recoverability from immutable backups" leaves behind: what was
 * restored (the run, its objects and checksums), where to, when, whether it came back usable and
 * complete (the checks), how long that took (RTO) and how old the newest restored moment was
 * (RPO). Stored in the job history and, write-once and compliance-locked, in the evidence archive
 * (kind `drills`), so the history of drills cannot be rewritten.
 */

/**
 * `interrupted`: the process running the drill died under it (crash, kill, power loss); the
 * record is written at the next start-up, after the drill's scratch targets were torn down.
 * Never a pass.
 */
export type DrillOutcome = 'passed' | 'failed' | 'interrupted';

export interface DrillCheck {
  readonly name: string;
  readonly outcome: 'passed' | 'failed';
  readonly detail: string;
}

export interface DrillObject {
  readonly key: string;
  readonly versionId?: string;
  readonly sha256: string;
  readonly size?: number;
}

export interface JobDrillRecord {
  readonly format: 'holdfast-evidence';
  readonly version: 1;
  readonly kind: 'drill';
  readonly id: string;
  readonly job: string;
  readonly source: string;
  readonly trigger: 'schedule' | 'manual';
  readonly host: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: DrillOutcome;
  /** Why it failed, in one sentence; absent when it passed. */
  readonly reason?: string;
  /** The run restored: the job's newest successful run (for pg-base-backup: the base backup that run made). */
  readonly backup: {
    readonly runId: string | null;
    readonly manifestKey: string | null;
    readonly bucket: string;
    readonly takenAt: string | null;
    /** pg-base-backup: the base backup the drill restored (the one the run made). */
    readonly pgBackupId?: string;
  } | null;
  /** The isolated scratch target, and that it was torn down. */
  readonly target: string;
  /** Seconds from the drill's start to a usable restore (loaded database, extracted tree, promoted server). */
  readonly rtoSeconds: number | null;
  /** Age of the newest restorable moment when the drill started. */
  readonly rpoSeconds: number | null;
  readonly newestRestorableAt: string | null;
  readonly checks: readonly DrillCheck[];
  readonly objects: readonly DrillObject[];
}

export function drillReason(checks: readonly DrillCheck[]): string | undefined {
  const failed = checks.filter((c) => c.outcome === 'failed');
  if (failed.length === 0) return undefined;
  return `${failed.map((c) => c.name).join(', ')} failed: ${failed[0]!.detail}`;
}

/** Seconds, to a tenth. */
export function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
