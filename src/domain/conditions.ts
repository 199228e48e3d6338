import { s3errors } from './errors.js';
import type { ObjectVersionRecord } from './model.js';

/**
 * HTTP conditional request headers, evaluated as S3 documents for GetObject/HeadObject
 * (RFC 7232 precedence): If-Match before If-Unmodified-Since, If-None-Match before
 * If-Modified-Since. A false If-Match/If-Unmodified-Since is 412; a false
 * If-None-Match/If-Modified-Since is 304.
 */
export interface ReadConditions {
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSinceMs?: number | undefined;
  readonly ifUnmodifiedSinceMs?: number | undefined;
}

export function etagMatches(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === '*' || t === etag || `"${t}"` === etag || t.replace(/^W\//, '') === etag);
}

/** HTTP dates have second resolution; compare at that resolution. */
function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

export function checkReadConditions(conditions: ReadConditions, version: ObjectVersionRecord, prefix = ''): void {
  const modified = seconds(version.lastModifiedMs);
  if (conditions.ifMatch !== undefined) {
    if (!etagMatches(conditions.ifMatch, version.etag)) throw s3errors.preconditionFailed(`${prefix}If-Match`);
  } else if (conditions.ifUnmodifiedSinceMs !== undefined && modified > seconds(conditions.ifUnmodifiedSinceMs)) {
    throw s3errors.preconditionFailed(`${prefix}If-Unmodified-Since`);
  }
  if (conditions.ifNoneMatch !== undefined) {
    if (etagMatches(conditions.ifNoneMatch, version.etag)) throw notModifiedOr412(prefix, 'If-None-Match');
  } else if (conditions.ifModifiedSinceMs !== undefined && modified <= seconds(conditions.ifModifiedSinceMs)) {
    throw notModifiedOr412(prefix, 'If-Modified-Since');
  }
}

/** For CopyObject's x-amz-copy-source-if-* the "not modified" outcomes are 412, not 304. */
function notModifiedOr412(prefix: string, name: string) {
  return prefix === '' ? s3errors.notModified() : s3errors.preconditionFailed(`${prefix}${name}`);
}

/** Conditional writes: If-None-Match: * (create only) and If-Match: <etag> (replace only that). */
export interface WriteConditions {
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
}

export function checkWriteConditions(conditions: WriteConditions, key: string, latest: ObjectVersionRecord | undefined): void {
  const current = latest === undefined || latest.isDeleteMarker ? undefined : latest;
  if (conditions.ifNoneMatch !== undefined) {
    if (conditions.ifNoneMatch.trim() !== '*') {
      throw s3errors.notImplemented('If-None-Match on writes accepts only *');
    }
    if (current !== undefined) throw s3errors.preconditionFailed('If-None-Match');
  }
  if (conditions.ifMatch !== undefined) {
    if (current === undefined) throw s3errors.noSuchKey(key);
    if (!etagMatches(conditions.ifMatch, current.etag)) throw s3errors.preconditionFailed('If-Match');
  }
}
