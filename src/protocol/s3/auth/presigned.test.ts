import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest, QueryParameterBag } from '@smithy/types';
import { isS3Error, type S3ErrorCode } from '../../../domain/errors.js';
import { ManualClock } from '../../../infra/clock.js';
import { authenticateRequest, type SecretLookup, type SigningRequest } from './sigv4.js';

// Presigned URLs are produced by the official signer (SignatureV4.presign) and by the SDK's own
// presigner (getSignedUrl), never by the code under test.

const AKID = 'AKIDPRESIGN';
const SECRET = 'presign-secret/with+odd=chars';
const lookup: SecretLookup = (id) => (id === AKID ? SECRET : undefined);
const SIGNING_MS = Date.UTC(2031, 9, 1, 8, 30, 0);
const MINUTE = 60_000;

const signer = new SignatureV4({
  credentials: { accessKeyId: AKID, secretAccessKey: SECRET }, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false,
});

async function presign(path: string, options: { query?: QueryParameterBag; headers?: Record<string, string>; expiresIn?: number; method?: string } = {}): Promise<HttpRequest> {
  const request: HttpRequest = {
    method: options.method ?? 'GET',
    protocol: 'https:',
    hostname: 'vault.example',
    path,
    query: options.query ?? {},
    // What @aws-sdk/s3-request-presigner does: name the payload as unsigned, hoisted into the query.
    headers: { host: 'vault.example', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...options.headers },
  };
  return signer.presign(request, { signingDate: new Date(SIGNING_MS), expiresIn: options.expiresIn ?? 3600 });
}

/** The query exactly as the SDK's HTTP handlers serialise it (escapeUri, sorted keys). */
function serialiseQuery(query: QueryParameterBag): string {
  const escape = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.keys(query).sort().flatMap((k) => {
    const v = query[k];
    if (Array.isArray(v)) return v.map((x) => `${escape(k)}=${escape(x)}`);
    return [v === null || v === undefined ? escape(k) : `${escape(k)}=${escape(v)}`];
  }).join('&');
}

function received(presigned: HttpRequest, over: Partial<SigningRequest> = {}): SigningRequest {
  return { method: presigned.method, rawPath: presigned.path, rawQuery: serialiseQuery(presigned.query ?? {}), headers: { ...presigned.headers }, ...over };
}

function fromUrl(url: string, method: string, headers: Record<string, string> = {}): SigningRequest {
  const u = new URL(url);
  const q = url.indexOf('?');
  return { method, rawPath: u.pathname, rawQuery: q === -1 ? '' : url.slice(q + 1), headers: { host: u.host, ...headers } };
}

