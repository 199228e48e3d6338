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

export function bypassGovernance(req: S3Request): boolean {
  return req.header('x-amz-bypass-governance-retention')?.trim().toLowerCase() === 'true';
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
