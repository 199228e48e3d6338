import { s3errors } from '../../domain/errors.js';
import type { ObjectVersionRecord } from '../../domain/model.js';
import { type RequestedLock, isRetentionMode } from '../../domain/object-lock.js';
import type { S3Request } from './request.js';

/**
 * `x-amz-object-lock-mode`, `-retain-until-date` and `-legal-hold` on PutObject, CopyObject and
 * CreateMultipartUpload. Mode and date come together or not at all (AWS: InvalidArgument).
 */
export function requestedLock(req: S3Request): RequestedLock {
  const mode = req.header('x-amz-object-lock-mode');
  const until = req.header('x-amz-object-lock-retain-until-date');
  const hold = req.header('x-amz-object-lock-legal-hold');
  if ((mode === undefined) !== (until === undefined)) {
    throw s3errors.invalidArgument('x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
  }
  let retention: RequestedLock['retention'];
  if (mode !== undefined && until !== undefined) {
    if (!isRetentionMode(mode)) throw s3errors.invalidArgument('Unknown wormMode directive.', 'x-amz-object-lock-mode', mode);
    retention = { mode, retainUntilMs: parseIsoDate(until, 'x-amz-object-lock-retain-until-date') };
  }
  if (hold !== undefined && hold !== 'ON' && hold !== 'OFF') {
    throw s3errors.invalidArgument('Legal Hold must be either of \'ON\' or \'OFF\'', 'x-amz-object-lock-legal-hold', hold);
  }
  return { retention, legalHold: hold === undefined ? undefined : hold === 'ON' };
}

/** ISO 8601 timestamps as S3 takes them (`2030-01-01T00:00:00Z`, with or without fractions). */
export function parseIsoDate(text: string, name: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(text.trim()) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw s3errors.invalidArgument('The retain until date is not a valid ISO 8601 timestamp.', name, text);
  return ms;
}

/**
 * The lock a new object asks for, after checking the principal may set it: AWS requires
 * s3:PutObjectRetention for the mode/retain-until headers and s3:PutObjectLegalHold for the
 * legal-hold header on PutObject, CopyObject and CreateMultipartUpload.
 */
export async function authorizedRequestedLock(req: S3Request, nowMs: number): Promise<RequestedLock> {
  const lock = requestedLock(req);
  if (lock.retention !== undefined) {
    await req.authorize('s3:PutObjectRetention', undefined, retentionFacts(lock.retention, nowMs));
  }
  if (lock.legalHold !== undefined) {
    await req.authorize('s3:PutObjectLegalHold', undefined, { 's3:object-lock-legal-hold': lock.legalHold ? 'ON' : 'OFF' });
  }
  return lock;
}

/** The Object Lock condition keys for a requested retention (AWS S3 condition keys). */
export function retentionFacts(retention: { mode: string; retainUntilMs: number }, nowMs: number): Record<string, string> {
  return {
    's3:object-lock-mode': retention.mode,
    's3:object-lock-retain-until-date': new Date(retention.retainUntilMs).toISOString(),
    's3:object-lock-remaining-retention-days': String(Math.max(0, Math.ceil((retention.retainUntilMs - nowMs) / 86_400_000))),
  };
}

/** Lock headers on GET/HEAD; the legal-hold header only once a hold was ever set. */
export function lockResponseHeaders(version: ObjectVersionRecord): Record<string, string> {
  const headers: Record<string, string> = {};
  if (version.retention !== undefined) {
    headers['x-amz-object-lock-mode'] = version.retention.mode;
    headers['x-amz-object-lock-retain-until-date'] = new Date(version.retention.retainUntilMs).toISOString();
  }
  if (version.legalHold !== undefined) headers['x-amz-object-lock-legal-hold'] = version.legalHold ? 'ON' : 'OFF';
  return headers;
}
