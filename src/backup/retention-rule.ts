/**
 * The backup-data-immutability policy, section 5: "Backup retention follows the Data Deletion
 * and Retention Policy, with a maximum backup retention of 90 days after data deletion." A
 * backup can hold data deleted just after it was taken, so a backup kept for D days keeps that
 * data up to D days after its deletion.
 */
export const POLICY_MAX_BACKUP_RETENTION_DAYS = 90;

export const DAY_MS = 24 * 3600 * 1000;

/** Why a complete backup (a PostgreSQL base backup, a job's run) stays. */
export type CountAndAgeKeepReason = 'newest' | 'keep-count' | 'keep-days';

export interface CountAndAgeRule {
  /** Keep the N newest complete backups, none of them past the policy's maximum. */
  readonly keepCount: number | undefined;
  /** Keep the backups taken within D days (D ≤ the policy's maximum: see the callers' checks). */
  readonly keepDays: number | undefined;
}

/**
 * The one keep rule of every retention in Holdfast, for the complete backup at `rank` (0 = the
 * newest) taken at `timeMs`:
 * - the newest always stays — losing the last backup is worse than keeping it too long, and
 *   the job's dead man's switch is already alerting about a source that has not been backed up
 *   for 90 days;
 * - `keepCount` keeps the N newest, but never one older than the policy's maximum: an
 *   automated prune enforces the ceiling the configuration promised (a count that outlives
 *   90 days — monthly backups, keep 6 — would otherwise keep data far past it);
 * - `keepDays` keeps those taken within D days.
 */
export function countAndAgeKeepReasons(rank: number, timeMs: number, rule: CountAndAgeRule, nowMs: number): CountAndAgeKeepReason[] {
  const reasons: CountAndAgeKeepReason[] = [];
  if (rank === 0) reasons.push('newest');
  if (rule.keepCount !== undefined && rank < rule.keepCount && !isBeyondPolicyMaximum(timeMs, nowMs)) reasons.push('keep-count');
  if (rule.keepDays !== undefined && timeMs >= nowMs - rule.keepDays * DAY_MS) reasons.push('keep-days');
  return reasons;
}

export function isBeyondPolicyMaximum(timeMs: number, nowMs: number): boolean {
  return timeMs < nowMs - POLICY_MAX_BACKUP_RETENTION_DAYS * DAY_MS;
}
