import type { IncomingHttpHeaders } from 'node:http';
import { sha256Hex } from './signing-key.js';

/**
 * The canonical request and string-to-sign of SigV4.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** Trimall: leading and trailing blanks removed, runs of blanks collapsed to one space. */
function trimAll(value: string): string {
  return value.replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
}

/**
 * A header's canonical value. Node joins repeated headers with ", " into one string; a caller
 * that wants the spec's exact "values joined by a comma" for repeated headers can pass
 * `req.headersDistinct`, whose arrays are joined here.
 */
export function canonicalHeaderValue(value: string | readonly string[] | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return trimAll(value);
  return value.map(trimAll).join(',');
}

export interface CanonicalRequestParts {
  readonly method: string;
  readonly canonicalUri: string;
  readonly canonicalQuery: string;
  readonly headers: IncomingHttpHeaders;
  /** Lower-case header names in the order the client listed them. */
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
}

export function canonicalRequest(parts: CanonicalRequestParts): string {
  let headerBlock = '';
  for (const name of parts.signedHeaders) headerBlock += `${name}:${canonicalHeaderValue(parts.headers[name])}\n`;
  return [
    parts.method,
    parts.canonicalUri,
    parts.canonicalQuery,
    headerBlock,
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}
