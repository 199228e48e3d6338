import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { crc32c } from '@aws-crypto/crc32c';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { isS3Error, type S3ErrorCode } from '../../../domain/errors.js';
import { ManualClock } from '../../../infra/clock.js';
import { createAwsChunkedDecoder, declaredTrailers, type AwsChunkedDecoder, type StreamingPayload } from './aws-chunked.js';
import { authenticateRequest, type PayloadVerification } from './sigv4.js';

// Fixed vectors come from the AWS documentation; other signed bodies are signed with the
// official signer (SignatureV4.sign over the string-to-sign the documentation defines).

const DOC_AKID = 'AKIAIOSFODNN7EXAMPLE';
const DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DOC_TIME = Date.UTC(2013, 4, 24);
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const CRLF = Buffer.from('\r\n');

const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

async function decode(decoder: AwsChunkedDecoder, pieces: readonly Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces, { objectMode: false }), decoder, new Writable({
    write(chunk: Buffer, _encoding, callback): void {
      out.push(chunk);
      callback();
    },
  }));
  return Buffer.concat(out);
}

function splitAt(body: Buffer, points: readonly number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => p % (body.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    pieces.push(body.subarray(from, cut));
    from = cut;
  }
  pieces.push(body.subarray(from));
  return pieces.filter((p) => p.length > 0);
}

