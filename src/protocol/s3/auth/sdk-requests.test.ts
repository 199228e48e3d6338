import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { crc32 } from '@aws-crypto/crc32';
import {
  DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { buildQueryString } from '@smithy/core/protocols';
import type { HttpRequest } from '@smithy/types';
import { isS3Error } from '../../../domain/errors.js';
import { ManualClock } from '../../../infra/clock.js';
import { createAwsChunkedDecoder, declaredTrailers } from './aws-chunked.js';
import { createSha256PayloadVerifier } from './payload-verification.js';
import { authenticateRequest, type SecretLookup, type SigningRequest } from './sigv4.js';

// Real requests from @aws-sdk/client-s3, captured at the HTTP handler: exactly what the SDK would
// put on the wire (the query serialised by the SDK's own buildQueryString, as its Node handler does).

const AKID = 'AKIDSDKCAPTURE';
const SECRET = 'sdk/capture+secret';
const lookup: SecretLookup = (id) => (id === AKID ? SECRET : undefined);
const SIGNING_MS = Date.UTC(2030, 10, 20, 6, 15, 0);

function capturingClient(): { client: S3Client; last: () => HttpRequest } {
  let captured: HttpRequest | undefined;
  const requestHandler = {
    handle: async (request: HttpRequest) => {
      captured = request;
      return { response: { statusCode: 200, headers: {}, body: Readable.from([]) } };
    },
  };
  const client = new S3Client({
    region: 'eu-central-1',
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
    // Pins the SDK's signing time, so no test depends on today's date.
    systemClockOffset: SIGNING_MS - Date.now(),
    requestHandler,
  });
  return { client, last: () => { assert.ok(captured, 'no request captured'); return captured; } };
}

function asReceived(request: HttpRequest): SigningRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = v;
  return { method: request.method, rawPath: request.path, rawQuery: buildQueryString(request.query ?? {}), headers };
}

