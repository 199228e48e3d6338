import type { Alerts } from '../domain/alerts/alerts.js';
import type { NewSecurityAlert } from '../domain/alerts/security-alert.js';
import type { AuditDetails, AuditFields, AuditResult } from '../domain/audit/audit-entry.js';
import type { AuditLog } from '../domain/audit/audit-log.js';
import type { AdminChange, ChangeActor } from '../protocol/admin/admin-routes.js';
import type { S3RequestRecord } from '../protocol/s3/request-record.js';
import type { SecurityAlertRules } from './security-alert-rules.js';
import type { VaultMetrics } from './vault-metrics.js';

/** Operations that change configuration rather than data: audited with kind `config-change`. */
const CONFIG_OPERATIONS = new Set([
  'CreateBucket',
  'DeleteBucket',
  'PutBucketVersioning',
  'PutObjectLockConfiguration',
  'PutBucketPolicy',
  'DeleteBucketPolicy',
]);

const DENIED_CODES = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ApprovalRequired', 'RequestTimeTooSkewed', 'SeparationOfDutiesConflict']);


export interface RequestEvidenceOptions {
  readonly audit: AuditLog;
  readonly metrics: VaultMetrics;
  readonly alerts: Alerts;
  readonly rules: SecurityAlertRules;
  readonly nowMs: () => number;
  readonly onError: (message: string, error: unknown) => void;
}

/**
 * Turns every finished request into evidence: an audit entry (the tamper-evident record the
 * policy asks for), metrics, and the security alerts its rules call for.
 */
export class RequestEvidence {
  readonly #options: RequestEvidenceOptions;

  constructor(options: RequestEvidenceOptions) {
    this.#options = options;
  }

  s3Request(record: S3RequestRecord): void {
    this.#options.metrics.observeRequest('s3', record);
    const kind = record.operation !== undefined && CONFIG_OPERATIONS.has(record.operation) ? 'config-change' : 'request';
    const resource = record.bucket === undefined ? '' : record.key === undefined ? record.bucket : `${record.bucket}/${record.key}`;
    this.#audit(auditFields(record, kind, resource));
    this.#raise(this.#options.rules.alertsFor(record, [], this.#options.nowMs()));
  }

  adminRequest(record: S3RequestRecord, changes: readonly AdminChange[]): void {
    this.#options.metrics.observeRequest('admin', record);
    this.#audit(auditFields(record, 'request', `admin/${record.key ?? ''}`));
    this.#raise(this.#options.rules.alertsFor(record, changes, this.#options.nowMs()));
  }

  /**
   * Configuration changes made through the admin API, committed to the audit log before the
   * API answers: an acknowledged change always has its entry.
   */
  async configurationChanged(actor: ChangeActor, changes: readonly AdminChange[]): Promise<void> {
    await Promise.all(
      changes.map((change) =>
        this.#options.audit.recordDurably({
          kind: 'config-change',
          identity: actor.identity,
          accessKeyId: actor.accessKeyId,
          action: `config:${change.kind}`,
          resource: change.target,
          result: 'ok',
          sourceIp: actor.sourceIp,
          requestId: actor.requestId,
          userAgent: actor.userAgent,
          details: change.details,
        }),
      ),
    );
    for (let i = 0; i < changes.length; i++) this.#options.metrics.auditEntryRecorded();
  }

  #audit(fields: AuditFields): void {
    try {
      if (this.#options.audit.record(fields) !== undefined) this.#options.metrics.auditEntryRecorded();
    } catch (error) {
      this.#options.onError('recording an audit entry failed', error);
    }
  }

  #raise(alerts: readonly NewSecurityAlert[]): void {
    for (const alert of alerts) {
      this.#options.metrics.alertRaised(alert.rule);
      this.#options.alerts.raise(alert).catch((error: unknown) => this.#options.onError(`raising alert ${alert.rule} failed`, error));
    }
  }
}

function resultOf(record: S3RequestRecord): AuditResult {
  if (record.status < 400) return 'ok';
  if (record.denial !== undefined || (record.errorCode !== undefined && DENIED_CODES.has(record.errorCode))) return 'denied';
  return 'error';
}

function auditFields(record: S3RequestRecord, kind: 'request' | 'config-change', resource: string): AuditFields {
  const details: Record<string, string | number | boolean | null> = {
    method: record.method,
    durationMs: Math.round(record.durationSeconds * 1000),
  };
  if (record.denial !== undefined) {
    details['deniedAction'] = record.denial.action;
    const statement = 'statement' in record.denial.decision ? record.denial.decision.statement : undefined;
    details['decidedBy'] = statement === undefined ? record.denial.decision.reason : `${statement.policy}#${statement.sid ?? statement.index}`;
  }
  if (record.bypassGovernance) details['bypassGovernance'] = true;
  const note = record.notes[0];
  if (note !== undefined) {
    details['objectLockRefused'] = note.kind;
    details['objectLockRefusals'] = record.notes.length;
  }
  if (record.principal !== undefined) details['principalKind'] = record.principal.kind;
  return {
    kind,
    identity: record.principal?.name ?? '',
    accessKeyId: record.accessKeyId ?? '',
    action: record.operation ?? `${record.method} (unrouted)`,
    resource,
    versionId: record.versionId,
    result: resultOf(record),
    status: record.status,
    errorCode: record.errorCode,
    sourceIp: record.sourceIp,
    requestId: record.requestId,
    userAgent: record.userAgent,
    details: details satisfies AuditDetails,
    timeMs: record.startedMs,
  };
}