async function expectRejects(promise: Promise<unknown>, code: S3ErrorCode): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(isS3Error(e), `expected S3Error ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

function streaming(payload: PayloadVerification | undefined): StreamingPayload {
  assert.ok(payload !== undefined && (payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer'), `not streaming: ${payload?.kind}`);
  return payload;
}

/** The documentation's example request (sigv4-streaming.html, "Example: PUT Object"). */
function docRequest(trailer: boolean): StreamingPayload {
  const headers: Record<string, string> = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
  };
  if (trailer) {
    // sigv4-streaming-trailers.html, "Example: PUT Object with trailing headers"
    headers['x-amz-content-sha256'] = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
    headers['x-amz-trailer'] = 'x-amz-checksum-crc32c';
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${DOC_AKID}/20130524/us-east-1/s3/aws4_request,` +
      'SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,' +
      'Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e';
  } else {
    headers['x-amz-content-sha256'] = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${DOC_AKID}/20130524/us-east-1/s3/aws4_request,` +
      'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,' +
      'Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
  }
  const auth = authenticateRequest({ method: 'PUT', rawPath: '/examplebucket/chunkObject.txt', rawQuery: '', headers },
    (id) => (id === DOC_AKID ? DOC_SECRET : undefined), new ManualClock(DOC_TIME));
  return streaming(auth?.payload);
}

const A64K = Buffer.alloc(65536, 'a');
const A1K = Buffer.alloc(1024, 'a');

function docBody(): Buffer {
  return Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'), A64K, CRLF,
    Buffer.from('400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'), A1K, CRLF,
    Buffer.from('0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);
}

function docTrailerBody(trailerSignature = 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435'): Buffer {
  return Buffer.concat([
    Buffer.from('10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n'), A64K, CRLF,
    Buffer.from('400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n'), A1K, CRLF,
    Buffer.from('0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n'),
    Buffer.from(`x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:${trailerSignature}\r\n\r\n`),
  ]);
}

describe('STREAMING-AWS4-HMAC-SHA256-PAYLOAD: the AWS documentation example', () => {
  const expected = Buffer.concat([A64K, A1K]);

  test('the seed signature verifies and the 66560 bytes decode, whole or in pieces', async () => {
    const payload = docRequest(false);
    assert.deepEqual(await decode(createAwsChunkedDecoder(payload, { decodedContentLength: 66560, declaredTrailers: [] }), [docBody()]), expected);
    const body = docBody();
    const bytewiseHeaders = [...Array(120).keys(), ...Array.from({ length: 120 }, (_, i) => 65536 + 80 + i)];
    const decoder = createAwsChunkedDecoder(payload, { decodedContentLength: 66560, declaredTrailers: [] });
    assert.deepEqual(await decode(decoder, splitAt(body, bytewiseHeaders)), expected);
    assert.equal(decoder.decodedBytes, 66560);
    assert.equal(decoder.trailers.size, 0);
  });

  test('a tampered payload byte → SignatureDoesNotMatch', async () => {
    const body = docBody();
    body[90 + 30_000] = 'b'.charCodeAt(0);
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(false), { declaredTrailers: [] }), [body]), 'SignatureDoesNotMatch');
  });

  test('a tampered chunk signature, a swapped chunk order or a dropped chunk → SignatureDoesNotMatch', async () => {
    const body = docBody();
    const text = body.toString('latin1');
    const flipped = Buffer.from(text.replace('chunk-signature=0055', 'chunk-signature=1055'), 'latin1');
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(false), { declaredTrailers: [] }), [flipped]), 'SignatureDoesNotMatch');
    const withoutFirst = body.subarray(body.indexOf('400;chunk-signature'));
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(false), { declaredTrailers: [] }), [withoutFirst]), 'SignatureDoesNotMatch');
  });

  test('truncated anywhere → IncompleteBody', async () => {
    const body = docBody();
    for (const cut of [0, 10, 85, 86, 30_000, 65536 + 86, 65536 + 88, body.length - 3, body.length - 1]) {
      await expectRejects(decode(createAwsChunkedDecoder(docRequest(false), { declaredTrailers: [] }), [body.subarray(0, cut)]), 'IncompleteBody');
    }
  });

  test('a decoded length other than x-amz-decoded-content-length → IncompleteBody', async () => {
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(false), { decodedContentLength: 66561, declaredTrailers: [] }), [docBody()]), 'IncompleteBody');
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(false), { decodedContentLength: 1000, declaredTrailers: [] }), [docBody()]), 'IncompleteBody');
  });

  test('bytes after the final chunk are refused', async () => {
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(false), { declaredTrailers: [] }), [docBody(), Buffer.from('x')]), 'InvalidRequest');
  });
});

describe('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the AWS documentation example', () => {
  test('chunks and the signed trailer verify; the trailer is the CRC32C of the decoded bytes', async () => {
    const decoder = createAwsChunkedDecoder(docRequest(true), { decodedContentLength: 66560, declaredTrailers: ['x-amz-checksum-crc32c'] });
    const data = await decode(decoder, splitAt(docTrailerBody(), [65_700, 66_700, 66_750, 66_800]));
    assert.equal(data.length, 66560);
    assert.deepEqual([...decoder.trailers], [['x-amz-checksum-crc32c', 'sOO8/Q==']]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32c(data));
    assert.equal(crc.toString('base64'), decoder.trailers.get('x-amz-checksum-crc32c'));
  });

  test('a wrong or missing trailer signature, or an altered trailer value → SignatureDoesNotMatch', async () => {
    const options = { declaredTrailers: ['x-amz-checksum-crc32c'] };
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(true), options), [docTrailerBody('0'.repeat(64))]), 'SignatureDoesNotMatch');
    const altered = Buffer.from(docTrailerBody().toString('latin1').replace('sOO8/Q==', 'AAAAAA=='), 'latin1');
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(true), options), [altered]), 'SignatureDoesNotMatch');
    const unsigned = Buffer.from(docTrailerBody().toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(true), options), [unsigned]), 'SignatureDoesNotMatch');
  });

  test('a trailer not declared in x-amz-trailer, or a declared one missing → InvalidRequest', async () => {
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(true), { declaredTrailers: ['x-amz-checksum-crc32'] }), [docTrailerBody()]), 'InvalidRequest');
    await expectRejects(decode(createAwsChunkedDecoder(docRequest(true), { declaredTrailers: ['x-amz-checksum-crc32c', 'x-amz-checksum-sha1'] }), [docTrailerBody()]), 'InvalidRequest');
  });
});

/** Signs chunk strings-to-sign with the official signer (its key derivation and HMAC, not ours). */
class OfficialChunkSigner {
  readonly #signer: SignatureV4;
  readonly #date: Date;
  readonly amzDate: string;
  readonly scope: string;

  constructor(secret: string, region: string, date: Date) {
    this.#signer = new SignatureV4({ credentials: { accessKeyId: 'AKIDCHUNK', secretAccessKey: secret }, region, service: 's3', sha256: Sha256, uriEscapePath: false });
    this.#date = date;
    this.amzDate = date.toISOString().replace(/[-:]|\.\d{3}/g, '');
    this.scope = `${this.amzDate.slice(0, 8)}/${region}/s3/aws4_request`;
  }

  async seed(contentSha256: string, trailer: string | undefined): Promise<{ payload: StreamingPayload; signature: string }> {
    const headers: Record<string, string> = { host: 'vault.example', 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': contentSha256 };
    if (trailer !== undefined) headers['x-amz-trailer'] = trailer;
    const signed = await this.#signer.sign({ method: 'PUT', protocol: 'https:', hostname: 'vault.example', path: '/b/k', query: {}, headers }, { signingDate: this.#date });
    const auth = authenticateRequest({ method: 'PUT', rawPath: '/b/k', rawQuery: '', headers: { ...signed.headers } },
      (id) => (id === 'AKIDCHUNK' ? 'chunk-secret' : undefined), new ManualClock(this.#date.getTime()));
    const signature = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization ?? '')?.[1] ?? '';
    return { payload: streaming(auth?.payload), signature };
  }

  /** A complete signed body per sigv4-streaming(-trailers).html. */
  async body(seed: string, chunks: readonly Buffer[], trailers?: readonly (readonly [string, string])[]): Promise<Buffer> {
    const parts: Buffer[] = [];
    let previous = seed;
    for (const data of [...chunks, Buffer.alloc(0)]) {
      const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', this.amzDate, this.scope, previous, EMPTY_SHA256, sha256Hex(data)].join('\n');
      previous = await this.#signer.sign(stringToSign, { signingDate: this.#date });
      parts.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${previous}\r\n`));
      if (data.length > 0) parts.push(data, CRLF);
    }
    if (trailers === undefined) {
      parts.push(CRLF);
    } else {
      const lines = trailers.map(([n, v]) => `${n}:${v}\n`).join('');
      const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', this.amzDate, this.scope, previous, sha256Hex(lines)].join('\n');
      const trailerSignature = await this.#signer.sign(stringToSign, { signingDate: this.#date });
      parts.push(Buffer.from(`${lines.replace(/\n/g, '\r\n')}x-amz-trailer-signature:${trailerSignature}\r\n\r\n`));
    }
    return Buffer.concat(parts);
  }
}

