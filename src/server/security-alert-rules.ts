import { AuthFailureBurstDetector } from '../domain/alerts/auth-failure-burst-detector.js';
import type { NewSecurityAlert } from '../domain/alerts/security-alert.js';
import { type AlertActor, securityAlerts } from '../domain/alerts/security-alerts.js';
import type { AdminChange } from '../protocol/admin/admin-routes.js';
import type { S3RequestRecord } from '../protocol/s3/request-record.js';

/** Errors that mean "this caller could not prove who it is". */
const AUTHENTICATION_FAILURES = new Set(['SignatureDoesNotMatch', 'InvalidAccessKeyId', 'AuthorizationHeaderMalformed', 'AuthorizationQueryParametersError']);

const POLICY_CHANGES = new Set([
  'identity-created',
  'identity-deleted',
  'identity-disabled',
  'identity-enabled',
  'role-attached',
  'role-detached',
  'policy-put',
  'policy-deleted',
  'duty-override-set',
  'duty-override-removed',
]);

/** Operations whose every outcome the rules look at. */
const WATCHED_OPERATIONS = new Set(['PutObjectLockConfiguration', 'PutBucketPolicy', 'DeleteBucketPolicy', 'admin:PutRetentionBounds']);

/** Root use is worth knowing about, not worth a queue write per request: at most one per window. */
const ROOT_USE_WINDOW_MS = 10 * 60 * 1000;

/**
 * The alert rules of the security policy, applied to finished requests: "any attempt to modify
 * Object Lock configuration triggers a security alert", denied deletes of locked versions,
 * governance bypasses, bursts of authentication failures from one source, new access keys and
 * policy changes, and root credential use. Audit-chain and clock alerts are raised where those
 * are checked.
 */
export class SecurityAlertRules {
  readonly #bursts: AuthFailureBurstDetector;
  #lastRootUseMs = Number.NEGATIVE_INFINITY;

  constructor(bursts = new AuthFailureBurstDetector()) {
    this.#bursts = bursts;
  }

  alertsFor(record: S3RequestRecord, changes: readonly AdminChange[], nowMs: number): NewSecurityAlert[] {
    // The common case — a successful data request by a scoped key — decides nothing: leave early.
    if (
      record.errorCode === undefined &&
      changes.length === 0 &&
      record.notes.length === 0 &&
      !record.bypassGovernance &&
      (record.operation === undefined || !WATCHED_OPERATIONS.has(record.operation)) &&
      (record.principal?.kind !== 'root' || nowMs - this.#lastRootUseMs < ROOT_USE_WINDOW_MS)
    ) {
      return [];
    }
    const alerts: NewSecurityAlert[] = [];
    const actor: AlertActor = { identity: record.principal?.name, accessKeyId: record.accessKeyId, sourceIp: record.sourceIp };
    const ok = record.status < 300;

    if (record.errorCode !== undefined && record.sourceIp !== undefined) {
      const anonymous = record.principal === undefined && record.errorCode === 'AccessDenied';
      if (AUTHENTICATION_FAILURES.has(record.errorCode) || anonymous) {
        const burst = this.#bursts.recordFailure(record.sourceIp, nowMs, record.accessKeyId);
        if (burst !== undefined) alerts.push(securityAlerts.authFailureBurst(burst));
      }
    }

    if (record.principal?.kind === 'root' && nowMs - this.#lastRootUseMs >= ROOT_USE_WINDOW_MS) {
      this.#lastRootUseMs = nowMs;
      alerts.push(securityAlerts.rootCredentialUse({ ...actor, operation: record.operation ?? record.method }));
    }

    const bucket = record.bucket ?? '';
    switch (record.operation) {
      case 'PutObjectLockConfiguration':
        alerts.push(
          securityAlerts.objectLockConfigurationChange({
            ...actor,
            bucket,
            allowed: ok,
            change: ok ? 'the configuration was replaced' : `refused (${record.errorCode ?? record.status})`,
            ...(ok || record.errorMessage === undefined ? {} : { reason: record.errorMessage }),
          }),
        );
        break;
      case 'PutBucketPolicy':
      case 'DeleteBucketPolicy':
        if (ok) alerts.push(securityAlerts.policyChange({ ...actor, policy: `bucket policy of ${bucket}`, change: record.operation === 'PutBucketPolicy' ? 'replaced' : 'deleted' }));
        break;
      case 'admin:PutRetentionBounds':
        if (!ok) {
          alerts.push(
            securityAlerts.retentionBoundsChange({ ...actor, bucket: record.key?.split('/')[1] ?? '', allowed: false, before: 'unchanged', after: 'refused', reason: record.errorMessage ?? String(record.status) }),
          );
        }
        break;
    }

    if (record.bypassGovernance && ok) {
      alerts.push(securityAlerts.governanceBypass({ ...actor, bucket, key: record.key ?? '', versionId: record.versionId, operation: record.operation ?? record.method }));
    }
    for (const note of record.notes) {
      if (note.kind === 'write-once-conflict') alerts.push(securityAlerts.walArchiveConflict({ ...actor, bucket, key: note.key, versionId: note.versionId, detail: note.message }));
      else alerts.push(securityAlerts.lockedDeleteDenied({ ...actor, bucket, key: note.key, versionId: note.versionId ?? 'latest', protection: note.message }));
    }

    for (const change of changes) {
      const target = change.target.slice(change.target.indexOf('/') + 1);
      if (change.kind === 'retention-bounds') {
        alerts.push(securityAlerts.retentionBoundsChange({ ...actor, bucket: target, allowed: true, before: boundsText(change.details, 'before'), after: boundsText(change.details, '') }));
      } else if (change.kind === 'bucket-protection' || change.kind === 'change-approved') {
        alerts.push(
          securityAlerts.objectLockConfigurationChange({
            ...actor,
            bucket: String(change.details['bucket'] ?? target),
            allowed: true,
            change: change.kind === 'change-approved' ? `approved pending change: ${String(change.details['summary'])} (requested by ${String(change.details['requestedBy'])})` : `protected flag set to ${String(change.details['protected'])}`,
          }),
        );
      } else if (change.kind === 'access-key-created') {
        alerts.push(securityAlerts.accessKeyCreated({ ...actor, newAccessKeyId: String(change.details['accessKeyId']), forIdentity: target }));
      } else if (POLICY_CHANGES.has(change.kind)) {
        alerts.push(securityAlerts.policyChange({ ...actor, policy: `identity ${target}`, change: `${change.kind} ${JSON.stringify(change.details)}` }));
      }
    }
    return alerts;
  }
}

function boundsText(details: AdminChange['details'], prefix: string): string {
  const min = details[prefix === '' ? 'minDays' : `${prefix}MinDays`];
  const max = details[prefix === '' ? 'maxDays' : `${prefix}MaxDays`];
  if ((min === null || min === undefined) && (max === null || max === undefined)) return 'none';
  return `${String(min ?? 0)}–${String(max ?? '∞')} days`;
}
