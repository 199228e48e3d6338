import { S3Error } from '../../../domain/errors.js';

/**
 * Parsing of the parts that header and query authentication share: the credential
 * (`AKID/yyyyMMdd/region/s3/aws4_request`) and the signed-header list. Messages follow the
 * ones AWS returns, so a client's error text reads the same against Holdfast as against S3.
 */

export interface Credential {
  readonly accessKeyId: string;
  /** `yyyyMMdd` */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  /** `date/region/service/aws4_request` */
  readonly scope: string;
}

/** Where the credential came from decides the error code and message prefix AWS uses. */
export interface CredentialSource {
  readonly code: 'AuthorizationHeaderMalformed' | 'AuthorizationQueryParametersError';
  readonly prefix: string;
}

export const HEADER_SOURCE: CredentialSource = Object.freeze({
  code: 'AuthorizationHeaderMalformed',
  prefix: 'The authorization header is malformed; ',
});

export const QUERY_SOURCE: CredentialSource = Object.freeze({
  code: 'AuthorizationQueryParametersError',
  prefix: 'Error parsing the X-Amz-Credential parameter; ',
});

export function malformed(source: CredentialSource, message: string): S3Error {
  return new S3Error(source.code, `${source.prefix}${message}`);
}

const DATE = /^\d{8}$/;
// Any printable ASCII but '/': regions of self-hosted stores are free-form ("garage", "local").
const REGION = /^[\x21-\x2e\x30-\x7e]{1,128}$/;
const ACCESS_KEY_ID = /^[\x21-\x2e\x30-\x7e]{1,256}$/;

export function parseCredential(text: string, source: CredentialSource): Credential {
  const parts = text.split('/');
  const [accessKeyId, date, region, service, terminal] = parts;
  if (parts.length !== 5 || accessKeyId === undefined || date === undefined || region === undefined ||
    service === undefined || terminal === undefined || !ACCESS_KEY_ID.test(accessKeyId) || !DATE.test(date) ||
    !REGION.test(region)) {
    throw malformed(source, 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  if (service !== 's3') throw malformed(source, `incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminal !== 'aws4_request') throw malformed(source, `incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  return Object.freeze({ accessKeyId, date, region, service, scope: `${date}/${region}/${service}/aws4_request` });
}

// RFC 9110 token characters.
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** `host;x-amz-date` → `['host', 'x-amz-date']`, validated; `host` is mandatory. */
export function parseSignedHeaders(text: string, source: CredentialSource): string[] {
  const names = text.split(';').map((n) => n.toLowerCase());
  if (names.some((n) => !HEADER_NAME.test(n))) throw malformed(source, 'the SignedHeaders list is malformed.');
  if (!names.includes('host')) throw malformed(source, 'the SignedHeaders list must include "host".');
  return names;
}

export interface ParsedAuthorizationHeader {
  readonly credential: Credential;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/**
 * `AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>`
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
 * Callers have already checked the algorithm prefix.
 */
export function parseAuthorizationHeader(value: string): ParsedAuthorizationHeader {
  const fields = new Map<string, string>();
  const rest = value.slice(value.indexOf(' ') + 1);
  for (const raw of rest.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq).trim();
    if (eq === -1 || fields.has(name)) throw missingComponents();
    fields.set(name, part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined || fields.size !== 3) {
    throw missingComponents();
  }
  return {
    credential: parseCredential(credential, HEADER_SOURCE),
    signedHeaders: parseSignedHeaders(signedHeaders, HEADER_SOURCE),
    signature,
  };
}

function missingComponents(): S3Error {
  return malformed(HEADER_SOURCE, 'the authorization header requires three components: Credential, SignedHeaders, and Signature.');
}