describe('signed bodies from the official signer', () => {
  const chunkSigner = new OfficialChunkSigner('chunk-secret', 'eu-north-1', new Date(Date.UTC(2032, 6, 9, 23, 59, 30)));

  test('round trip for random sizes and random framing (fast-check)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 8192, max: 20_000 }), { maxLength: 3 }), fc.integer({ min: 1, max: 9000 }), fc.boolean(),
      fc.array(fc.nat(), { maxLength: 8 }),
      async (sizes, lastSize, withTrailer, cuts) => {
        const chunks = [...sizes, lastSize].map((n, i) => Buffer.alloc(n, i + 1));
        const { payload, signature } = await chunkSigner.seed(
          withTrailer ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', withTrailer ? 'x-amz-checksum-sha256' : undefined);
        const body = await chunkSigner.body(signature, chunks, withTrailer ? [['x-amz-checksum-sha256', 'c2hhMjU2']] : undefined);
        const expected = Buffer.concat(chunks);
        const decoder = createAwsChunkedDecoder(payload, { decodedContentLength: expected.length, declaredTrailers: withTrailer ? ['x-amz-checksum-sha256'] : [] });
        assert.deepEqual(await decode(decoder, splitAt(body, cuts)), expected);
        assert.equal(decoder.trailers.get('x-amz-checksum-sha256'), withTrailer ? 'c2hhMjU2' : undefined);
      }), { numRuns: 40 });
  });

  test('a non-final chunk under 8 KiB → InvalidChunkSizeError; a short last chunk is fine', async () => {
    const { payload, signature } = await chunkSigner.seed('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', undefined);
    const short = await chunkSigner.body(signature, [Buffer.alloc(8191, 1), Buffer.alloc(9000, 2)]);
    await assert.rejects(decode(createAwsChunkedDecoder(payload, { declaredTrailers: [] }), [short]), (e: unknown) =>
      isS3Error(e) && e.code === 'InvalidChunkSizeError' && e.details.Chunk === '1' && e.details.BadChunkSize === '8191');
    const fine = await chunkSigner.body(signature, [Buffer.alloc(8192, 1), Buffer.alloc(5, 2)]);
    assert.equal((await decode(createAwsChunkedDecoder(payload, { declaredTrailers: [] }), [fine])).length, 8197);
  });

  test('an oversize chunk header line → InvalidRequest, without reading on', async () => {
    const { payload } = await chunkSigner.seed('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', undefined);
    const line = Buffer.concat([Buffer.from('10;chunk-signature='), Buffer.alloc(5000, 'a'), CRLF]);
    await expectRejects(decode(createAwsChunkedDecoder(payload, { declaredTrailers: [] }), splitAt(line, [7, 100, 4000])), 'InvalidRequest');
    const endless = Buffer.alloc(1 << 20, '1');
    await expectRejects(decode(createAwsChunkedDecoder(payload, { declaredTrailers: [] }), [endless]), 'InvalidRequest');
  });

  test('a chunk without a signature in a signed body → InvalidRequest', async () => {
    const { payload } = await chunkSigner.seed('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', undefined);
    await expectRejects(decode(createAwsChunkedDecoder(payload, { declaredTrailers: [] }), [Buffer.from('5\r\nhello\r\n0\r\n\r\n')]), 'InvalidRequest');
  });
});