async function readAll(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

describe('requests captured from @aws-sdk/client-s3', () => {
  const clock = new ManualClock(SIGNING_MS + 5_000);

  test('PutObject with a Buffer body: header auth, payload hash of the body', async () => {
    const { client, last } = capturingClient();
    const body = Buffer.from('immutable bytes\n');
    await client.send(new PutObjectCommand({ Bucket: 'vault', Key: "dir/ü ber+(1)!*'~.txt", Body: body, Metadata: { owner: 'ann  lee' } }));
    const auth = authenticateRequest(asReceived(last()), lookup, clock);
    assert.deepEqual(auth, {
      accessKeyId: AKID, region: 'eu-central-1', presigned: false,
      payload: { kind: 'sha256', expectedHex: createHash('sha256').update(body).digest('hex') },
    });
    assert.ok(auth?.payload.kind === 'sha256');
    const received: Buffer[] = [];
    await pipeline(Readable.from([last().body as Buffer]), createSha256PayloadVerifier(auth.payload.expectedHex), new Writable({
      write(chunk: Buffer, _e, cb): void { received.push(chunk); cb(); },
    }));
    assert.deepEqual(Buffer.concat(received), body);
    const tampered = Buffer.from(body);
    tampered[0] = 0x49;
    await assert.rejects(pipeline(Readable.from([tampered]), createSha256PayloadVerifier(auth.payload.expectedHex), new Writable({ write: (_c, _e, cb) => cb() })),
      (e: unknown) => isS3Error(e) && e.code === 'XAmzContentSHA256Mismatch');
  });

  test('PutObject with a stream body: aws-chunked STREAMING-UNSIGNED-PAYLOAD-TRAILER decodes with its CRC32 trailer', async () => {
    const { client, last } = capturingClient();
    const parts = [Buffer.alloc(100_000, 'x'), Buffer.from('small'), Buffer.alloc(3, 0)];
    const data = Buffer.concat(parts);
    await client.send(new PutObjectCommand({ Bucket: 'vault', Key: 'stream.bin', Body: Readable.from(parts), ContentLength: data.length }));
    const request = asReceived(last());
    assert.equal(request.headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    const auth = authenticateRequest(request, lookup, clock);
    assert.ok(auth !== undefined && auth.payload.kind === 'streaming-unsigned-trailer', `payload: ${auth?.payload.kind}`);

    const decoder = createAwsChunkedDecoder(auth.payload, {
      decodedContentLength: Number(request.headers['x-amz-decoded-content-length']),
      declaredTrailers: declaredTrailers(request.headers),
    });
    const out: Buffer[] = [];
    await pipeline(Readable.from([await readAll(last().body)]), decoder, new Writable({
      write(chunk: Buffer, _e, cb): void { out.push(chunk); cb(); },
    }));
    assert.deepEqual(Buffer.concat(out), data);
    const expectedCrc = Buffer.alloc(4);
    expectedCrc.writeUInt32BE(crc32(data));
    assert.equal(decoder.trailers.get('x-amz-checksum-crc32'), expectedCrc.toString('base64'));
  });

  test('GetObject with a version id', async () => {
    const { client, last } = capturingClient();
    await client.send(new GetObjectCommand({ Bucket: 'vault', Key: 'a/b c.txt', VersionId: '3/L4kqtJl+cr=' }));
    assert.equal(authenticateRequest(asReceived(last()), lookup, clock)?.payload.kind, 'sha256');
  });

  test('ListObjectsV2 with an awkward prefix, delimiter and continuation token', async () => {
    const { client, last } = capturingClient();
    await client.send(new ListObjectsV2Command({ Bucket: 'vault', Prefix: "a b/(x)*!'+ü/", Delimiter: '/', ContinuationToken: 'tok+en/==', MaxKeys: 10 }));
    const request = asReceived(last());
    assert.match(request.rawQuery, /prefix=/);
    assert.equal(authenticateRequest(request, lookup, clock)?.accessKeyId, AKID);
    // The same request with the prefix sent as a form-encoder would ('+' for space) still verifies.
    const formStyle = request.rawQuery.replace(/prefix=a%20b/, 'prefix=a+b');
    assert.notEqual(formStyle, request.rawQuery);
    assert.equal(authenticateRequest({ ...request, rawQuery: formStyle }, lookup, clock)?.accessKeyId, AKID);
  });

  test('DeleteObjects (POST ?delete with an XML body and a CRC32 header)', async () => {
    const { client, last } = capturingClient();
    await client.send(new DeleteObjectsCommand({ Bucket: 'vault', Delete: { Objects: [{ Key: 'x' }, { Key: 'y z', VersionId: 'v1' }], Quiet: true } }));
    const captured = last();
    const auth = authenticateRequest(asReceived(captured), lookup, clock);
    assert.deepEqual(auth?.payload, { kind: 'sha256', expectedHex: createHash('sha256').update(await readAll([captured.body])).digest('hex') });
  });

  test('UploadPart (partNumber and uploadId in the query)', async () => {
    const { client, last } = capturingClient();
    await client.send(new UploadPartCommand({ Bucket: 'vault', Key: 'big', PartNumber: 7, UploadId: 'VXBsb2FkIElE/+=', Body: Buffer.from('part') }));
    assert.equal(authenticateRequest(asReceived(last()), lookup, clock)?.accessKeyId, AKID);
  });

  test('the captured request fails with a wrong secret, a changed query, or 16 minutes later', async () => {
    const { client, last } = capturingClient();
    await client.send(new GetObjectCommand({ Bucket: 'vault', Key: 'k' }));
    const request = asReceived(last());
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
        return undefined;
      } catch (e) {
        return isS3Error(e) ? e.code : 'not an S3Error';
      }
    };
    assert.equal(code(() => authenticateRequest(request, () => 'wrong', clock)), 'SignatureDoesNotMatch');
    assert.equal(code(() => authenticateRequest({ ...request, rawQuery: `${request.rawQuery}&versionId=1` }, lookup, clock)), 'SignatureDoesNotMatch');
    assert.equal(code(() => authenticateRequest(request, lookup, new ManualClock(SIGNING_MS + 16 * 60_000))), 'RequestTimeTooSkewed');
  });
});
