import { createHash } from 'node:crypto';
import { ALERT_SUBJECT_FIELDS, type AlertRule, type AlertSubject, type NewSecurityAlert, type SecurityAlert } from './security-alert.js';

/**
 * Coalescing: identical alerts (same rule, same subject) within a window become one.
 *
 * The window (`coalesceWindowMs`, 10 minutes by default) works like this for one fingerprint:
 * - the first event is queued for delivery at once and opens a quiet period of one window;
 * - every further event in the quiet period is folded into ONE held alert, delivered when the
 *   quiet period ends, carrying the count (`occurrences`) and the time of the last event;
 * - delivering that held alert opens the next quiet period, so an endless loop of denied deletes
 *   sends one alert at once and then at most one summary per window — never 10,000 emails;
 * - an event after a whole quiet window without events is queued at once again.
 *
 * The decision is a pure function of the newest queued alert with the same fingerprint; the
 * queue store runs it inside its write transaction, so concurrent raises cannot both decide to
 * send (see `AlertQueueStore.enqueue`).
 */

/** Newest queued alert for one fingerprint, as the store reads it. */
export interface CoalescingState {
  readonly alertId: string;
  /** When its first delivery attempt is (or was) due. */
  readonly dueMs: number;
  /** Identical events before this time are coalesced. */
  readonly quietUntilMs: number;
  /** True once any delivery of it was attempted or completed: it can no longer grow. */
  readonly started: boolean;
}

export type QueueDecision =
  | {
      readonly kind: 'insert';
      readonly alert: SecurityAlert;
      /** Channels to deliver through; one delivery row each. */
      readonly channels: readonly string[];
      readonly dueMs: number;
      readonly quietUntilMs: number;
    }
  | { readonly kind: 'add-occurrence'; readonly alertId: string; readonly atMs: number };

/**
 * Rules whose alerts are about many objects in turn coalesce regardless of key and version: a
 * script that tries to delete every locked version in a bucket is one story, per actor and
 * bucket. Every other rule coalesces on the whole subject.
 */
const IGNORES_OBJECT: ReadonlySet<AlertRule> = new Set<AlertRule>(['locked-delete-denied', 'governance-bypass']);

/** A fixed-length key for "the same alert": rule, coalesce key and the subject fields that count. */
export function alertFingerprint(alert: Pick<NewSecurityAlert, 'rule' | 'subject' | 'coalesceKey'>): string {
  const subject: AlertSubject = alert.subject ?? {};
  const fields = ALERT_SUBJECT_FIELDS.filter((f) => !(IGNORES_OBJECT.has(alert.rule) && (f === 'key' || f === 'versionId')));
  const identity = JSON.stringify([alert.rule, alert.coalesceKey ?? '', ...fields.map((f) => subject[f] ?? null)]);
  return createHash('sha256').update(identity).digest('hex');
}

export function decideQueueing(
  latest: CoalescingState | undefined,
  alert: SecurityAlert,
  channels: readonly string[],
  windowMs: number,
): QueueDecision {
  const nowMs = alert.atMs;
  if (latest === undefined || nowMs >= latest.quietUntilMs) {
    return { kind: 'insert', alert, channels, dueMs: nowMs, quietUntilMs: nowMs + windowMs };
  }
  if (!latest.started && latest.dueMs > nowMs) {
    return { kind: 'add-occurrence', alertId: latest.alertId, atMs: nowMs };
  }
  // The newest one is already on its way: hold a new one until its quiet period ends.
  const dueMs = latest.quietUntilMs;
  return { kind: 'insert', alert, channels, dueMs, quietUntilMs: dueMs + windowMs };
}
