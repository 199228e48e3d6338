/**
 * Canonical URI and canonical query string of a SigV4 canonical request.
 *
 * S3 does not normalise paths (no `.`/`..` removal, `//` kept) and signs each path segment
 * URI-encoded exactly once. Clients disagree on which characters they escape on the wire (`!*'()`,
 * `+`, `%2b` vs `%2B`, ...), so the verifier decodes what arrived and re-encodes it with AWS's
 * UriEncode: unreserved `A-Za-z0-9-._~` kept, every other byte as `%XX` with upper-case hex.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (UriEncode)
 */

const HEX = '0123456789ABCDEF';
const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;

const ALREADY_CANONICAL = /^[A-Za-z0-9\-._~]*$/;
const ALREADY_CANONICAL_PATH = /^[A-Za-z0-9\-._~/]*$/;

/** AWS UriEncode of raw bytes. */
export function uriEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += UNRESERVED[b] === 1 ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Percent-decodes to bytes, never throws: a `%` not followed by two hex digits is a literal `%`
 * (decodeURIComponent would reject it, and invalid UTF-8 after decoding is still signable bytes).
 * Literal characters are taken as UTF-8.
 */
export function percentDecode(text: string, plusIsSpace: boolean): Buffer {
  const out = Buffer.allocUnsafe(Buffer.byteLength(text, 'utf8'));
  let o = 0;
  let runStart = 0;
  const flush = (end: number): void => {
    if (end > runStart) o += out.write(text.slice(runStart, end), o, 'utf8');
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && i + 2 < text.length && isHexDigit(text.charCodeAt(i + 1)) && isHexDigit(text.charCodeAt(i + 2))) {
      flush(i);
      out[o++] = parseInt(text.slice(i + 1, i + 3), 16);
      i += 2;
      runStart = i + 1;
    } else if (c === 0x2b && plusIsSpace) {
      flush(i);
      out[o++] = 0x20;
      runStart = i + 1;
    }
  }
  flush(text.length);
  return out.subarray(0, o);
}

/** Re-encodes one path segment or query component into its canonical form. */
function canonicalComponent(raw: string, plusIsSpace: boolean): string {
  return ALREADY_CANONICAL.test(raw) ? raw : uriEncodeBytes(percentDecode(raw, plusIsSpace));
}

/**
 * Canonical URI from the path exactly as it appeared in the request line (before `?`).
 * `/` separates segments and is kept; an encoded `%2F` stays inside its segment. In the path a
 * `+` is a literal plus (RFC 3986), unlike in the query.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  if (ALREADY_CANONICAL_PATH.test(rawPath)) return rawPath;
  return rawPath.split('/').map((segment) => canonicalComponent(segment, false)).join('/');
}

export interface QueryParameter {
  /** Decoded name (UTF-8). */
  readonly name: string;
  /** Decoded value (UTF-8); '' for `?name` and `?name=`. */
  readonly value: string;
  readonly encodedName: string;
  readonly encodedValue: string;
}

/**
 * Splits a raw query string into parameters, in order, repeated names kept. `+` decodes to a
 * space, as in HTML form encoding and in Go's url.ParseQuery, which MinIO signs with; the
 * router that reads the same query must decode it the same way (URLSearchParams does).
 */
export function parseQuery(rawQuery: string): QueryParameter[] {
  const params: QueryParameter[] = [];
  if (rawQuery === '') return params;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    const nameBytes = percentDecode(rawName, true);
    const valueBytes = percentDecode(rawValue, true);
    params.push({
      name: nameBytes.toString('utf8'),
      value: valueBytes.toString('utf8'),
      encodedName: ALREADY_CANONICAL.test(rawName) ? rawName : uriEncodeBytes(nameBytes),
      encodedValue: ALREADY_CANONICAL.test(rawValue) ? rawValue : uriEncodeBytes(valueBytes),
    });
  }
  return params;
}

/** `name=value` pairs sorted by encoded name, then encoded value (byte order), joined by `&`. */
export function canonicalQueryString(params: readonly QueryParameter[]): string {
  return params
    .map((p) => [p.encodedName, p.encodedValue] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
}