describe('STREAMING-UNSIGNED-PAYLOAD-TRAILER', () => {
  const payload: StreamingPayload = { kind: 'streaming-unsigned-trailer' };

  test('small chunks are allowed and the trailer is collected', async () => {
    const body = Buffer.from('3\r\nabc\r\n1\r\nd\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n');
    const decoder = createAwsChunkedDecoder(payload, { decodedContentLength: 4, declaredTrailers: ['x-amz-checksum-crc32'] });
    assert.equal((await decode(decoder, splitAt(body, [1, 2, 3, 4, 5, 20, 21, 30]))).toString(), 'abcd');
    assert.equal(decoder.trailers.get('x-amz-checksum-crc32'), 'AAAAAA==');
  });

  test('a trailer signature has no place in an unsigned body', async () => {
    const body = Buffer.from(`1\r\na\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:${'0'.repeat(64)}\r\n\r\n`);
    await expectRejects(decode(createAwsChunkedDecoder(payload, { declaredTrailers: ['x-amz-checksum-crc32'] }), [body]), 'InvalidRequest');
  });

  test('an unusable decoded length is refused up front', () => {
    for (const bad of [Number.NaN, -1, 1.5]) {
      assert.throws(() => createAwsChunkedDecoder(payload, { decodedContentLength: bad, declaredTrailers: [] }), (e: unknown) => isS3Error(e) && e.code === 'InvalidArgument');
    }
  });

  test('declaredTrailers reads x-amz-trailer', () => {
    assert.deepEqual(declaredTrailers({ 'x-amz-trailer': 'X-Amz-Checksum-CRC32, x-amz-checksum-sha256' }), ['x-amz-checksum-crc32', 'x-amz-checksum-sha256']);
    assert.deepEqual(declaredTrailers({}), []);
  });

  test('arbitrary bytes, split anywhere, either decode or fail with an S3Error (fast-check)', async () => {
    const valid = Buffer.from('3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n');
    const { payload: signedPayload, signature } = await new OfficialChunkSigner('chunk-secret', 'eu-north-1', new Date(Date.UTC(2032, 0, 1))).seed('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'x-amz-checksum-crc32');
    const signedValid = await new OfficialChunkSigner('chunk-secret', 'eu-north-1', new Date(Date.UTC(2032, 0, 1)))
      .body(signature, [Buffer.alloc(8192, 7), Buffer.from('tail')], [['x-amz-checksum-crc32', 'AAAAAA==']]);
    const mutated = (base: Buffer): fc.Arbitrary<Buffer> => fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat())
      .map(([edits, cut]) => {
        const copy = Buffer.from(base);
        for (const [at, byte] of edits) copy[at % copy.length] = byte;
        return copy.subarray(0, base.length - (cut % 8 === 0 ? cut % base.length : 0));
      });
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.array(fc.constantFrom('0', '1', 'a', 'f', ';', '\r', '\n', ':', 'chunk-signature=', 'x-amz-checksum-crc32', '\r\n'), { maxLength: 60 }).map((t) => Buffer.from(t.join(''))),
      mutated(valid),
      mutated(signedValid),
    );
    const payloads: StreamingPayload[] = [payload, signedPayload];
    await fc.assert(fc.asyncProperty(bodies, fc.array(fc.nat(), { maxLength: 10 }), fc.constantFrom(0, 1), fc.option(fc.nat({ max: 9000 })),
      async (body, cuts, which, length) => {
        const decoder = createAwsChunkedDecoder(payloads[which] ?? payload, { decodedContentLength: length ?? undefined, declaredTrailers: ['x-amz-checksum-crc32'] });
        let timer: NodeJS.Timeout | undefined;
        const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('decoder hung')), 2000); });
        try {
          await Promise.race([decode(decoder, splitAt(body, cuts)), hang]);
        } catch (e) {
          assert.ok(isS3Error(e), `not an S3Error: ${String(e)}`);
        } finally {
          clearTimeout(timer);
        }
      }), { numRuns: 400 });
  });
});
