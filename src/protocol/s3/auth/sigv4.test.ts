import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest, QueryParameterBag } from '@smithy/types';
import { isS3Error, type S3ErrorCode } from '../../../domain/errors.js';
import { ManualClock } from '../../../infra/clock.js';
import { authenticateRequest, type SecretLookup, type SigningRequest } from './sigv4.js';

// Every expected signature here comes from the official signer (@smithy/signature-v4) or is
// printed in the AWS documentation; none is computed by the code under test.

const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const lookup: SecretLookup = (id) => (id === AKID ? SECRET : undefined);
const SIGNING_MS = Date.UTC(2031, 2, 4, 12, 0, 0);
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MINUTE = 60_000;

function signer(secretAccessKey = SECRET, region = 'eu-west-3'): SignatureV4 {
  // uriEscapePath: false is how the S3 clients configure it: S3 paths are encoded exactly once.
  return new SignatureV4({ credentials: { accessKeyId: AKID, secretAccessKey }, region, service: 's3', sha256: Sha256, uriEscapePath: false });
}

interface Unsigned {
  method?: string;
  path: string;
  query?: QueryParameterBag;
  headers?: Record<string, string>;
  body?: string;
}

function httpRequest(r: Unsigned): HttpRequest {
  const body = r.body ?? '';
  return {
    method: r.method ?? 'GET',
    protocol: 'https:',
    hostname: 'vault.example',
    path: r.path,
    query: r.query ?? {},
    headers: {
      host: 'vault.example',
      'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      ...r.headers,
    },
    body,
  };
}

async function sign(r: Unsigned, options: { secret?: string; region?: string; signingMs?: number } = {}): Promise<HttpRequest> {
  return signer(options.secret, options.region).sign(httpRequest(r), { signingDate: new Date(options.signingMs ?? SIGNING_MS) });
}

/** The request as the server sees it; rawQuery/rawPath may be overridden to mimic other encoders. */
function received(signed: HttpRequest, over: Partial<SigningRequest> = {}): SigningRequest {
  const headers: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  return { method: signed.method, rawPath: signed.path, rawQuery: '', headers, ...over };
}

function withoutHeader(headers: IncomingHttpHeaders, name: string): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([n]) => n !== name));
}

