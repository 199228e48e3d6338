import type { IncomingHttpHeaders } from 'node:http';
import { S3Error, s3errors } from '../../../domain/errors.js';
import type { Clock } from '../../../infra/clock.js';
import { formatAmzDate, formatIsoSeconds, parseAmzDate } from './amz-date.js';
import { SIGV4_ALGORITHM, canonicalRequest, stringToSign } from './canonical-request.js';
import {
  HEADER_SOURCE, QUERY_SOURCE, malformed, parseAuthorizationHeader, parseCredential, parseSignedHeaders,
  type Credential,
} from './credential.js';
import { payloadVerification, validPayloadHash, type PayloadVerification } from './payload-verification.js';
import { SigningKeyCache, signatureMatches, type SigningKey } from './signing-key.js';
import { canonicalQueryString, canonicalUri, parseQuery, type QueryParameter } from './uri-encoding.js';

export type { ChunkSigningContext } from './chunk-signature.js';
export type { PayloadVerification } from './payload-verification.js';

/**
 * AWS Signature Version 4 verification for S3: the Authorization header and presigned URLs.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */

export interface SigningRequest {
  readonly method: string;
  /** Path exactly as in the request line, before '?', still percent-encoded. */
  readonly rawPath: string;
  /** Text after '?', '' if none. */
  readonly rawQuery: string;
  /** parseQuery(rawQuery), when the caller has it already. */
  readonly query?: readonly QueryParameter[] | undefined;
  /** Lower-case names (Node's `req.headers`, or `req.headersDistinct` for exact repeated-header joins). */
  readonly headers: IncomingHttpHeaders;
}

/** The secret access key of `accessKeyId`, or undefined if the key is unknown. */
export type SecretLookup = (accessKeyId: string) => string | undefined;

export interface AuthenticatedRequest {
  readonly accessKeyId: string;
  readonly region: string;
  readonly presigned: boolean;
  readonly payload: PayloadVerification;
}

export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
/** "X-Amz-Expires ... minimum value 1, maximum 604800 (seven days)" (sigv4-query-string-auth). */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

const signingKeys = new SigningKeyCache(1024);

/**
 * Returns undefined when the request carries no credentials at all (anonymous).
 * Throws S3Error otherwise on any failure.
 */
export function authenticateRequest(
  req: SigningRequest,
  lookup: SecretLookup,
  clock: Clock,
  options: { maxSkewMs?: number } = {},
): AuthenticatedRequest | undefined {
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const authorization = singleHeader(req.headers.authorization);
  const query = req.query ?? parseQuery(req.rawQuery);
  const presigned = query.some((p) => PRESIGN_MARKERS.has(p.name));
  if (authorization !== undefined && presigned) {
    throw s3errors.invalidArgument('Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, ' +
      'Signature query string parameter or the Authorization header should be specified', 'Authorization', '');
  }
  if (authorization !== undefined) {
    if (!authorization.startsWith(`${SIGV4_ALGORITHM} `)) throw unsupportedMechanism();
    return authenticateHeader(req, query, authorization, lookup, clock, maxSkewMs);
  }
  if (presigned) return authenticatePresigned(req, query, lookup, clock, maxSkewMs);
  // A SigV2 presigned URL: refusing it says why, where treating it as anonymous would not.
  if (query.some((p) => p.name === 'AWSAccessKeyId')) throw unsupportedMechanism();
  return undefined;
}

