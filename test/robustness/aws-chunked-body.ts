// aws-chunked request bodies, valid and deliberately broken, in the two forms clients send most:
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD (every chunk signed, chained from the request's signature)
// and STREAMING-UNSIGNED-PAYLOAD-TRAILER (plain chunks, a checksum trailer). Layout per
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and sigv4-streaming-trailers.html.
import { createHash, createHmac } from 'node:crypto';
import { crc32 } from '@aws-crypto/crc32';
import { REGION } from '../support/vault-server.js';

export type ChunkedMode = 'signed' | 'unsigned-trailer';

export const CHUNKED_MUTATIONS = [
  'none',
  'truncate',
  'flip-byte',
  'bad-size',
  'oversize-chunk',
  'drop-crlf',
  'drop-final',
  'append-junk',
  'bad-signature',
  'wrong-trailer-checksum',
  'missing-trailer',
  'garbage-trailer',
  'long-line',
  'extension',
] as const;
export type ChunkedMutation = (typeof CHUNKED_MUTATIONS)[number];

export interface ChunkedPlan {
  readonly mode: ChunkedMode;
  readonly payload: Buffer;
  readonly chunkSize: number;
  readonly mutation: ChunkedMutation;
  /** Where (as a fraction of the body) truncate and flip-byte act. */
  readonly at: number;
  /** The size text bad-size puts in the first chunk header. */
  readonly badSize: string;
}

export const PAYLOAD_KIND: Readonly<Record<ChunkedMode, string>> = {
  signed: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'unsigned-trailer': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
};

/** What the chunk signatures chain from: the signed request's own signature, date and scope. */
export interface ChunkSigning {
  readonly seedSignature: string;
  readonly amzDate: string;
  readonly secretAccessKey: string;
}

const EMPTY_SHA256 = createHash('sha256').digest('hex');

function signingKey(secret: string, shortDate: string): Buffer {
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(shortDate).digest();
  for (const part of [REGION, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return key;
}

/** The headers that announce an aws-chunked body (besides x-amz-content-sha256, which the signer sets). */
export function chunkedHeaders(plan: ChunkedPlan): Record<string, string> {
  return {
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(plan.payload.length),
    ...(plan.mode === 'unsigned-trailer' ? { 'x-amz-trailer': 'x-amz-checksum-crc32' } : {}),
  };
}

/** Encodes `plan.payload` as aws-chunked, then applies `plan.mutation`. */
export function encodeChunked(plan: ChunkedPlan, signing: ChunkSigning | undefined): Buffer {
  const { mutation } = plan;
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < plan.payload.length; offset += plan.chunkSize) {
    chunks.push(plan.payload.subarray(offset, offset + plan.chunkSize));
  }
  chunks.push(Buffer.alloc(0));

  let previous = signing?.seedSignature ?? '';
  const key = signing === undefined ? undefined : signingKey(signing.secretAccessKey, signing.amzDate.slice(0, 8));
  const scope = signing === undefined ? '' : `${signing.amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const parts: Buffer[] = [];
  for (const [index, data] of chunks.entries()) {
    const first = index === 0;
    const final = data.length === 0;
    if (final && mutation === 'drop-final') break;
    let size = data.length.toString(16);
    if (first && mutation === 'bad-size') size = plan.badSize;
    if (first && !final && mutation === 'oversize-chunk') size = (data.length + 1 + Math.floor(plan.at * 1000)).toString(16);
    let header = size;
    if (plan.mode === 'signed' && key !== undefined && signing !== undefined) {
      const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, scope, previous, EMPTY_SHA256, createHash('sha256').update(data).digest('hex')].join('\n');
      let signature = createHmac('sha256', key).update(stringToSign).digest('hex');
      previous = signature;
      if (mutation === 'bad-signature' && (first || final)) signature = '0'.repeat(64);
      header += `;chunk-signature=${signature}`;
    } else if (first && (mutation === 'extension' || mutation === 'bad-signature')) {
      header += ';chunk-signature=' + '0'.repeat(64);
    }
    if (first && mutation === 'extension' && plan.mode === 'signed') header += ';x=y';
    if (first && mutation === 'long-line') header += `;${'a'.repeat(100_000)}`;
    parts.push(Buffer.from(`${header}\r\n`, 'latin1'));
    if (!final) {
      parts.push(data);
      if (!(first && mutation === 'drop-crlf')) parts.push(Buffer.from('\r\n'));
    }
  }
  if (mutation !== 'drop-final') parts.push(Buffer.from(trailer(plan), 'latin1'));

  let body = Buffer.concat(parts);
  const at = Math.min(body.length - 1, Math.floor(plan.at * body.length));
  if (mutation === 'truncate') body = body.subarray(0, Math.max(0, at));
  if (mutation === 'flip-byte' && body.length > 0) {
    body = Buffer.from(body);
    body[at] = body[at]! ^ (1 + Math.floor(plan.at * 254));
  }
  if (mutation === 'append-junk') body = Buffer.concat([body, Buffer.from('5\r\nhello\r\n0\r\n\r\n')]);
  return body;
}

function trailer(plan: ChunkedPlan): string {
  if (plan.mode === 'signed') return '\r\n';
  const checksum = (data: Buffer) => {
    const value = Buffer.alloc(4);
    value.writeUInt32BE(crc32(data) >>> 0);
    return value.toString('base64');
  };
  switch (plan.mutation) {
    case 'missing-trailer':
      return '\r\n';
    case 'wrong-trailer-checksum':
      return `x-amz-checksum-crc32:${checksum(Buffer.concat([plan.payload, Buffer.from('x')]))}\r\n\r\n`;
    case 'garbage-trailer':
      return `x-amz-checksum-crc32 ${checksum(plan.payload)}\r\nx-amz-checksum-sha1:!!\r\n\r\n`;
    default:
      return `x-amz-checksum-crc32:${checksum(plan.payload)}\r\n\r\n`;
  }
}