function expectS3Error(fn: () => unknown, code: S3ErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isS3Error(e), `expected S3Error ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message !== undefined) assert.match(e.message, message);
    return true;
  });
}

/** encodeURIComponent plus the five characters it leaves alone: what the AWS SDKs put on the wire. */
function sdkEncode(key: string): string {
  return key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');
}

describe('header authentication against the official signer', () => {
  test('a signed GET authenticates and reports key, region and payload hash', async () => {
    const signed = await sign({ path: '/bucket/key.txt' });
    const auth = authenticateRequest(received(signed), lookup, new ManualClock(SIGNING_MS));
    assert.deepEqual(auth, { accessKeyId: AKID, region: 'eu-west-3', presigned: false, payload: { kind: 'sha256', expectedHex: EMPTY_SHA256 } });
  });

  test('any region is accepted and reported', async () => {
    const signed = await sign({ path: '/b/k' }, { region: 'garage' });
    assert.equal(authenticateRequest(received(signed), lookup, new ManualClock(SIGNING_MS))?.region, 'garage');
  });

  test('a PUT with a body reports the hash the body must match', async () => {
    const signed = await sign({ method: 'PUT', path: '/b/k', body: 'hello', headers: { 'content-type': 'text/plain', 'content-length': '5' } });
    const auth = authenticateRequest(received(signed), lookup, new ManualClock(SIGNING_MS));
    assert.deepEqual(auth?.payload, { kind: 'sha256', expectedHex: createHash('sha256').update('hello').digest('hex') });
  });

  test('UNSIGNED-PAYLOAD and the streaming literals are reported as such', async () => {
    const cases = [
      ['UNSIGNED-PAYLOAD', 'unsigned'],
      ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'streaming-unsigned-trailer'],
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'streaming-signed'],
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'streaming-signed'],
    ] as const;
    for (const [literal, kind] of cases) {
      const signed = await sign({ method: 'PUT', path: '/b/k', headers: { 'x-amz-content-sha256': literal } });
      const payload = authenticateRequest(received(signed), lookup, new ManualClock(SIGNING_MS))?.payload;
      assert.equal(payload?.kind, kind, literal);
      if (payload?.kind === 'streaming-signed') {
        assert.equal(payload.trailer, literal.endsWith('-TRAILER'));
        assert.equal(payload.context.seedSignature, /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization ?? '')?.[1]);
        assert.equal(payload.context.amzDate, '20310304T120000Z');
        assert.equal(payload.context.scope, '20310304/eu-west-3/s3/aws4_request');
        assert.equal(JSON.stringify(payload.context.signingKey), '"**redacted**"');
        assert.equal(inspect(payload.context), inspect({ ...payload.context, signingKey: 'x' }).replace("'x'", 'SigningKey(**redacted**)'));
      }
    }
  });

  const awkwardKeys = [
    'a b', 'a+b', "!*'()", 'plus+and space', 'ümlaut/€uro/😀', 'per%cent', 'tilde~dot.dash-under_', 'semi;colon,comma=eq&amp',
    'double//slash', 'trailing/', '.hidden/../dots', 'brackets[]{}|\\^`"<>', 'tab\tand\nnewline', 'hash#question?',
  ];
  for (const key of awkwardKeys) {
    test(`key ${JSON.stringify(key)} verifies however the client encoded it`, async () => {
      const canonical = `/bucket/${sdkEncode(key)}`;
      const signed = await sign({ path: canonical });
      const clock = new ManualClock(SIGNING_MS);
      const variants = new Set([
        canonical,
        // encodeURI leaves ! * ' ( ) + ; , = & / ~ # ? and others alone.
        `/bucket/${key.split('/').map((s) => encodeURI(s).replace(/[#?]/g, encodeURIComponent)).join('/')}`,
        // lower-case hex escapes
        canonical.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
        // every byte escaped, even unreserved ones
        `/bucket/${key.split('/').map((s) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')).join('/')}`,
      ]);
      for (const rawPath of variants) {
        assert.equal(authenticateRequest(received(signed, { rawPath }), lookup, clock)?.accessKeyId, AKID, rawPath);
      }
    });
  }

  test('a different key in the path does not verify', async () => {
    const signed = await sign({ path: '/bucket/a%2Bb' });
    // '+' in a path is a literal plus; a space is a different key.
    expectS3Error(() => authenticateRequest(received(signed, { rawPath: '/bucket/a%20b' }), lookup, new ManualClock(SIGNING_MS)), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateRequest(received(signed, { rawPath: '/bucket/a%2Bc' }), lookup, new ManualClock(SIGNING_MS)), 'SignatureDoesNotMatch');
  });

  test('query strings with empty values, bare names, repeated names and escapes', async () => {
    const signed = await sign({
      path: '/bucket/',
      query: { 'list-type': '2', prefix: 'a b+c/ü', delimiter: '/', 'empty': '', 'tag': ['b', 'a', 'a b'], 'x y': '1' },
    });
    const clock = new ManualClock(SIGNING_MS);
    const variants = [
      'list-type=2&prefix=a%20b%2Bc%2F%C3%BC&delimiter=%2F&empty=&tag=b&tag=a&tag=a%20b&x%20y=1',
      // form style: '+' for space, bare name for the empty value, lower-case escapes, other order
      'tag=a+b&x+y=1&empty&tag=a&delimiter=/&prefix=a+b%2bc/%c3%bc&tag=b&list-type=2',
    ];
    for (const rawQuery of variants) {
      assert.equal(authenticateRequest(received(signed, { rawQuery }), lookup, clock)?.accessKeyId, AKID, rawQuery);
    }
    expectS3Error(() => authenticateRequest(received(signed, { rawQuery: variants[0]?.replace('tag=a&', '') }), lookup, clock), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateRequest(received(signed, { rawQuery: `${variants[0] ?? ''}&extra=1` }), lookup, clock), 'SignatureDoesNotMatch');
  });

  test('a Date header can stand in for x-amz-date', async () => {
    // Leave x-amz-date out of the signed headers so that it can be swapped for an equivalent Date header.
    const signed = await signer().sign(httpRequest({ path: '/b/k' }), { signingDate: new Date(SIGNING_MS), unsignableHeaders: new Set(['x-amz-date']) });
    const headers = withoutHeader(received(signed).headers, 'x-amz-date');
    const clock = new ManualClock(SIGNING_MS);
    const viaDate = { ...received(signed), headers: { ...headers, date: new Date(SIGNING_MS).toUTCString() } };
    assert.equal(authenticateRequest(viaDate, lookup, clock)?.accessKeyId, AKID);
    const secondLater = { ...viaDate, headers: { ...headers, date: new Date(SIGNING_MS + 1000).toUTCString() } };
    expectS3Error(() => authenticateRequest(secondLater, lookup, clock), 'SignatureDoesNotMatch');
  });

  test('header values: blanks collapse, and repeated headers given as arrays join with a comma', async () => {
    const signed = await sign({ path: '/b/k', headers: { 'x-amz-meta-note': '  two   spaces\tand tab ', 'x-amz-meta-list': 'a,b' } });
    const req = received(signed);
    const headers = { ...req.headers, 'x-amz-meta-list': ['a ', ' b'] };
    assert.equal(authenticateRequest({ ...req, headers }, lookup, new ManualClock(SIGNING_MS))?.accessKeyId, AKID);
  });
});

