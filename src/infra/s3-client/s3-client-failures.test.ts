import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, describe, test } from 'node:test';
import { Secret } from '../../domain/secret.js';
import { generateSelfSignedCertificate } from '../tls/self-signed-certificate.js';
import { S3Client, type S3ClientOptions } from './s3-client.js';
import { s3ClientOptionsFromEnvironment } from './s3-client-environment.js';
import { isRetryable, S3IntegrityError, S3RequestError, S3TransportError } from './s3-client-errors.js';

/**
 * Failure modes a real S3 server rarely shows on demand, played by a scripted server on a real
 * socket: resets, 5xx, silence, wrong checksums, short bodies, an untrusted certificate.
 */

type Step = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

interface Scripted {
  readonly endpoint: URL;
  readonly received: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[];
}

const servers: Server[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function scriptedServer(steps: Step[], server: Server = createHttpServer(), protocol: 'http' | 'https' = 'http'): Promise<Scripted> {
  const received: Scripted['received'] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const step = steps.shift() ?? ((_q, r) => r.writeHead(599).end());
      step(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: new URL(`${protocol}://127.0.0.1:${port}`),
    received,
  };
}

const reset: Step = (req) => req.socket.destroy();
const status =
  (code: number, errorCode?: string, headers: Record<string, string> = {}): Step =>
  (_req, res) => {
    const body = errorCode === undefined ? '' : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${errorCode}</Code><Message>scripted &amp; said so</Message><RequestId>R1</RequestId></Error>`;
    res.writeHead(code, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)), ...headers }).end(body);
  };
const silence: Step = () => undefined;

const credentials = { accessKeyId: 'HFTESTKEY', secretAccessKey: new Secret('scripted-secret'), source: 'test' } as const;

function clientFor(endpoint: URL, over: Partial<S3ClientOptions> = {}): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', credentials, sleep: async () => undefined, ...over });
}

function sha256(bytes: Uint8Array, encoding: 'hex' | 'base64'): string {
  return createHash('sha256').update(bytes).digest(encoding);
}

describe('S3 client failure handling', { timeout: 60_000 }, () => {
  test('a reset connection and a 500 are retried with the whole body each time; the third attempt succeeds', async () => {
    const body = Buffer.from('segment bytes');
    const server = await scriptedServer([reset, status(500, 'InternalError'), status(200, undefined, { etag: '"e"', 'x-amz-checksum-sha256': sha256(body, 'base64') })]);
    const client = clientFor(server.endpoint);
    try {
      const put = await client.putObject({ bucket: 'b', key: 'k', body: { kind: 'bytes', bytes: body }, createOnly: true });
      assert.equal(put.etag, '"e"');
    } finally {
      client.close();
    }
    assert.equal(server.received.length, 3);
    for (const request of server.received) {
      assert.equal(request.method, 'PUT');
      assert.equal(request.url, '/b/k');
      assert.deepEqual(request.body, body);
      assert.equal(request.headers['x-amz-content-sha256'], sha256(body, 'hex'));
      assert.equal(request.headers['x-amz-checksum-sha256'], sha256(body, 'base64'));
      assert.equal(request.headers['if-none-match'], '*');
      assert.match(String(request.headers['authorization']), /^AWS4-HMAC-SHA256 Credential=HFTESTKEY\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=[^,]*if-none-match[^,]*, Signature=[0-9a-f]{64}$/);
    }
  });

  test('a file body is sent again in full on a retry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-s3-retry-'));
    try {
      const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
      await writeFile(join(dir, 'f'), bytes);
      const server = await scriptedServer([status(503, 'SlowDown'), status(200)]);
      const client = clientFor(server.endpoint);
      try {
        await client.putObject({ bucket: 'b', key: 'f', body: { kind: 'file', path: join(dir, 'f') } });
      } finally {
        client.close();
      }
      assert.equal(server.received.length, 2);
      assert.ok(server.received.every((r) => r.body.equals(bytes)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('CompleteMultipartUpload: an InternalError in a 200 body is retried; the next attempt completes', async () => {
    const done = '<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"e-1"</ETag></CompleteMultipartUploadResult>';
    const server = await scriptedServer([
      status(200, 'InternalError'),
      (_req, res) => res.writeHead(200, { 'content-type': 'application/xml', 'x-amz-version-id': 'v2' }).end(done),
    ]);
    const client = clientFor(server.endpoint);
    try {
      const completed = await client.completeMultipartUpload({ bucket: 'b', key: 'k', uploadId: 'u1', parts: [{ etag: '"p1"', checksumSha256: 'AAAA' }] });
      assert.equal(completed.versionId, 'v2');
    } finally {
      client.close();
    }
    assert.deepEqual(server.received.map((r) => r.method), ['POST', 'POST']);
  });

  test('CompleteMultipartUpload: NoSuchUpload on a retry after a lost answer is confirmed by a HEAD of the key; on the first attempt it is final', async () => {
    const server = await scriptedServer([reset, status(404, 'NoSuchUpload'), status(200, undefined, { 'x-amz-version-id': 'v9', 'content-length': '0' })]);
    const client = clientFor(server.endpoint);
    try {
      const completed = await client.completeMultipartUpload({ bucket: 'b', key: 'k', uploadId: 'u1', parts: [{ etag: '"p1"', checksumSha256: 'AAAA' }] });
      assert.equal(completed.versionId, 'v9');
      assert.deepEqual(server.received.map((r) => `${r.method} ${r.url}`), ['POST /b/k?uploadId=u1', 'POST /b/k?uploadId=u1', 'HEAD /b/k']);
      const again = await scriptedServer([status(404, 'NoSuchUpload')]);
      const fresh = clientFor(again.endpoint);
      try {
        await assert.rejects(fresh.completeMultipartUpload({ bucket: 'b', key: 'k', uploadId: 'u1', parts: [] }), (e: unknown) => e instanceof S3RequestError && e.code === 'NoSuchUpload');
      } finally {
        fresh.close();
      }
      assert.equal(again.received.length, 1);
    } finally {
      client.close();
    }
  });

  test('a 4xx answer is final: one request, its code, status and message', async () => {
    const server = await scriptedServer([status(403, 'AccessDenied'), status(200)]);
    const client = clientFor(server.endpoint);
    try {
      await assert.rejects(
        client.putObject({ bucket: 'b', key: 'k', body: { kind: 'bytes', bytes: Buffer.from('x') } }),
        (e: unknown) =>
          e instanceof S3RequestError && e.code === 'AccessDenied' && e.status === 403 && e.requestId === 'R1' && e.message === 'PutObject s3://b/k: AccessDenied (HTTP 403): scripted & said so',
      );
    } finally {
      client.close();
    }
    assert.equal(server.received.length, 1);
  });

  test('a server that goes silent times the attempt out (ETIMEDOUT), which is retried, then reported', async () => {
    const server = await scriptedServer([silence, silence]);
    const client = clientFor(server.endpoint, { idleTimeoutMs: 150, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    try {
      await assert.rejects(client.headObject({ bucket: 'b', key: 'k' }), (e: unknown) => e instanceof S3TransportError && e.causeCode === 'ETIMEDOUT' && isRetryable(e));
    } finally {
      client.close();
    }
    assert.equal(server.received.length, 2);
  });

  test('a GET body that does not match its stored checksum fails the stream with S3IntegrityError', async () => {
    const stored = Buffer.from('what was stored');
    const served = Buffer.from('what was served');
    const server = await scriptedServer([
      (_req, res) => {
        res.writeHead(200, { 'content-length': String(served.length), 'x-amz-checksum-sha256': sha256(stored, 'base64'), 'x-amz-checksum-type': 'FULL_OBJECT' }).end(served);
      },
    ]);
    const client = clientFor(server.endpoint);
    try {
      const got = await client.getObject({ bucket: 'b', key: 'k' });
      assert.equal(got.checksumVerified, true);
      await assert.rejects(buffer(got.body), (e: unknown) => e instanceof S3IntegrityError && e.what === 'SHA256 checksum' && e.expected === sha256(stored, 'base64'));
    } finally {
      client.close();
    }
    assert.equal(server.received[0]?.headers['x-amz-checksum-mode'], 'ENABLED');
  });

  test('a GET body cut short fails the stream', async () => {
    const server = await scriptedServer([
      (_req, res) => {
        res.writeHead(200, { 'content-length': '1000' });
        res.write(Buffer.alloc(10));
        setTimeout(() => res.socket?.destroy(), 20);
      },
    ]);
    const client = clientFor(server.endpoint);
    try {
      const got = await client.getObject({ bucket: 'b', key: 'k' });
      await assert.rejects(buffer(got.body));
    } finally {
      client.close();
    }
  });

  test('a PutObject answer with another stored checksum than the one sent is an integrity error', async () => {
    const server = await scriptedServer([status(200, undefined, { 'x-amz-checksum-sha256': sha256(Buffer.from('other'), 'base64') })]);
    const client = clientFor(server.endpoint);
    try {
      await assert.rejects(client.putObject({ bucket: 'b', key: 'k', body: { kind: 'bytes', bytes: Buffer.from('mine') } }), S3IntegrityError);
    } finally {
      client.close();
    }
  });

  test('https: a self-signed certificate is trusted through AWS_CA_BUNDLE, and refused (not retried) without it', async () => {
    const cert = generateSelfSignedCertificate({ commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], validDays: 1, now: new Date() });
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-s3-tls-'));
    try {
      await writeFile(join(dir, 'ca.pem'), cert.certPem);
      const server = await scriptedServer([status(200, undefined, { 'content-length': '0' }), status(200)], createHttpsServer({ cert: cert.certPem, key: cert.keyPem.reveal() }), 'https');
      assert.equal(server.endpoint.protocol, 'https:');
      const env = { AWS_ACCESS_KEY_ID: 'HFTESTKEY', AWS_SECRET_ACCESS_KEY: 'scripted-secret', AWS_CA_BUNDLE: join(dir, 'ca.pem'), AWS_REGION: 'eu-west-3' };
      const options = s3ClientOptionsFromEnvironment(server.endpoint.href, env);
      assert.equal(options.region, 'eu-west-3');
      const trusting = new S3Client(options);
      try {
        await trusting.headObject({ bucket: 'b', key: 'k' });
      } finally {
        trusting.close();
      }
      const { ca: _ca, ...untrusting } = options;
      const refusing = new S3Client({ ...untrusting, sleep: () => Promise.reject(new Error('a TLS failure must not be retried')) });
      try {
        await assert.rejects(refusing.headObject({ bucket: 'b', key: 'k' }), (e: unknown) => e instanceof S3TransportError && !isRetryable(e));
      } finally {
        refusing.close();
      }
      assert.equal(server.received.length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
