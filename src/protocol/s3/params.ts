import { S3Error, s3errors } from '../../domain/errors.js';
import type { ReadConditions, WriteConditions } from '../../domain/conditions.js';
import type { RangeRequest } from '../../domain/vault.js';
import type { S3Request } from './request.js';

/** Parsing of request parameters shared by several operations; every malformed value is an S3 error. */

export function bucketOf(req: S3Request): string {
  if (req.bucket === undefined) throw s3errors.invalidRequest('A bucket name is required.');
  return req.bucket;
}

export function keyOf(req: S3Request): string {
  if (req.key === undefined) throw s3errors.invalidRequest('An object key is required.');
  return req.key;
}

export function intParam(req: S3Request, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^-?\d{1,16}$/.test(raw)) throw s3errors.invalidArgument(`Provided ${name} not an integer or within integer range`, name, raw);
  const value = Number(raw);
  if (value < min) throw s3errors.invalidArgument(`Argument ${name} must be an integer between ${min} and ${max}`, name, raw);
  return Math.min(value, max);
}

export function optionalParam(req: S3Request, name: string): string | undefined {
  return req.query.get(name) ?? undefined;
}

function httpDateHeader(req: S3Request, name: string): number | undefined {
  const raw = req.header(name);
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  // An unparseable date is ignored, as HTTP (RFC 9110 13.1.3) and S3 do.
  return Number.isNaN(ms) ? undefined : ms;
}

export function readConditions(req: S3Request, prefix = ''): ReadConditions {
  return {
    ifMatch: req.header(`${prefix}if-match`),
    ifNoneMatch: req.header(`${prefix}if-none-match`),
    ifModifiedSinceMs: httpDateHeader(req, `${prefix}if-modified-since`),
    ifUnmodifiedSinceMs: httpDateHeader(req, `${prefix}if-unmodified-since`),
  };
}

export function writeConditions(req: S3Request): WriteConditions {
  return { ifMatch: req.header('if-match'), ifNoneMatch: req.header('if-none-match') };
}

/**
 * `Range: bytes=a-b | a- | -n`. A header that does not parse is ignored (RFC 9110 14.2), so is a
 * multi-range request, which S3 does not support; then the whole object is returned.
 */
export function parseRange(header: string | undefined): RangeRequest | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(header.trim());
  if (match === null) return undefined;
  const [, from, to] = match;
  if (from === '' && to === '') return undefined;
  if (from === '') return { kind: 'suffix', length: Number(to) };
  const start = Number(from);
  const end = to === '' ? undefined : Number(to);
  if (end !== undefined && end < start) return undefined;
  return { kind: 'from', start, end };
}

/** `x-amz-copy-source: /bucket/key?versionId=…` (leading slash optional, key URL-encoded). */
export function parseCopySource(raw: string): { bucket: string; key: string; versionId: string | undefined } {
  let text = raw.trim();
  let versionId: string | undefined;
  const q = text.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(text.slice(q + 1));
    versionId = params.get('versionId') ?? undefined;
    text = text.slice(0, q);
  }
  if (text.startsWith('/')) text = text.slice(1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    throw s3errors.invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', raw);
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw s3errors.invalidArgument('Invalid copy source object key', 'x-amz-copy-source', raw);
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/** `x-amz-copy-source-range: bytes=first-last` for UploadPartCopy; both ends required. */
export function parseCopySourceRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d{1,16})-(\d{1,16})$/.exec(header.trim());
  if (match === null) {
    throw s3errors.invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', 'x-amz-copy-source-range', header);
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start || end >= size) {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(size) });
  }
  return { start, end };
}

/** S3 accepts `encoding-type=url` only; anything else is InvalidArgument. */
export function encodingType(req: S3Request): 'url' | undefined {
  const value = req.query.get('encoding-type');
  if (value === null) return undefined;
  if (value.toLowerCase() !== 'url') throw s3errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', value);
  return 'url';
}

/** URL-encodes a key for `encoding-type=url` responses, keeping `/` readable as S3 does. */
export function encodeKey(key: string, encoding: 'url' | undefined): string {
  return encoding === 'url' ? encodeURIComponent(key).replace(/%2F/g, '/') : key;
}

/** The `<Owner>` of listings: the requesting identity (identities with display names come later). */
export function ownerOf(req: S3Request): { ID: string; DisplayName: string } {
  return { ID: req.auth.accessKeyId, DisplayName: req.auth.accessKeyId };
}