describe('header authentication failures', () => {
  const clock = (): ManualClock => new ManualClock(SIGNING_MS);

  test('wrong secret → SignatureDoesNotMatch', async () => {
    const signed = await sign({ path: '/b/k' }, { secret: 'not-the-secret' });
    expectS3Error(() => authenticateRequest(received(signed), lookup, clock()), 'SignatureDoesNotMatch');
  });

  test('tampered signed header, method or signature → SignatureDoesNotMatch', async () => {
    const signed = await sign({ method: 'PUT', path: '/b/k', headers: { 'x-amz-meta-a': '1' } });
    const req = received(signed);
    expectS3Error(() => authenticateRequest({ ...req, headers: { ...req.headers, 'x-amz-meta-a': '2' } }, lookup, clock()), 'SignatureDoesNotMatch');
    expectS3Error(() => authenticateRequest({ ...req, method: 'DELETE' }, lookup, clock()), 'SignatureDoesNotMatch');
    const auth = String(req.headers.authorization);
    const flipped = auth.replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
    expectS3Error(() => authenticateRequest({ ...req, headers: { ...req.headers, authorization: flipped } }, lookup, clock()), 'SignatureDoesNotMatch');
    const short = auth.replace(/Signature=[0-9a-f]{64}/, 'Signature=abc');
    expectS3Error(() => authenticateRequest({ ...req, headers: { ...req.headers, authorization: short } }, lookup, clock()), 'SignatureDoesNotMatch');
  });

  test('a tampered payload hash → SignatureDoesNotMatch', async () => {
    const signed = await sign({ method: 'PUT', path: '/b/k', body: 'hello' });
    const req = received(signed);
    const headers = { ...req.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
    expectS3Error(() => authenticateRequest({ ...req, headers }, lookup, clock()), 'SignatureDoesNotMatch');
  });

  test('an x-amz-* header added after signing → AccessDenied naming it', async () => {
    const signed = await sign({ method: 'PUT', path: '/b/k' });
    const req = received(signed);
    const headers = { ...req.headers, 'x-amz-bypass-governance-retention': 'true' };
    assert.throws(() => authenticateRequest({ ...req, headers }, lookup, clock()), (e: unknown) =>
      isS3Error(e) && e.code === 'AccessDenied' && e.details.HeadersNotSigned === 'x-amz-bypass-governance-retention');
  });

  test('unknown access key → InvalidAccessKeyId', async () => {
    const signed = await sign({ path: '/b/k' });
    expectS3Error(() => authenticateRequest(received(signed), () => undefined, clock()), 'InvalidAccessKeyId');
  });

  test('clock skew: 14 minutes passes, 16 minutes either way → RequestTimeTooSkewed', async () => {
    const signed = await sign({ path: '/b/k' });
    assert.ok(authenticateRequest(received(signed), lookup, new ManualClock(SIGNING_MS + 14 * MINUTE)));
    assert.ok(authenticateRequest(received(signed), lookup, new ManualClock(SIGNING_MS - 14 * MINUTE)));
    expectS3Error(() => authenticateRequest(received(signed), lookup, new ManualClock(SIGNING_MS + 16 * MINUTE)), 'RequestTimeTooSkewed');
    expectS3Error(() => authenticateRequest(received(signed), lookup, new ManualClock(SIGNING_MS - 16 * MINUTE)), 'RequestTimeTooSkewed');
    assert.throws(() => authenticateRequest(received(signed), lookup, new ManualClock(SIGNING_MS + 2 * MINUTE), { maxSkewMs: MINUTE }),
      (e: unknown) => isS3Error(e) && e.code === 'RequestTimeTooSkewed' && e.details.MaxAllowedSkewMilliseconds === '60000');
  });

  test('x-amz-content-sha256 missing → InvalidRequest; not a hash or known literal → InvalidArgument', async () => {
    const signed = await sign({ path: '/b/k' });
    const req = received(signed);
    const without = withoutHeader(req.headers, 'x-amz-content-sha256');
    expectS3Error(() => authenticateRequest({ ...req, headers: without }, lookup, clock()), 'InvalidRequest', /x-amz-content-sha256/);
    for (const bad of ['abc', 'STREAMING-PAYLOAD', `${EMPTY_SHA256}0`, 'unsigned-payload']) {
      expectS3Error(() => authenticateRequest({ ...req, headers: { ...req.headers, 'x-amz-content-sha256': bad } }, lookup, clock()), 'InvalidArgument');
    }
  });

  test('malformed Authorization headers → AuthorizationHeaderMalformed', async () => {
    const signed = await sign({ path: '/b/k' });
    const req = received(signed);
    const auth = String(req.headers.authorization);
    const broken = [
      auth.replace(/, Signature=[0-9a-f]+/, ''),
      auth.replace('SignedHeaders=', 'SignedHeader='),
      auth.replace('/s3/', '/ec2/'),
      auth.replace('aws4_request', 'aws5_request'),
      auth.replace(`${AKID}/`, ''),
      auth.replace('20310304/', '20310305/'),
      auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=x-amz-date'),
      `${auth}, Signature=00`,
    ];
    for (const authorization of broken) {
      expectS3Error(() => authenticateRequest({ ...req, headers: { ...req.headers, authorization } }, lookup, clock()), 'AuthorizationHeaderMalformed');
    }
  });

  test('no usable date → AccessDenied', async () => {
    const signed = await sign({ path: '/b/k' });
    const req = received(signed);
    const without = withoutHeader(req.headers, 'x-amz-date');
    expectS3Error(() => authenticateRequest({ ...req, headers: without }, lookup, clock()), 'AccessDenied', /Date or x-amz-date/);
    expectS3Error(() => authenticateRequest({ ...req, headers: { ...req.headers, 'x-amz-date': '20310230T120000Z' } }, lookup, clock()), 'AccessDenied');
  });

  test('SigV2 and unknown schemes are refused; both header and query auth → InvalidArgument', async () => {
    const signed = await sign({ path: '/b/k' });
    const req = received(signed);
    expectS3Error(() => authenticateRequest({ ...req, headers: { ...req.headers, authorization: `AWS ${AKID}:c2lnbmF0dXJl` } }, lookup, clock()), 'InvalidRequest');
    expectS3Error(() => authenticateRequest({ ...req, headers: { host: 'h' }, rawQuery: `AWSAccessKeyId=${AKID}&Expires=1&Signature=x` }, lookup, clock()), 'InvalidRequest');
    expectS3Error(() => authenticateRequest({ ...req, rawQuery: 'X-Amz-Algorithm=AWS4-HMAC-SHA256' }, lookup, clock()), 'InvalidArgument');
  });

  test('a request without any credentials is anonymous', () => {
    assert.equal(authenticateRequest({ method: 'GET', rawPath: '/b/k', rawQuery: 'versionId=1', headers: { host: 'h' } }, lookup, new ManualClock(SIGNING_MS)), undefined);
  });
});

describe('AWS documentation vectors', () => {
  // https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, "Example: GET Object"
  test('GET Object with Range verifies with the published signature', () => {
    const headers = {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': '20130524T000000Z',
      authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
    };
    const auth = authenticateRequest({ method: 'GET', rawPath: '/test.txt', rawQuery: '', headers }, lookup, new ManualClock(Date.UTC(2013, 4, 24)));
    assert.equal(auth?.region, 'us-east-1');
    expectS3Error(() => authenticateRequest({ method: 'GET', rawPath: '/test.txt', rawQuery: '', headers: { ...headers, range: 'bytes=0-10' } }, lookup,
      new ManualClock(Date.UTC(2013, 4, 24))), 'SignatureDoesNotMatch');
  });

  // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html, the example presigned URL
  test('the published presigned URL verifies inside its 24 hours and expires after', () => {
    const rawQuery = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
      '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
      '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
    const req = { method: 'GET', rawPath: '/test.txt', rawQuery, headers: { host: 'examplebucket.s3.amazonaws.com' } };
    const day = 24 * 60 * MINUTE;
    assert.deepEqual(authenticateRequest(req, lookup, new ManualClock(Date.UTC(2013, 4, 24) + day - 1000)),
      { accessKeyId: AKID, region: 'us-east-1', presigned: true, payload: { kind: 'unsigned' } });
    expectS3Error(() => authenticateRequest(req, lookup, new ManualClock(Date.UTC(2013, 4, 24) + day + 1000)), 'AccessDenied', /Request has expired/);
  });
});
