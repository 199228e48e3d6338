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
    const name = queryComponent(eq === -1 ? part : part.slice(0, eq));
    const value = queryComponent(eq === -1 ? '' : part.slice(eq + 1));
    params.push({ name: name.decoded, value: value.decoded, encodedName: name.encoded, encodedValue: value.encoded });
  }
  return params;
}

/**
 * One query component, decoded and canonically encoded. What signers send is nearly always in
 * canonical form already (the parameters of a presigned URL are); such a component is its own
 * encoding and decodes without a byte round trip. Anything else takes the byte-level path.
 */
function queryComponent(raw: string): { decoded: string; encoded: string } {
  if (isCanonicallyEncoded(raw)) {
    if (!raw.includes('%')) return { decoded: raw, encoded: raw };
    try {
      return { decoded: decodeURIComponent(raw), encoded: raw };
    } catch {
      // Escapes of invalid UTF-8: the byte path below decodes them to U+FFFD, as Buffer does.
    }
  }
  const bytes = percentDecode(raw, true);
  return { decoded: bytes.toString('utf8'), encoded: uriEncodeBytes(bytes) };
}

/**
 * True when `raw` is exactly what UriEncode would produce for its decoded bytes: every literal
 * character unreserved, every escape `%XX` in upper-case hex of a byte that is not unreserved.
 */
function isCanonicallyEncoded(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x80 && UNRESERVED[c] === 1) continue;
    if (c !== 0x25 || i + 2 >= raw.length) return false;
    const high = upperHexValue(raw.charCodeAt(i + 1));
    const low = upperHexValue(raw.charCodeAt(i + 2));
    if (high < 0 || low < 0 || UNRESERVED[high * 16 + low] === 1) return false;
    i += 2;
  }
  return true;
}

function upperHexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** `name=value` pairs sorted by encoded name, then encoded value (byte order), joined by `&`. */
export function canonicalQueryString(params: readonly QueryParameter[]): string {
  const sorted = [...params].sort((a, b) =>
    a.encodedName < b.encodedName ? -1 : a.encodedName > b.encodedName ? 1 : a.encodedValue < b.encodedValue ? -1 : a.encodedValue > b.encodedValue ? 1 : 0,
  );
  let out = '';
  for (let i = 0; i < sorted.length; i++) out += `${i === 0 ? '' : '&'}${sorted[i]!.encodedName}=${sorted[i]!.encodedValue}`;
  return out;
}
