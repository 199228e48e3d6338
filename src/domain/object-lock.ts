import { S3Error, s3errors } from './errors.js';
import type { ObjectVersionRecord } from './model.js';

/**
 * S3 Object Lock decisions, as pure functions of a version's lock state and the time. Every
 * decision fails closed: when in doubt, the version stays protected.
 * Semantics: AWS User Guide "Object Lock" (object-lock-overview, object-lock-managing).
 */
export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

export function isRetentionMode(value: unknown): value is RetentionMode {
  return value === 'GOVERNANCE' || value === 'COMPLIANCE';
}

export interface Retention {
  readonly mode: RetentionMode;
  readonly retainUntilMs: number;
}

/** A bucket's default retention: mode plus a period in days or years, never both. */
export interface DefaultRetention {
  readonly mode: RetentionMode;
  readonly days?: number;
  readonly years?: number;
}

/** "The maximum retention period is 100 years." */
export const MAX_RETENTION_DAYS = 36_500;
export const MAX_RETENTION_YEARS = 100;

const DAY_MS = 24 * 3600 * 1000;

/** Lock settings a write asks for explicitly (headers); they override the bucket default. */
export interface RequestedLock {
  readonly retention: Retention | undefined;
  readonly legalHold: boolean | undefined;
}

/** The retention a new version gets: explicit settings win, else the bucket default from its creation time. */
export function retentionForNewVersion(requested: Retention | undefined, rule: DefaultRetention | undefined, createdMs: number): Retention | undefined {
  if (requested !== undefined) return requested;
  if (rule === undefined) return undefined;
  if (rule.days !== undefined) return { mode: rule.mode, retainUntilMs: createdMs + rule.days * DAY_MS };
  const until = new Date(createdMs);
  until.setUTCFullYear(until.getUTCFullYear() + (rule.years ?? 0));
  return { mode: rule.mode, retainUntilMs: until.getTime() };
}

export function isRetentionActive(retention: Retention | undefined, nowMs: number): retention is Retention {
  return retention !== undefined && retention.retainUntilMs > nowMs;
}

const PROTECTED = 'Access Denied because object protected by object lock.';

/**
 * May this version be deleted (or its bytes otherwise destroyed) now? A legal hold always
 * protects; active compliance retention always protects; active governance retention protects
 * unless the caller bypasses it (header and permission).
 */
export function assertDeletable(version: ObjectVersionRecord, nowMs: number, bypassGovernance: boolean): void {
  if (version.legalHold === true) throw s3errors.accessDenied(PROTECTED);
  const retention = version.retention;
  if (!isRetentionActive(retention, nowMs)) return;
  if (retention.mode === 'COMPLIANCE' || !bypassGovernance) throw s3errors.accessDenied(PROTECTED);
}

/**
 * PutObjectRetention: extending is always allowed; under active compliance nothing else is;
 * under active governance, shortening, removing or switching mode needs the bypass.
 */
export function assertRetentionChange(current: Retention | undefined, requested: Retention | undefined, nowMs: number, bypassGovernance: boolean): void {
  if (requested !== undefined && requested.retainUntilMs <= nowMs) {
    throw s3errors.invalidArgument('The retain until date must be in the future!', 'RetainUntilDate', new Date(requested.retainUntilMs).toISOString());
  }
  if (!isRetentionActive(current, nowMs)) return;
  const extendsSameMode = requested !== undefined && requested.mode === current.mode && requested.retainUntilMs >= current.retainUntilMs;
  if (extendsSameMode) return;
  if (current.mode === 'COMPLIANCE') throw s3errors.accessDenied(PROTECTED);
  if (!bypassGovernance) throw s3errors.accessDenied(PROTECTED);
}

/** Validates a default retention rule from PutObjectLockConfiguration. */
export function assertValidDefaultRetention(rule: DefaultRetention): void {
  const period = rule.days ?? rule.years;
  const max = rule.days !== undefined ? MAX_RETENTION_DAYS : MAX_RETENTION_YEARS;
  if (period === undefined || !Number.isInteger(period) || period <= 0) {
    throw new S3Error('InvalidRetentionPeriod', 'Default retention period must be a positive integer value.');
  }
  if (period > max) {
    throw new S3Error('InvalidRetentionPeriod', `Default retention period must not exceed ${MAX_RETENTION_YEARS} years.`);
  }
}

export const MISSING_LOCK_CONFIGURATION = 'Bucket is missing Object Lock Configuration';

/**
 * Holdfast's own per-bucket retention bounds (beyond S3): the policy's ceiling ("a maximum
 * backup retention of 90 days") and an optional floor. Every retention a version gets, by
 * header, default rule or PutObjectRetention, must fall inside them.
 */
export interface RetentionBounds {
  readonly minDays?: number;
  readonly maxDays?: number;
}

export function assertValidBounds(bounds: RetentionBounds): void {
  for (const [name, value] of Object.entries(bounds)) {
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 0 || (value as number) > MAX_RETENTION_DAYS)) {
      throw s3errors.invalidArgument(`${name} must be a whole number of days between 0 and ${MAX_RETENTION_DAYS}.`, name, String(value));
    }
  }
  if (bounds.minDays !== undefined && bounds.maxDays !== undefined && bounds.minDays > bounds.maxDays) {
    throw s3errors.invalidArgument(`minDays (${bounds.minDays}) must not exceed maxDays (${bounds.maxDays}).`, 'minDays', String(bounds.minDays));
  }
}

/** Refuses a retention outside the bucket's bounds, naming the bound and the fix. */
export function assertWithinBounds(retention: Retention | undefined, bounds: RetentionBounds | undefined, nowMs: number): void {
  if (bounds === undefined) return;
  const days = retention === undefined ? 0 : (retention.retainUntilMs - nowMs) / DAY_MS;
  if (bounds.maxDays !== undefined && days > bounds.maxDays) {
    throw s3errors.invalidRequest(
      `Retention of ${Math.ceil(days)} days exceeds this bucket's maximum retention of ${bounds.maxDays} days (Holdfast retention bounds). Choose a retain-until date at most ${bounds.maxDays} days ahead.`,
    );
  }
  if (bounds.minDays !== undefined && bounds.minDays > 0 && days < bounds.minDays) {
    throw s3errors.invalidRequest(
      retention === undefined
        ? `This bucket requires a retention of at least ${bounds.minDays} days (Holdfast retention bounds). Send Object Lock headers or set a default retention.`
        : `Retention of ${Math.floor(days)} days is below this bucket's minimum retention of ${bounds.minDays} days (Holdfast retention bounds).`,
    );
  }
}
