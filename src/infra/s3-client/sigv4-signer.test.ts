import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { Secret } from '../../domain/secret.js';
import type { S3Credentials } from './s3-credentials.js';
import { objectPath, signRequest } from './sigv4-signer.js';

// Expected signatures come from the official signer (@smithy/signature-v4, configured as the S3
// clients configure it), never from the code under test.

const SIGNING_MS = Date.UTC(2031, 2, 4, 12, 0, 0);
const credentials: S3Credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: new Secret('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'), source: 'test' };

interface Case {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly body: string;
}

async function officialAuthorization(c: Case, creds: S3Credentials, region: string): Promise<string> {
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey.reveal(),
      ...(creds.sessionToken === undefined ? {} : { sessionToken: creds.sessionToken.reveal() }),
    },
    region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    {
      method: c.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 9470,
      path: c.path,
      query: c.query,
      headers: { host: '127.0.0.1:9470', 'x-amz-content-sha256': sha256Hex(c.body), ...c.headers },
      body: c.body,
    },
    { signingDate: new Date(SIGNING_MS) },
  );
  return signed.headers['authorization']!;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function ours(c: Case, creds: S3Credentials, region: string) {
  return signRequest({ method: c.method, path: c.path, query: c.query, headers: { host: '127.0.0.1:9470', ...c.headers }, payloadHash: sha256Hex(c.body) }, creds, region, SIGNING_MS);
}

describe('SigV4 request signing', () => {
  const cases: Record<string, Case> = {
    'GET of an object': { method: 'GET', path: '/bucket/wal/00000001/000000010000000000000001', query: {}, headers: { 'x-amz-checksum-mode': 'ENABLED' }, body: '' },
    'conditional PUT with metadata, checksum and lock headers': {
      method: 'PUT',
      path: objectPath('', 'bucket', 'prefix/wal/00000001/000000010000000000000001'),
      query: {},
      headers: {
        'content-type': 'application/gzip',
        'content-length': '5',
        'if-none-match': '*',
        'x-amz-checksum-sha256': createHash('sha256').update('hello').digest('base64'),
        'x-amz-meta-holdfast-wal-sha256': 'ab'.repeat(32),
        'x-amz-object-lock-mode': 'COMPLIANCE',
        'x-amz-object-lock-retain-until-date': '2031-03-11T12:00:00.000Z',
      },
      body: 'hello',
    },
    'ListObjectsV2 with a query that needs encoding': {
      method: 'GET',
      path: '/bucket',
      query: { 'list-type': '2', prefix: 'a b+c/ü*', 'continuation-token': 'YWJj+/=', 'encoding-type': 'url' },
      headers: {},
      body: '',
    },
    'a key with characters that need encoding': { method: 'HEAD', path: objectPath('/base', 'bucket', 'dir/a b+c%d/ü~'), query: {}, headers: {}, body: '' },
  };
  for (const [name, c] of Object.entries(cases)) {
    test(`${name}: the same Authorization as the official signer`, async () => {
      assert.equal(ours(c, credentials, 'eu-west-3').headers['authorization'], await officialAuthorization(c, credentials, 'eu-west-3'));
    });
  }

  test('temporary credentials: the session token is sent and signed as the official signer does', async () => {
    const temporary: S3Credentials = { ...credentials, sessionToken: new Secret('FwoGZXIvYXdzEXAMPLETOKEN') };
    const c = cases['GET of an object']!;
    const signed = ours(c, temporary, 'us-east-1');
    assert.equal(signed.headers['x-amz-security-token'], 'FwoGZXIvYXdzEXAMPLETOKEN');
    assert.equal(signed.headers['authorization'], await officialAuthorization(c, temporary, 'us-east-1'));
  });

  test('the target carries the query in canonical encoding, and user-agent is not signed', () => {
    const signed = signRequest(
      { method: 'GET', path: '/b', query: { prefix: 'a b', 'list-type': '2' }, headers: { host: 'h', 'user-agent': 'x' }, payloadHash: sha256Hex('') },
      credentials,
      'us-east-1',
      SIGNING_MS,
    );
    assert.equal(signed.target, '/b?list-type=2&prefix=a%20b');
    assert.match(signed.headers['authorization']!, /SignedHeaders=host;x-amz-content-sha256;x-amz-date,/);
  });

  test('object paths: each key segment encoded once, slashes kept, the endpoint base path first', () => {
    assert.equal(objectPath('', 'b', 'k'), '/b/k');
    assert.equal(objectPath('/', 'b', 'a/b c/d+e'), '/b/a/b%20c/d%2Be');
    assert.equal(objectPath('/s3/', 'b', 'x//y'), '/s3/b/x//y');
    assert.equal(objectPath('', 'b'), '/b');
  });

  test('the secret does not appear in the signed headers', () => {
    const signed = ours(cases['GET of an object']!, credentials, 'us-east-1');
    assert.ok(!JSON.stringify(signed).includes(credentials.secretAccessKey.reveal()));
  });
});
