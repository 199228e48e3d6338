import { formatAmzDate } from '../../protocol/s3/auth/amz-date.js';
import { canonicalRequest, stringToSign, SIGV4_ALGORITHM } from '../../protocol/s3/auth/canonical-request.js';
import { deriveSigningKey } from '../../protocol/s3/auth/signing-key.js';
import { uriEncodeBytes } from '../../protocol/s3/auth/uri-encoding.js';
import type { S3Credentials } from './s3-credentials.js';

/**
 * SigV4 header authentication for outgoing S3 requests, built from the same canonical-request
 * code the vault verifies with.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */

export interface UnsignedRequest {
  readonly method: string;
  /** The path as sent on the wire, already in canonical form (see `objectPath`). */
  readonly path: string;
  /** Decoded query parameters; encoded and sorted here. */
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case names. `host` must be present. */
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`. */
  readonly payloadHash: string;
}

export interface SignedRequest {
  /** Path plus `?query` in canonical encoding, ready for `http.request({ path })`. */
  readonly target: string;
  /** The request's headers plus `x-amz-date`, `x-amz-content-sha256`, the token and `authorization`. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Headers left out of the signature: a proxy may rewrite `user-agent`, and `expect` is a hop
 * header Node may manage; everything else the client sends is signed, so it cannot be altered.
 */
const UNSIGNED_HEADERS = new Set(['user-agent', 'expect']);

export function signRequest(request: UnsignedRequest, credentials: S3Credentials, region: string, nowMs: number): SignedRequest {
  const amzDate = formatAmzDate(nowMs);
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...request.headers, 'x-amz-date': amzDate, 'x-amz-content-sha256': request.payloadHash };
  if (credentials.sessionToken !== undefined) headers['x-amz-security-token'] = credentials.sessionToken.reveal();
  const signedHeaders = Object.keys(headers)
    .filter((name) => !UNSIGNED_HEADERS.has(name))
    .sort();
  const canonicalQuery = canonicalQueryOf(request.query);
  const scope = `${day}/${region}/s3/aws4_request`;
  const canonical = canonicalRequest({
    method: request.method,
    canonicalUri: request.path,
    canonicalQuery,
    headers,
    signedHeaders,
    payloadHash: request.payloadHash,
  });
  const signature = deriveSigningKey(credentials.secretAccessKey.reveal(), day, region, 's3').sign(stringToSign(amzDate, scope, canonical)).toString('hex');
  headers['authorization'] = `${SIGV4_ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return { target: canonicalQuery === '' ? request.path : `${request.path}?${canonicalQuery}`, headers };
}

/** `name=value` pairs, each UriEncoded (RFC 3986 unreserved kept), sorted by name then value. */
function canonicalQueryOf(query: Readonly<Record<string, string>>): string {
  return Object.entries(query)
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function encode(text: string): string {
  return uriEncodeBytes(Buffer.from(text, 'utf8'));
}

/**
 * The path-style path of a bucket or object: `BASE/bucket/key`, each `/`-separated segment of the
 * key UriEncoded once, `/` kept (S3 signs object paths without normalising them). `basePath` is
 * the endpoint's own path, for a vault behind a reverse proxy at a sub-path.
 */
export function objectPath(basePath: string, bucket: string, key?: string): string {
  const base = basePath.replace(/\/+$/, '');
  const bucketPath = `${base}/${encode(bucket)}`;
  return key === undefined ? bucketPath : `${bucketPath}/${key.split('/').map(encode).join('/')}`;
}
