import type { ClockJump } from '../retention-clock.js';
import type { AuthFailureBurst } from './auth-failure-burst-detector.js';
import type { AlertDetailValue, AlertSubject, NewSecurityAlert } from './security-alert.js';

/**
 * One factory per rule, named for the situation, so call sites read as sentences and every
 * alert of a rule has the same severity and wording. Severity: `critical` when protection of
 * stored data changed or may no longer hold (lock settings, bypasses, root use, a broken audit
 * chain, the clock); `warning` when a defence worked but someone pushed against it, or when
 * the means of access changed.
 */

/** Who acted, as far as the request tells. */
export interface AlertActor {
  readonly identity?: string | undefined;
  readonly accessKeyId?: string | undefined;
  readonly sourceIp?: string | undefined;
}

export const securityAlerts = {
  objectLockConfigurationChange: (input: AlertActor & { bucket: string; allowed: boolean; change: string; reason?: string }): NewSecurityAlert => ({
    rule: 'object-lock-configuration-change',
    severity: 'critical',
    title: `${outcome(input.allowed)} Object Lock configuration change on bucket ${input.bucket}`,
    summary: `${who(input)} ${input.allowed ? 'changed' : 'tried to change'} the Object Lock configuration of bucket ${input.bucket}: ${input.change}.${because(input.reason)}`,
    subject: subject(input, { bucket: input.bucket }),
    details: details({ allowed: input.allowed, change: input.change, reason: input.reason }),
  }),

  retentionBoundsChange: (input: AlertActor & { bucket: string; allowed: boolean; before: string; after: string; reason?: string }): NewSecurityAlert => ({
    rule: 'retention-bounds-change',
    severity: 'critical',
    title: `${outcome(input.allowed)} retention bounds change on bucket ${input.bucket}`,
    summary: `${who(input)} ${input.allowed ? 'changed' : 'tried to change'} the retention bounds of bucket ${input.bucket} from ${input.before} to ${input.after}.${because(input.reason)}`,
    subject: subject(input, { bucket: input.bucket }),
    details: details({ allowed: input.allowed, before: input.before, after: input.after, reason: input.reason }),
  }),

  lockedDeleteDenied: (input: AlertActor & { bucket: string; key: string; versionId: string; protection: string; retainUntilMs?: number }): NewSecurityAlert => ({
    rule: 'locked-delete-denied',
    severity: 'warning',
    title: `Denied delete of a locked version in bucket ${input.bucket}`,
    summary: `${who(input)} tried to delete or overwrite the retention of ${input.bucket}/${input.key} (version ${input.versionId}), protected by ${input.protection}; the vault refused.`,
    subject: subject(input, { bucket: input.bucket, key: input.key, versionId: input.versionId }),
    details: details({ protection: input.protection, retainUntil: iso(input.retainUntilMs) }),
  }),

  governanceBypass: (input: AlertActor & { bucket: string; key: string; versionId?: string; operation: string }): NewSecurityAlert => ({
    rule: 'governance-bypass',
    severity: 'critical',
    title: `Governance retention bypassed in bucket ${input.bucket}`,
    summary: `${who(input)} used x-amz-bypass-governance-retention to ${input.operation} ${input.bucket}/${input.key}${input.versionId === undefined ? '' : ` (version ${input.versionId})`}.`,
    subject: subject(input, { bucket: input.bucket, key: input.key, versionId: input.versionId }),
    details: details({ operation: input.operation }),
  }),

  authFailureBurst: (burst: AuthFailureBurst): NewSecurityAlert => ({
    rule: 'auth-failure-burst',
    severity: 'warning',
    title: `Burst of authentication failures from ${burst.sourceKey}`,
    summary: `${burst.failures} failed authentications from ${burst.sourceKey} within ${Math.round(burst.windowMs / 1000)} s (last from ${burst.sourceIp}).`,
    subject: subject({ sourceIp: burst.sourceIp }, {}),
    details: details({
      sourceKey: burst.sourceKey,
      failures: burst.failures,
      windowSeconds: Math.round(burst.windowMs / 1000),
      firstAt: iso(burst.firstAtMs),
      accessKeyIdsTried: burst.accessKeyIds.length === 0 ? undefined : burst.accessKeyIds.join(', '),
    }),
    coalesceKey: burst.sourceKey,
  }),

  accessKeyCreated: (input: AlertActor & { newAccessKeyId: string; forIdentity: string }): NewSecurityAlert => ({
    rule: 'access-key-created',
    severity: 'warning',
    title: `New access key for ${input.forIdentity}`,
    summary: `${who(input)} created access key ${input.newAccessKeyId} for ${input.forIdentity}.`,
    subject: subject(input, {}),
    details: details({ newAccessKeyId: input.newAccessKeyId, forIdentity: input.forIdentity }),
    coalesceKey: input.newAccessKeyId,
  }),

  policyChange: (input: AlertActor & { policy: string; change: string }): NewSecurityAlert => ({
    rule: 'policy-change',
    severity: 'warning',
    title: `Policy ${input.policy} changed`,
    summary: `${who(input)} changed policy ${input.policy}: ${input.change}.`,
    subject: subject(input, {}),
    details: details({ policy: input.policy, change: input.change }),
    coalesceKey: input.policy,
  }),

  rootCredentialUse: (input: AlertActor & { operation: string }): NewSecurityAlert => ({
    rule: 'root-credential-use',
    severity: 'critical',
    title: 'Root credentials used',
    summary: `The root credentials were used${input.sourceIp === undefined ? '' : ` from ${input.sourceIp}`} for ${input.operation}. Day-to-day work should use scoped access keys.`,
    subject: subject(input, {}),
    details: details({ operation: input.operation }),
  }),

  auditChainBroken: (input: { position: string; reason: string }): NewSecurityAlert => ({
    rule: 'audit-chain-broken',
    severity: 'critical',
    title: 'Audit chain verification failed',
    summary: `The audit log's hash chain does not verify at ${input.position}: ${input.reason}. Records may have been altered or removed.`,
    details: details({ position: input.position, reason: input.reason }),
  }),

  clockAnomaly: (jump: ClockJump): NewSecurityAlert => ({
    rule: 'clock-anomaly',
    severity: 'critical',
    title: 'Wall clock jumped forward; retention expiry paused',
    summary: `The wall clock reads ${iso(jump.wallMs)} but the last trusted time is ${iso(jump.trustedMs)}. Retention expiry follows the trusted time until an operator confirms the wall clock.`,
    details: details({ wallClock: iso(jump.wallMs), trustedTime: iso(jump.trustedMs), jumpSeconds: Math.round((jump.wallMs - jump.trustedMs) / 1000) }),
  }),

  walArchiveStale: (input: { bucket: string; prefix: string; lastSegment: string | undefined; lastArchivedMs: number | undefined; ageSeconds: number; maxAgeSeconds: number; checkError: string | undefined }): NewSecurityAlert => ({
    rule: 'wal-archive-stale',
    severity: 'critical',
    title: `PostgreSQL WAL archiving into s3://${input.bucket}/${input.prefix} has stopped`,
    summary:
      (input.lastSegment === undefined
        ? `No WAL segment has arrived in s3://${input.bucket}/${input.prefix} for ${Math.round(input.ageSeconds)} s of watching`
        : `The newest WAL segment in s3://${input.bucket}/${input.prefix}, ${input.lastSegment}, arrived ${Math.round(input.ageSeconds)} s ago`) +
      ` (bound ${input.maxAgeSeconds} s): a restore now would lose everything written since. Check archive_command and pg_stat_archiver (failed_count, last_failed_wal) on the cluster.` +
      (input.checkError === undefined ? '' : ` The repository could not be listed: ${input.checkError}.`),
    subject: { bucket: input.bucket, key: `${input.prefix}/wal/` },
    details: details({ lastSegment: input.lastSegment, lastArchivedAt: iso(input.lastArchivedMs), ageSeconds: Math.round(input.ageSeconds), maxAgeSeconds: input.maxAgeSeconds, checkError: input.checkError }),
  }),

  walArchiveConflict: (input: AlertActor & { bucket: string; key: string; versionId: string | undefined; detail: string }): NewSecurityAlert => ({
    rule: 'wal-archive-conflict',
    severity: 'critical',
    title: `A different WAL file was pushed under an archived name in bucket ${input.bucket}`,
    summary:
      `${who(input)} tried to archive ${input.key}, which the archive already holds with different contents (${input.detail}); the archived copy was kept and the push refused. ` +
      'Two clusters may share one repository, or the cluster produced a WAL file it should not have; archiving of this cluster is stuck until someone finds out.',
    subject: subject(input, { bucket: input.bucket, key: input.key, ...(input.versionId === undefined ? {} : { versionId: input.versionId }) }),
    details: details({ detail: input.detail }),
  }),

  walArchiveResumed: (input: { bucket: string; prefix: string; lastSegment: string | undefined; staleForSeconds: number }): NewSecurityAlert => ({
    rule: 'wal-archive-resumed',
    severity: 'info',
    title: `PostgreSQL WAL archiving into s3://${input.bucket}/${input.prefix} has resumed`,
    summary: `WAL is arriving again (newest ${input.lastSegment ?? 'unknown'}) after ${input.staleForSeconds} s over the bound.`,
    subject: { bucket: input.bucket, key: `${input.prefix}/wal/` },
    details: details({ lastSegment: input.lastSegment, staleForSeconds: input.staleForSeconds }),
  }),

  alertDeliveryFailing: (input: { channel: string; attempts: number; failingSinceMs: number; lastError: string }): NewSecurityAlert => ({
    rule: 'alert-delivery-failing',
    severity: 'warning',
    title: `Alerts cannot be delivered through channel ${input.channel}`,
    summary: `Delivery through channel ${input.channel} has failed ${input.attempts} times since ${iso(input.failingSinceMs)}; alerts stay queued and are retried. Last error: ${input.lastError}`,
    details: details({ channel: input.channel, attempts: input.attempts, failingSince: iso(input.failingSinceMs), lastError: input.lastError }),
    coalesceKey: input.channel,
  }),

  backupJobFailed: (input: { job: string; error: string; outcome?: string; runId?: string; bucket?: string; prefix?: string }): NewSecurityAlert => ({
    rule: 'backup-job-failed',
    severity: 'warning',
    title: `Backup job ${input.job} ${input.outcome === undefined || input.outcome === 'failed' ? 'failed' : input.outcome}`,
    summary: `Backup job ${input.job}${input.runId === undefined ? '' : ` (run ${input.runId})`} ${input.outcome ?? 'failed'}: ${input.error}`,
    ...(input.bucket === undefined ? {} : { subject: { bucket: input.bucket, key: `${input.prefix ?? ''}/` } }),
    details: details({ job: input.job, error: input.error, outcome: input.outcome, runId: input.runId }),
    coalesceKey: input.job,
  }),

  restoreDrillFailed: (input: { job: string; drillId: string; reason: string; runId: string | null; bucket: string }): NewSecurityAlert => ({
    rule: 'restore-drill-failed',
    severity: 'critical',
    title: `Restore drill of backup job ${input.job} failed`,
    summary: `Restore drill ${input.drillId} of backup job ${input.job}${input.runId === null ? '' : ` (run ${input.runId})`} failed: ${input.reason}. The backup may not restore; see \`holdfast evidence show drills ${input.drillId}\`.`,
    subject: { bucket: input.bucket },
    details: details({ job: input.job, drillId: input.drillId, runId: input.runId ?? undefined, reason: input.reason }),
    coalesceKey: input.job,
  }),

  restoreDrillMissed: (input: { job: string; schedule: string; timeZone: string; count: number; firstDueMs: number; lastDueMs: number; sinceMs: number; catchUpId: string | undefined }): NewSecurityAlert => ({
    rule: 'restore-drill-missed',
    severity: 'warning',
    title: `${input.count} scheduled restore drill(s) of backup job ${input.job} were missed`,
    summary:
      `The restore drill of backup job ${input.job} (schedule "${input.schedule}" ${input.timeZone}) was due ${input.count === 1 ? `at ${iso(input.firstDueMs)}` : `${input.count} times from ${iso(input.firstDueMs)} to ${iso(input.lastDueMs)}`} ` +
      `and did not run: nothing was watching the schedule (the server was down). ` +
      (input.catchUpId === undefined ? 'A catch-up drill could not start; run `holdfast drill run ' + input.job + '`.' : `Catch-up drill ${input.catchUpId} started; see \`holdfast evidence show drills ${input.catchUpId}\`.`),
    details: details({ job: input.job, missed: input.count, firstDue: iso(input.firstDueMs), lastDue: iso(input.lastDueMs), since: iso(input.sinceMs), catchUpDrillId: input.catchUpId }),
    coalesceKey: input.job,
  }),

  backupJobOverdue: (input: { job: string; schedule: string; timeZone: string; lastSuccessMs: number | undefined; sinceMs: number; expectedIntervalMs: number; nowMs: number; lastOutcome: string | undefined }): NewSecurityAlert => ({
    rule: 'backup-job-overdue',
    severity: 'critical',
    title: `Backup job ${input.job} has not succeeded within ${hours(input.expectedIntervalMs)}`,
    summary:
      (input.lastSuccessMs === undefined
        ? `Backup job ${input.job} (schedule "${input.schedule}" ${input.timeZone}) has never succeeded since it was configured ${hours(input.nowMs - input.sinceMs)} ago`
        : `The last success of backup job ${input.job} (schedule "${input.schedule}" ${input.timeZone}) ended ${hours(input.nowMs - input.lastSuccessMs)} ago`) +
      ` (expected within ${hours(input.expectedIntervalMs)})${input.lastOutcome === undefined ? ', and it has not run at all' : `; its last run ${input.lastOutcome}`}. A restore now would miss everything since. Check \`holdfast jobs history ${input.job}\`.`,
    details: details({ job: input.job, schedule: input.schedule, timeZone: input.timeZone, lastSuccess: iso(input.lastSuccessMs), since: iso(input.sinceMs), expectedIntervalHours: input.expectedIntervalMs / 3600_000, lastOutcome: input.lastOutcome }),
    coalesceKey: input.job,
  }),

  configDrift: (input: { checkId: string; baselineId: string; checkedBy: string; unexplained: readonly { difference: string; component: string; resourceId: string }[]; explained: number }): NewSecurityAlert => ({
    rule: 'config-drift',
    severity: 'warning',
    title: `Unexplained configuration drift: ${input.unexplained.length} item(s) differ from baseline ${input.baselineId}`,
    summary:
      `Drift check ${input.checkId} (by ${input.checkedBy}) found ${input.unexplained.length} item(s) that differ from the approved baseline ${input.baselineId} with no approved change request covering them` +
      `${input.explained === 0 ? '' : ` (${input.explained} more are covered)`}: ${input.unexplained.slice(0, 5).map((d) => `${d.difference} ${d.component} ${d.resourceId}`).join('; ')}${input.unexplained.length > 5 ? '; …' : ''}. ` +
      `Review with \`holdfast drift history\`; propose a change request for intended changes, or revert the others.`,
    details: details({ checkId: input.checkId, baselineId: input.baselineId, unexplained: input.unexplained.length, explained: input.explained, items: input.unexplained.map((d) => `${d.difference} ${d.component} ${d.resourceId}`).join('\n').slice(0, 4000) }),
    // One alert per distinct set of unexplained items: a repeated check of the same drift coalesces.
    coalesceKey: `${input.baselineId}:${input.unexplained.map((d) => `${d.component}/${d.resourceId}`).join(',')}`.slice(0, 1000),
  }),

  configReviewOverdue: (input: { component: string; dueMs: number; frequencyMonths: number; lastReviewMs: number; lastReviewKind: 'sign-off' | 'first-baseline'; nowMs: number }): NewSecurityAlert => ({
    rule: 'config-review-overdue',
    severity: 'warning',
    title: `The ${input.component} configuration review is overdue`,
    summary:
      `The ${input.component} review (every ${input.frequencyMonths} month(s)) was due ${iso(input.dueMs)}, ${Math.floor((input.nowMs - input.dueMs) / 86_400_000)} day(s) ago; ` +
      `${input.lastReviewKind === 'sign-off' ? 'the last sign-off was' : 'there has been no sign-off since the first baseline was approved'} ${iso(input.lastReviewMs)}. ` +
      `Review it and record it with \`holdfast reviews sign-off ${input.component} --notes TEXT\`.`,
    details: details({ component: input.component, due: iso(input.dueMs), frequencyMonths: input.frequencyMonths, lastReview: iso(input.lastReviewMs), lastReviewKind: input.lastReviewKind }),
    coalesceKey: `${input.component}@${input.dueMs}`,
  }),

  objectIntegrityFailed: (input: { bucket: string; key: string; versionId: string; size: number; problem: string; detail: string; passId: string }): NewSecurityAlert => ({
    rule: 'object-integrity-failed',
    severity: 'critical',
    title: `Stored object ${input.bucket}/${input.key} failed its integrity check`,
    summary:
      `The integrity scrub (pass ${input.passId}) read back ${input.bucket}/${input.key} (version ${input.versionId}, ${input.size} bytes): ${input.problem}, ${input.detail}. ` +
      'Its stored bytes are not what was written; restores of it would fail or return damaged data. Check the disk and the blob store for tampering, and keep a copy from another backup. ' +
      'See `holdfast admin scrub status`.',
    subject: { bucket: input.bucket, key: input.key, versionId: input.versionId },
    details: details({ problem: input.problem, detail: input.detail, size: input.size, passId: input.passId }),
  }),
} as const;

function hours(ms: number): string {
  const h = ms / 3600_000;
  return h < 1 ? `${Math.round(ms / 60_000)} min` : `${Math.round(h * 10) / 10} h`;
}

function who(actor: AlertActor): string {
  return actor.identity ?? (actor.accessKeyId === undefined ? 'An unauthenticated caller' : `Access key ${actor.accessKeyId}`);
}

function outcome(allowed: boolean): string {
  return allowed ? 'Allowed' : 'Denied';
}

function because(reason: string | undefined): string {
  return reason === undefined ? '' : ` Reason: ${reason}.`;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Drops undefined fields, so an alert survives a JSON round trip unchanged. */
function subject(actor: AlertActor, resource: AlertSubject): AlertSubject {
  const all = { identity: actor.identity, accessKeyId: actor.accessKeyId, sourceIp: actor.sourceIp, ...resource };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

function details(values: Record<string, AlertDetailValue | undefined>): Record<string, AlertDetailValue> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<string, AlertDetailValue>;
}
