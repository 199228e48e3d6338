/**
 * A security alert: something an operator must hear about even when nobody is watching the
 * logs (an attempt to weaken Object Lock, a denied delete of a locked version, a broken audit
 * chain...). Alerts are plain frozen data so every channel can render them and the queue can
 * store them as JSON.
 */

export const ALERT_RULES = [
  'object-lock-configuration-change',
  'retention-bounds-change',
  'locked-delete-denied',
  'governance-bypass',
  'auth-failure-burst',
  'access-key-created',
  'policy-change',
  'root-credential-use',
  'audit-chain-broken',
  'clock-anomaly',
  'alert-delivery-failing',
  /** A scheduled backup job's run failed, timed out or was interrupted. */
  'backup-job-failed',
  /** Dead man's switch: a backup job has not succeeded within its expected interval. */
  'backup-job-overdue',
  /** A restore drill of a backup job failed: the backup may not restore. */
  'restore-drill-failed',
  /** Scheduled restore drills passed while the server was down (found at start-up; a catch-up drill runs). */
  'restore-drill-missed',
  'wal-archive-stale',
  'wal-archive-resumed',
  'wal-archive-conflict',
  /** Configuration departed from the approved baseline without an approved change request. */
  'config-drift',
  /** A component's periodic configuration review is past its due date. */
  'config-review-overdue',
  /** The integrity scrub read back a version whose bytes no longer match its ETag/checksum, or are gone. */
  'object-integrity-failed',
] as const;

export type AlertRule = (typeof ALERT_RULES)[number];

export type AlertSeverity = 'critical' | 'warning' | 'info';

/** Who did what to which resource. Every field is optional: a clock anomaly has no actor. */
export interface AlertSubject {
  readonly identity?: string;
  readonly accessKeyId?: string;
  readonly sourceIp?: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly versionId?: string;
}

export const ALERT_SUBJECT_FIELDS = ['identity', 'accessKeyId', 'sourceIp', 'bucket', 'key', 'versionId'] as const satisfies ReadonlyArray<keyof AlertSubject>;

export type AlertDetailValue = string | number | boolean | null;

export interface SecurityAlert {
  /** Unique; receivers use it to recognise a redelivery (delivery is at least once). */
  readonly id: string;
  readonly rule: AlertRule;
  readonly severity: AlertSeverity;
  readonly title: string;
  readonly summary: string;
  /** When the (first) event happened. */
  readonly atMs: number;
  readonly subject?: AlertSubject;
  readonly details: Readonly<Record<string, AlertDetailValue>>;
  /**
   * How many identical events this alert stands for: 1, unless later events were coalesced
   * into it (see `coalescing.ts`).
   */
  readonly occurrences: number;
  /** When the last coalesced event happened; equals `atMs` when `occurrences` is 1. */
  readonly lastAtMs: number;
}

/** What a caller hands to `Alerts.raise`: the service adds id, time and count. */
export interface NewSecurityAlert {
  readonly rule: AlertRule;
  readonly severity: AlertSeverity;
  readonly title: string;
  readonly summary: string;
  readonly subject?: AlertSubject;
  readonly details?: Readonly<Record<string, AlertDetailValue>>;
  /**
   * Extra text that separates alerts whose rule and subject are equal but which are about
   * different things (e.g. the name of the failing channel), so they are not coalesced.
   */
  readonly coalesceKey?: string;
}

export function isAlertRule(value: unknown): value is AlertRule {
  return typeof value === 'string' && (ALERT_RULES as readonly string[]).includes(value);
}