const PRESIGN_MARKERS = new Set(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature']);

function unsupportedMechanism(): S3Error {
  return s3errors.invalidRequest('The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
}

function singleHeader(value: string | readonly string[] | undefined): string | undefined {
  return value === undefined || typeof value === 'string' ? value : value.join(', ');
}

function authenticateHeader(
  req: SigningRequest, query: readonly QueryParameter[], authorization: string,
  lookup: SecretLookup, clock: Clock, maxSkewMs: number,
): AuthenticatedRequest {
  const auth = parseAuthorizationHeader(authorization);
  const { ms: requestMs, amzDate } = headerRequestTime(req.headers);
  if (auth.credential.date !== amzDate.slice(0, 8)) {
    throw malformed(HEADER_SOURCE, 'Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  const contentSha256 = singleHeader(req.headers['x-amz-content-sha256']);
  if (contentSha256 === undefined) {
    throw s3errors.invalidRequest('Missing required header for this request: x-amz-content-sha256');
  }
  const payloadHash = validPayloadHash(contentSha256);
  checkSkew(requestMs, amzDate, clock, maxSkewMs);
  // x-amz-date and x-amz-content-sha256 enter the string-to-sign whether listed or not.
  checkAmzHeadersSigned(req.headers, auth.signedHeaders, HEADER_EXEMPT_FROM_SIGNING);
  const key = signingKeyFor(auth.credential, lookup);
  const signature = verify(req, query, auth.credential, auth.signedHeaders, payloadHash, amzDate, key, auth.signature);
  return Object.freeze({
    accessKeyId: auth.credential.accessKeyId,
    region: auth.credential.region,
    presigned: false,
    payload: payloadVerification(payloadHash, { signingKey: key, amzDate, scope: auth.credential.scope, seedSignature: signature }),
  });
}

const HEADER_EXEMPT_FROM_SIGNING: ReadonlySet<string> = new Set(['x-amz-date', 'x-amz-content-sha256']);
const NOTHING_EXEMPT: ReadonlySet<string> = new Set();

function authenticatePresigned(
  req: SigningRequest, query: readonly QueryParameter[], lookup: SecretLookup, clock: Clock, maxSkewMs: number,
): AuthenticatedRequest {
  const params = presignParameters(query);
  const algorithm = params.get('X-Amz-Algorithm');
  const credentialText = params.get('X-Amz-Credential');
  const signature = params.get('X-Amz-Signature');
  const dateText = params.get('X-Amz-Date');
  const signedHeadersText = params.get('X-Amz-SignedHeaders');
  const expiresText = params.get('X-Amz-Expires');
  if (algorithm === undefined || credentialText === undefined || signature === undefined || dateText === undefined ||
    signedHeadersText === undefined || expiresText === undefined) {
    throw queryError('Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, ' +
      'X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  }
  if (algorithm !== SIGV4_ALGORITHM) throw queryError(`X-Amz-Algorithm only supports "${SIGV4_ALGORITHM}"`);
  const credential = parseCredential(credentialText, QUERY_SOURCE);
  const requestMs = parseAmzDate(dateText);
  if (requestMs === undefined) throw queryError('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  if (credential.date !== dateText.slice(0, 8)) throw queryError('Invalid credential date. Date is not the same as X-Amz-Date.');
  const expiresSeconds = parseExpires(expiresText);
  const signedHeaders = parseSignedHeaders(signedHeadersText, QUERY_SOURCE);
  const payloadHash = presignedPayloadHash(req.headers, query, signedHeaders);

  const now = clock.nowMs();
  // The validity window replaces the skew check, but a URL dated in the future is still skewed.
  if (requestMs - now > maxSkewMs) throw tooSkewed(dateText, now, maxSkewMs);
  const expiresAt = requestMs + expiresSeconds * 1000;
  if (now > expiresAt) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': String(expiresSeconds),
      Expires: formatIsoSeconds(expiresAt),
      ServerTime: formatIsoSeconds(now),
    });
  }
  checkAmzHeadersSigned(req.headers, signedHeaders, NOTHING_EXEMPT);
  const key = signingKeyFor(credential, lookup);
  const unsignedQuery = query.filter((p) => p.name !== 'X-Amz-Signature');
  const seed = verify(req, unsignedQuery, credential, signedHeaders, payloadHash, dateText, key, signature);
  return Object.freeze({
    accessKeyId: credential.accessKeyId,
    region: credential.region,
    presigned: true,
    payload: payloadVerification(payloadHash, { signingKey: key, amzDate: dateText, scope: credential.scope, seedSignature: seed }),
  });
}

const PRESIGN_PARAMETERS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'];
const PRESIGN_PARAMETER_NAMES: ReadonlySet<string> = new Set(PRESIGN_PARAMETERS);

/** The presigned-URL parameters of the query, read in one pass; each may appear once at most. */
function presignParameters(query: readonly QueryParameter[]): Map<string, string> {
  const found = new Map<string, string>();
  let repeated: Set<string> | undefined;
  for (const p of query) {
    if (!PRESIGN_PARAMETER_NAMES.has(p.name)) continue;
    if (found.has(p.name)) (repeated ??= new Set()).add(p.name);
    else found.set(p.name, p.value);
  }
  const first = repeated === undefined ? undefined : PRESIGN_PARAMETERS.find((name) => repeated.has(name));
  if (first !== undefined) throw queryError(`${first} must be given at most once.`);
  return found;
}

function queryError(message: string): S3Error {
  return new S3Error('AuthorizationQueryParametersError', message);
}

function parseExpires(text: string): number {
  if (/^-\d+$/.test(text)) throw queryError('X-Amz-Expires must be non-negative');
  if (!/^\d{1,12}$/.test(text)) throw queryError('X-Amz-Expires should be a number');
  const seconds = Number(text);
  if (seconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw queryError(`X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}`);
  }
  if (seconds < 1) throw queryError('X-Amz-Expires must be at least 1 second');
  return seconds;
}

/**
 * Presigned URLs sign UNSIGNED-PAYLOAD unless the signer named a hash: as the
 * `X-Amz-Content-Sha256` query parameter (what presigners hoist it to) or as a signed header.
 */
function presignedPayloadHash(headers: IncomingHttpHeaders, query: readonly QueryParameter[], signedHeaders: readonly string[]): string {
  // Presigners hoist the header under its own spelling, which is lower-case in the AWS SDKs.
  const fromQuery = query.find((p) => p.name.toLowerCase() === 'x-amz-content-sha256')?.value;
  if (fromQuery !== undefined) return validPayloadHash(fromQuery);
  const fromHeader = singleHeader(headers['x-amz-content-sha256']);
  if (fromHeader !== undefined && signedHeaders.includes('x-amz-content-sha256')) return validPayloadHash(fromHeader);
  return 'UNSIGNED-PAYLOAD';
}

/** `x-amz-date`, else `Date` (RFC 9110 HTTP-date); AWS answers 403 AccessDenied when neither is usable. */
function headerRequestTime(headers: IncomingHttpHeaders): { ms: number; amzDate: string } {
  const amzDate = singleHeader(headers['x-amz-date']);
  const date = singleHeader(headers.date);
  const missing = (): S3Error => s3errors.accessDenied('AWS authentication requires a valid Date or x-amz-date header');
  if (amzDate !== undefined) {
    const ms = parseAmzDate(amzDate);
    if (ms === undefined) throw missing();
    return { ms, amzDate };
  }
  if (date !== undefined) {
    const ms = Date.parse(date);
    if (!Number.isFinite(ms) || !/GMT$/.test(date)) throw missing();
    return { ms, amzDate: formatAmzDate(ms) };
  }
  throw missing();
}

function checkSkew(requestMs: number, requestTime: string, clock: Clock, maxSkewMs: number): void {
  const now = clock.nowMs();
  if (Math.abs(now - requestMs) > maxSkewMs) throw tooSkewed(requestTime, now, maxSkewMs);
}

function tooSkewed(requestTime: string, now: number, maxSkewMs: number): S3Error {
  const base = s3errors.requestTimeTooSkewed(requestTime, formatIsoSeconds(now));
  return new S3Error(base.code, base.message, { ...base.details, MaxAllowedSkewMilliseconds: String(maxSkewMs) });
}

/**
 * Every `x-amz-*` header must be signed, or anyone on the path (or holding a presigned URL)
 * could add e.g. `x-amz-bypass-governance-retention` or lock headers to a signed request.
 * AWS answers AccessDenied "There were headers present in the request which were not signed".
 */
function checkAmzHeadersSigned(headers: IncomingHttpHeaders, signedHeaders: readonly string[], exempt: ReadonlySet<string>): void {
  const unsigned = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter((n) => n.startsWith('x-amz-') && headers[n] !== undefined && !exempt.has(n) && !signedHeaders.includes(n));
  if (unsigned.length > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: unsigned.sort().join(', '),
    });
  }
}

function signingKeyFor(credential: Credential, lookup: SecretLookup): SigningKey {
  const secret = lookup(credential.accessKeyId);
  if (secret === undefined) throw s3errors.invalidAccessKeyId();
  return signingKeys.get(secret, credential.date, credential.region, credential.service);
}

/** Recomputes the signature and compares in constant time; returns it (lower-case hex) as the chunk seed. */
function verify(
  req: SigningRequest, query: readonly QueryParameter[], credential: Credential, signedHeaders: readonly string[],
  payloadHash: string, amzDate: string, key: SigningKey, provided: string,
): string {
  const canonical = canonicalRequest({
    method: req.method,
    canonicalUri: canonicalUri(req.rawPath),
    canonicalQuery: canonicalQueryString(query),
    headers: req.headers,
    signedHeaders,
    payloadHash,
  });
  const expected = key.sign(stringToSign(amzDate, credential.scope, canonical));
  if (!signatureMatches(expected, provided)) throw s3errors.signatureDoesNotMatch();
  return expected.toString('hex');
}