function expectS3Error(fn: () => unknown, code: S3ErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isS3Error(e), `expected S3Error ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message !== undefined) assert.match(e.message, message);
    return true;
  });
}

describe('presigned URLs from the official signer', () => {
  test('verify, report presigned and an unsigned payload', async () => {
    const p = await presign('/bucket/a%20b%2Bc/%C3%BC', { query: { versionId: 'v1', 'response-content-type': 'text/plain; charset=utf-8' } });
    assert.deepEqual(authenticateRequest(received(p), lookup, new ManualClock(SIGNING_MS + MINUTE)),
      { accessKeyId: AKID, region: 'us-east-1', presigned: true, payload: { kind: 'unsigned' } });
  });

  test('a presigned PUT that signs extra headers needs them sent as signed', async () => {
    // Non-x-amz headers stay headers (signed); x-amz-* ones are hoisted into the query.
    const p = await presign('/bucket/k', { method: 'PUT', headers: { 'content-type': 'application/pdf', 'x-amz-meta-owner': 'ann' } });
    assert.match(serialiseQuery(p.query ?? {}), /x-amz-meta-owner=ann/);
    const clock = new ManualClock(SIGNING_MS);
    assert.ok(authenticateRequest(received(p), lookup, clock));
    expectS3Error(() => authenticateRequest(received(p, { headers: { ...p.headers, 'content-type': 'text/html' } }), lookup, clock), 'SignatureDoesNotMatch');
  });

  test('X-Amz-Content-Sha256 with a real hash makes the body hash binding', async () => {
    const hash = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    const p = await presign('/bucket/k', { method: 'PUT', headers: { 'x-amz-content-sha256': hash } });
    assert.deepEqual(authenticateRequest(received(p), lookup, new ManualClock(SIGNING_MS))?.payload, { kind: 'sha256', expectedHex: hash });
  });

  test('expires exactly at X-Amz-Date + X-Amz-Expires', async () => {
    const p = await presign('/bucket/k', { expiresIn: 600 });
    assert.ok(authenticateRequest(received(p), lookup, new ManualClock(SIGNING_MS + 600_000)));
    assert.throws(() => authenticateRequest(received(p), lookup, new ManualClock(SIGNING_MS + 600_001)), (e: unknown) =>
      isS3Error(e) && e.code === 'AccessDenied' && e.message === 'Request has expired' && e.details['X-Amz-Expires'] === '600');
  });

  test('a seven-day URL is accepted at the end of day seven; a URL dated in the future is skewed', async () => {
    const p = await presign('/bucket/k', { expiresIn: 604_800 });
    assert.ok(authenticateRequest(received(p), lookup, new ManualClock(SIGNING_MS + 604_799_000)));
    assert.ok(authenticateRequest(received(p), lookup, new ManualClock(SIGNING_MS - 14 * MINUTE)));
    expectS3Error(() => authenticateRequest(received(p), lookup, new ManualClock(SIGNING_MS - 16 * MINUTE)), 'RequestTimeTooSkewed');
  });

  test('X-Amz-Expires outside 1..604800 or not a number → AuthorizationQueryParametersError', async () => {
    const p = await presign('/bucket/k');
    const clock = new ManualClock(SIGNING_MS);
    for (const bad of ['604801', '0', '-5', '1e3', '', 'soon']) {
      const rawQuery = received(p).rawQuery.replace(/X-Amz-Expires=\d+/, `X-Amz-Expires=${bad}`);
      expectS3Error(() => authenticateRequest(received(p, { rawQuery }), lookup, clock), 'AuthorizationQueryParametersError', /X-Amz-Expires/);
    }
  });

  test('missing, duplicated or malformed parameters → AuthorizationQueryParametersError', async () => {
    const p = await presign('/bucket/k');
    const clock = new ManualClock(SIGNING_MS);
    const base = received(p).rawQuery;
    const broken = [
      base.replace(/&?X-Amz-SignedHeaders=[^&]*/, ''),
      base.replace(/&?X-Amz-Date=[^&]*/, ''),
      `${base}&X-Amz-Date=20311001T083000Z`,
      base.replace('X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Algorithm=AWS4-HMAC-SHA1'),
      base.replace(/X-Amz-Date=\d{8}T\d{6}Z/, 'X-Amz-Date=2031-10-01T08%3A30%3A00Z'),
      base.replace('%2Fs3%2F', '%2Fsqs%2F'),
      base.replace('20311001%2F', '20311002%2F'),
      base.replace(/X-Amz-SignedHeaders=[^&]*/, 'X-Amz-SignedHeaders=range'),
    ];
    for (const rawQuery of broken) {
      expectS3Error(() => authenticateRequest(received(p, { rawQuery }), lookup, clock), 'AuthorizationQueryParametersError');
    }
  });

  test('tampering: other path, extra parameter, flipped signature, wrong secret, unknown key', async () => {
    const p = await presign('/bucket/k', { query: { versionId: 'v1' } });
    const clock = new ManualClock(SIGNING_MS);
    const base = received(p);
    expectS3Error(() => authenticateRequest({ ...base, rawPath: '/bucket/other' }, lookup, clock), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateRequest({ ...base, rawQuery: `${base.rawQuery}&partNumber=1` }, lookup, clock), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateRequest({ ...base, rawQuery: base.rawQuery.replace('versionId=v1', 'versionId=v2') }, lookup, clock), 'SignatureDoesNotMatch');
    const flipped = base.rawQuery.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === 'a' ? 'b' : 'a'}`);
    expectS3Error(() => authenticateRequest({ ...base, rawQuery: flipped }, lookup, clock), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateRequest(base, () => 'another-secret', clock), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateRequest(base, () => undefined, clock), 'InvalidAccessKeyId');
  });

  test('an x-amz-* header the URL did not sign → AccessDenied', async () => {
    const p = await presign('/bucket/k', { method: 'PUT' });
    const base = received(p);
    assert.throws(() => authenticateRequest({ ...base, headers: { ...base.headers, 'x-amz-object-lock-mode': 'GOVERNANCE' } }, lookup, new ManualClock(SIGNING_MS)),
      (e: unknown) => isS3Error(e) && e.code === 'AccessDenied' && e.details.HeadersNotSigned === 'x-amz-object-lock-mode');
  });
});

describe('presigned URLs from @aws-sdk/s3-request-presigner', () => {
  const client = new S3Client({
    region: 'ap-south-2', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true,
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
  });
  const signingDate = new Date(SIGNING_MS);

  test('GetObject URL for an awkward key verifies as sent', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bucket', Key: "dir/ü ber+(1)!*'.txt", VersionId: 'v 1' }), { signingDate, expiresIn: 900 });
    const auth = authenticateRequest(fromUrl(url, 'GET'), lookup, new ManualClock(SIGNING_MS + MINUTE));
    assert.deepEqual(auth, { accessKeyId: AKID, region: 'ap-south-2', presigned: true, payload: { kind: 'unsigned' } });
    expectS3Error(() => authenticateRequest(fromUrl(url, 'GET'), lookup, new ManualClock(SIGNING_MS + 16 * MINUTE)), 'AccessDenied', /expired/);
  });

  test('PutObject URL verifies for PUT only', async () => {
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'bucket', Key: 'upload.bin' }), { signingDate, expiresIn: 60 });
    const clock = new ManualClock(SIGNING_MS);
    assert.equal(authenticateRequest(fromUrl(url, 'PUT'), lookup, clock)?.presigned, true);
    expectS3Error(() => authenticateRequest(fromUrl(url, 'GET'), lookup, clock), 'SignatureDoesNotMatch');
  });
});
