import { BucketProtection } from '../../domain/bucket-protection.js';
import { ChangeApprovals } from '../../domain/identity/change-approvals.js';
import { principalArn } from '../../domain/identity/identity-model.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer, request as httpRequest } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { MultipartUploads } from '../../domain/multipart.js';
import { ObjectLocks } from '../../domain/object-locks.js';
import { Vault } from '../../domain/vault.js';
import { FsBlobStore } from '../../infra/blob/fs/fs-blob-store.js';
import { systemClock } from '../../infra/clock.js';
import { SqliteMetadataStore } from '../../infra/metadata/sqlite/sqlite-metadata-store.js';
import { createS3Handler } from './s3-http-handler.js';

/**
 * The protocol edge in-process: addressing, authentication and error rendering, with requests
 * signed by the official SigV4 signer and sent over a real socket.
 */
const accessKeyId = 'HF' + randomBytes(9).toString('hex').toUpperCase();
const secretAccessKey = randomBytes(30).toString('base64url');
const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
const root = mkdtempSync(join(tmpdir(), 'holdfast-edge-'));
let server: Server;
let port = 0;
const internalErrors: string[] = [];

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(method: string, path: string, headers: Record<string, string>, body = ''): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function signed(method: string, path: string, options: { host?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const [pathname, search = ''] = path.split('?') as [string, string?];
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) query[k] = v;
  const body = options.body ?? '';
  const host = options.host ?? `127.0.0.1:${port}`;
  const request = await signer.sign({
    method,
    protocol: 'http:',
    hostname: host.split(':')[0]!,
    port,
    path: pathname,
    query,
    headers: {
      host,
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      ...(body === '' ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
      ...options.headers,
    },
    body,
  });
  return send(method, path, request.headers, body);
}

const errorCode = (reply: Reply) => /<Code>([^<]*)<\/Code>/.exec(reply.body)?.[1];

before(async () => {
  const metadata = new SqliteMetadataStore(join(root, 'meta.sqlite'));
  const vault = new Vault(metadata, new FsBlobStore(join(root, 'blobs')), systemClock, { region: 'us-east-1', inlineLimit: 1024 });
  const locks = new ObjectLocks(vault);
  const approvals = new ChangeApprovals(metadata, () => Date.now(), () => Promise.resolve());
  const handler = createS3Handler({
    context: { vault, multipart: new MultipartUploads(vault), locks, protection: new BucketProtection(locks, approvals), duties: { storeBucketPolicy: (_bucket, _policy, write) => write() } },
    secrets: (id) => (id === accessKeyId ? secretAccessKey : undefined),
    // The edge's own behaviour, signed as root: authorization has its own tests.
    access: {
      principalOf: (id) => (id === accessKeyId ? { name: 'root', kind: 'root', arn: principalArn('root', 'root'), accessKeyId: id, policies: undefined } : undefined),
      decide: () => Promise.resolve({ allowed: true, reason: 'root' }),
    },
    secureTransport: false,
    clock: systemClock,
    virtualHostDomain: 's3.holdfast.test',
    onInternalError: (id, error) => internalErrors.push(`${id}: ${String(error)}`),
  });
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  assert.deepEqual(internalErrors, [], 'no request may fail with an internal error');
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

describe('S3 HTTP edge', () => {
  test('the health probe needs no credentials; everything else does', async () => {
    const health = await send('GET', '/_holdfast/health', {});
    assert.equal(health.status, 200);
    const anonymous = await send('GET', '/', {});
    assert.equal(anonymous.status, 403);
    assert.equal(errorCode(anonymous), 'AccessDenied');
  });

  test('errors are S3 XML with a request id that matches the header', async () => {
    const reply = await signed('GET', '/no-such-bucket/key');
    assert.equal(reply.status, 404);
    assert.equal(errorCode(reply), 'NoSuchBucket');
    const id = reply.headers['x-amz-request-id'];
    assert.equal(typeof id, 'string');
    assert.ok(reply.body.includes(`<RequestId>${String(id)}</RequestId>`));
    assert.ok(reply.body.includes('<BucketName>no-such-bucket</BucketName>'));
  });

  test('every response — success, error, HEAD, health, streamed — carries the request id headers once, and a true Content-Length', async () => {
    assert.equal((await signed('PUT', '/edge-ids')).status, 200);
    assert.equal((await signed('PUT', '/edge-ids/k', { body: 'twelve bytes' })).status, 200);
    // Over the handler's inline limit: stored as a blob, sent as a stream.
    assert.equal((await signed('PUT', '/edge-ids/large', { body: 'x'.repeat(5000) })).status, 200);
    const replies = [
      await send('GET', '/_holdfast/health', {}),
      await signed('GET', '/edge-ids/k'),
      await signed('GET', '/edge-ids/large'),
      await signed('HEAD', '/edge-ids/k'),
      await signed('GET', '/edge-ids?list-type=2'),
      await signed('GET', '/edge-ids/missing'),
      await signed('DELETE', '/edge-ids/k'),
      await send('GET', '/edge-ids/k', {}),
    ];
    const ids = new Set<string>();
    for (const reply of replies) {
      const id = reply.headers['x-amz-request-id'];
      assert.match(String(id), /^[0-9A-F]+$/, `one id, status ${reply.status}`);
      assert.equal(reply.headers['x-amz-id-2'], id);
      assert.equal(reply.headers['server'], 'Holdfast');
      ids.add(String(id));
      if (reply.status !== 204 && reply.headers['content-length'] !== undefined && reply.body !== '') {
        assert.equal(Number(reply.headers['content-length']), Buffer.byteLength(reply.body));
      }
    }
    assert.equal(ids.size, replies.length, 'request ids are unique');
    assert.equal(replies[2]!.body.length, 5000);
    assert.equal(replies[3]!.headers['content-length'], '12', 'HEAD declares the object size');
    assert.equal(replies[3]!.body, '');
  });

  test('HEAD errors carry the status but no body', async () => {
    const reply = await signed('HEAD', '/no-such-bucket');
    assert.equal(reply.status, 404);
    assert.equal(reply.body, '');
  });

  test('path style and virtual-host style address the same bucket', async () => {
    assert.equal((await signed('PUT', '/edge-bucket')).status, 200);
    const put = await signed('PUT', '/vh/key.txt', { host: `edge-bucket.s3.holdfast.test:${port}`, body: 'virtual' });
    assert.equal(put.status, 200, put.body);
    const get = await signed('GET', '/edge-bucket/vh/key.txt');
    assert.equal(get.body, 'virtual');
  });

  test('bad names and keys get the S3 error for them', async () => {
    assert.equal(errorCode(await signed('PUT', '/Bad_Bucket')), 'InvalidBucketName');
    assert.equal(errorCode(await signed('PUT', '/ab')), 'InvalidBucketName');
    assert.equal(errorCode(await signed('PUT', '/192.168.1.1')), 'InvalidBucketName');
    assert.equal((await signed('PUT', '/edge-keys')).status, 200);
    assert.equal(errorCode(await signed('PUT', `/edge-keys/${'k'.repeat(1025)}`, { body: 'x' })), 'KeyTooLongError');
    assert.equal(errorCode(await signed('PUT', '/edge-keys/a%01b', { body: 'x' })), 'InvalidArgument');
    assert.equal(errorCode(await signed('PUT', '/edge-keys/a%FFb', { body: 'x' })), 'InvalidURI');
    // A key that looks like a path is just a key: it is stored and read back as such.
    assert.equal((await signed('PUT', '/edge-keys/..%2F..%2Fetc%2Fpasswd', { body: 'harmless' })).status, 200);
    assert.equal((await signed('GET', '/edge-keys/..%2F..%2Fetc%2Fpasswd')).body, 'harmless');
  });

  test('unimplemented subresources are NotImplemented, wrong methods MethodNotAllowed', async () => {
    assert.equal(errorCode(await signed('GET', '/edge-bucket?acl')), 'NotImplemented');
    assert.equal((await signed('GET', '/edge-bucket?acl')).status, 501);
    assert.equal(errorCode(await signed('POST', '/edge-bucket/k')), 'MethodNotAllowed');
  });

  test('Content-MD5 that does not match the body is BadDigest and stores nothing', async () => {
    const wrong = Buffer.from(randomBytes(16)).toString('base64');
    const reply = await signed('PUT', '/edge-bucket/md5', { body: 'payload', headers: { 'content-md5': wrong } });
    assert.equal(errorCode(reply), 'BadDigest');
    assert.equal(errorCode(await signed('GET', '/edge-bucket/md5')), 'NoSuchKey');
    assert.equal(errorCode(await signed('PUT', '/edge-bucket/md5', { body: 'payload', headers: { 'content-md5': 'not-base64' } })), 'InvalidDigest');
  });

  test('ranges: 206 with Content-Range, suffix ranges, 416 beyond the end', async () => {
    await signed('PUT', '/edge-bucket/range', { body: '0123456789' });
    const middle = await signed('GET', '/edge-bucket/range', { headers: { range: 'bytes=2-4' } });
    assert.equal(middle.status, 206);
    assert.equal(middle.body, '234');
    assert.equal(middle.headers['content-range'], 'bytes 2-4/10');
    assert.equal((await signed('GET', '/edge-bucket/range', { headers: { range: 'bytes=-3' } })).body, '789');
    const beyond = await signed('GET', '/edge-bucket/range', { headers: { range: 'bytes=10-' } });
    assert.equal(beyond.status, 416);
    assert.equal(errorCode(beyond), 'InvalidRange');
  });

  test('a refused request whose body is still arriving, on a closing connection, still gets its error (no reset)', async () => {
    // The body is sent in one write while the server has already refused the request: without
    // reading the rest first, closing the connection resets it and the 403 can be lost.
    const body = randomBytes(3 * 1024 * 1024);
    for (let i = 0; i < 10; i++) {
      const head = `PUT /edge-bucket/unsigned-${i} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
      const received = await new Promise<{ text: string; error: string | undefined }>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port });
        const chunks: Buffer[] = [];
        let error: string | undefined;
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('error', (e) => (error = e.message));
        socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString('latin1'), error }));
        socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
      });
      assert.match(received.text, /^HTTP\/1\.1 403 /, `attempt ${i}: ${received.error ?? 'no socket error'}; got ${JSON.stringify(received.text.slice(0, 80))}`);
      assert.match(received.text, /<Code>AccessDenied<\/Code>/);
    }
  });
});
