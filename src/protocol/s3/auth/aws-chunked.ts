import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error, isS3Error, s3errors } from '../../../domain/errors.js';
import { chunkStringToSign, trailerStringToSign, type ChunkSigningContext } from './chunk-signature.js';
import { EMPTY_SHA256_HEX, sha256Hex, signatureMatches } from './signing-key.js';
import type { PayloadVerification } from './payload-verification.js';

/**
 * Decoder for `Content-Encoding: aws-chunked` bodies in their three forms:
 *
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD          `<hex>;chunk-signature=<sig>\r\n<data>\r\n` ... `0;chunk-signature=<sig>\r\n\r\n`
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  ... `0;chunk-signature=<sig>\r\n<name>:<value>\r\nx-amz-trailer-signature:<sig>\r\n\r\n`
 *   STREAMING-UNSIGNED-PAYLOAD-TRAILER          `<hex>\r\n<data>\r\n` ... `0\r\n<name>:<value>\r\n\r\n`
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 *
 * Payload bytes are passed on as they arrive (no buffering of whole chunks), so a consumer sees
 * a signed chunk's bytes before its signature has been checked: it must treat the body as
 * authentic only once this stream has ended without error.
 */
export interface AwsChunkedDecoder extends Transform {
  /** Trailing headers (lower-case name → value), complete once the stream has ended. */
  readonly trailers: ReadonlyMap<string, string>;
  /** Number of decoded payload bytes emitted so far. */
  readonly decodedBytes: number;
}

export type StreamingPayload = Extract<PayloadVerification, { kind: 'streaming-signed' | 'streaming-unsigned-trailer' }>;

export interface AwsChunkedOptions {
  /** `x-amz-decoded-content-length`; the decoded size must equal it. */
  readonly decodedContentLength?: number;
  /** Lower-case names from `x-amz-trailer`; only these may appear as trailers. */
  readonly declaredTrailers: readonly string[];
}

/** Longest chunk-header or trailer line, CRLF excluded (MinIO uses the same 4 KiB bound). */
export const MAX_LINE_BYTES = 4096;
/** "Only the last chunk is allowed to have a size less than 8192 bytes" (signed forms only). */
export const MIN_SIGNED_CHUNK_BYTES = 8192;
const MAX_TRAILERS = 16;

export function createAwsChunkedDecoder(payload: StreamingPayload, options: AwsChunkedOptions): AwsChunkedDecoder {
  const length = options.decodedContentLength;
  if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) {
    throw s3errors.invalidArgument('x-amz-decoded-content-length must be a non-negative integer', 'x-amz-decoded-content-length', String(length));
  }
  return new AwsChunkedDecoderStream(payload, options);
}

/** The names listed in `x-amz-trailer` (comma-separated), lower-cased; at most 16. */
export function declaredTrailers(headers: IncomingHttpHeaders): string[] {
  const raw = headers['x-amz-trailer'];
  const text = raw === undefined ? '' : typeof raw === 'string' ? raw : raw.join(',');
  const names = text.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  if (names.length > MAX_TRAILERS) throw s3errors.invalidArgument('Too many trailing headers declared in x-amz-trailer', 'x-amz-trailer', text);
  return names;
}

type State = 'chunk-header' | 'chunk-data' | 'chunk-data-end' | 'final-crlf' | 'trailer' | 'done';

function malformedBody(reason: string): S3Error {
  return s3errors.invalidRequest(`Malformed aws-chunked body: ${reason}`);
}

const SIGNED_HEADER = /^([0-9a-fA-F]{1,16});chunk-signature=([0-9a-fA-F]{64})[ \t]*$/;
const UNSIGNED_HEADER = /^([0-9a-fA-F]{1,16})[ \t]*(?:;.*)?$/;

class AwsChunkedDecoderStream extends Transform implements AwsChunkedDecoder {
  readonly #context: ChunkSigningContext | undefined;
  readonly #signedTrailer: boolean;
  readonly #hasTrailer: boolean;
  readonly #expectedLength: number | undefined;
  readonly #declared: ReadonlySet<string>;

  #state: State = 'chunk-header';
  /** Pieces of the line being read, and their total length (bounded by MAX_LINE_BYTES). */
  #lineParts: Buffer[] = [];
  #lineLength = 0;
  /** Bytes still to come in the current chunk. */
  #remaining = 0;
  #chunkHash: Hash | undefined;
  #chunkSignature = '';
  #previousSignature = '';
  #chunkCount = 0;
  #previousChunkSize = -1;
  /** Bytes of the CRLF after chunk data already matched (0 or 1). */
  #crlfMatched = 0;
  #decodedBytes = 0;
  readonly #trailers = new Map<string, string>();
  #trailerCanonical = '';
  #trailerSignature: string | undefined;

  constructor(payload: StreamingPayload, options: AwsChunkedOptions) {
    super();
    this.#context = payload.kind === 'streaming-signed' ? payload.context : undefined;
    this.#signedTrailer = payload.kind === 'streaming-signed' && payload.trailer;
    this.#hasTrailer = payload.kind === 'streaming-unsigned-trailer' || this.#signedTrailer;
    this.#previousSignature = this.#context?.seedSignature ?? '';
    this.#expectedLength = options.decodedContentLength;
    this.#declared = new Set(options.declaredTrailers.map((n) => n.toLowerCase()));
  }

  get trailers(): ReadonlyMap<string, string> {
    return this.#trailers;
  }

  get decodedBytes(): number {
    return this.#decodedBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk);
      callback();
    } catch (e) {
      callback(isS3Error(e) ? e : s3errors.internal(e));
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.#state !== 'done') return callback(s3errors.incompleteBody());
    callback();
  }

  #consume(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.#state) {
        case 'chunk-data': {
          const n = Math.min(this.#remaining, buf.length - pos);
          const data = buf.subarray(pos, pos + n);
          pos += n;
          this.#remaining -= n;
          this.#decodedBytes += n;
          this.#chunkHash?.update(data);
          this.push(data);
          if (this.#remaining === 0) this.#endChunkData();
          break;
        }
        case 'chunk-data-end': {
          const expected = this.#crlfMatched === 0 ? 0x0d : 0x0a;
          if (buf[pos] !== expected) throw malformedBody('chunk data is not followed by CRLF');
          pos++;
          if (++this.#crlfMatched === 2) this.#state = 'chunk-header';
          break;
        }
        case 'done':
          throw malformedBody('data follows the final chunk');
        default: {
          const line = this.#readLine(buf, pos);
          if (line === undefined) return;
          pos = line.next;
          this.#onLine(line.text);
        }
      }
    }
  }

  /** Completes a line if `buf` holds its end; otherwise keeps the piece and returns undefined. */
  #readLine(buf: Buffer, pos: number): { text: string; next: number } | undefined {
    const window = buf.subarray(pos, pos + (MAX_LINE_BYTES + 2 - this.#lineLength));
    const lf = window.indexOf(0x0a);
    if (lf === -1) {
      this.#lineLength += window.length;
      if (this.#lineLength > MAX_LINE_BYTES + 1) throw malformedBody(`line longer than ${MAX_LINE_BYTES} bytes`);
      this.#lineParts.push(Buffer.from(window));
      return undefined;
    }
    const last = window.subarray(0, lf);
    const whole = this.#lineParts.length === 0 ? last : Buffer.concat([...this.#lineParts, last]);
    this.#lineParts = [];
    this.#lineLength = 0;
    if (whole.length === 0 || whole[whole.length - 1] !== 0x0d) throw malformedBody('line does not end in CRLF');
    if (whole.length - 1 > MAX_LINE_BYTES) throw malformedBody(`line longer than ${MAX_LINE_BYTES} bytes`);
    return { text: whole.toString('latin1', 0, whole.length - 1), next: pos + lf + 1 };
  }

  #onLine(text: string): void {
    switch (this.#state) {
      case 'chunk-header': return this.#onChunkHeader(text);
      case 'final-crlf':
        if (text !== '') throw malformedBody('the final chunk is not followed by an empty line');
        return this.#finish();
      case 'trailer': return this.#onTrailerLine(text);
      default: throw s3errors.internal(new Error(`aws-chunked: no line expected in state ${this.#state}`));
    }
  }

  #onChunkHeader(text: string): void {
    const match = (this.#context === undefined ? UNSIGNED_HEADER : SIGNED_HEADER).exec(text);
    if (match === null) throw malformedBody('invalid chunk header');
    const size = parseInt(match[1] ?? '', 16);
    if (!Number.isSafeInteger(size)) throw malformedBody('chunk size too large');
    this.#chunkCount++;
    // A short chunk is only wrong once another data chunk follows it (AWS: InvalidChunkSizeError).
    if (this.#context !== undefined && size > 0 && this.#previousChunkSize >= 0 && this.#previousChunkSize < MIN_SIGNED_CHUNK_BYTES) {
      throw new S3Error('InvalidChunkSizeError', `Only the last chunk is allowed to have a size less than ${MIN_SIGNED_CHUNK_BYTES} bytes`, {
        Chunk: String(this.#chunkCount - 1),
        BadChunkSize: String(this.#previousChunkSize),
      });
    }
    this.#previousChunkSize = size;
    if (this.#expectedLength !== undefined && this.#decodedBytes + size > this.#expectedLength) throw s3errors.incompleteBody();
    this.#chunkSignature = match[2]?.toLowerCase() ?? '';
    if (size === 0) {
      this.#verifyChunk(EMPTY_SHA256_HEX);
      if (this.#expectedLength !== undefined && this.#decodedBytes !== this.#expectedLength) throw s3errors.incompleteBody();
      this.#state = this.#hasTrailer ? 'trailer' : 'final-crlf';
      return;
    }
    this.#remaining = size;
    this.#chunkHash = this.#context === undefined ? undefined : createHash('sha256');
    this.#state = 'chunk-data';
  }

  #endChunkData(): void {
    if (this.#chunkHash !== undefined) this.#verifyChunk(this.#chunkHash.digest('hex'));
    this.#chunkHash = undefined;
    this.#crlfMatched = 0;
    this.#state = 'chunk-data-end';
  }

  #verifyChunk(chunkSha256Hex: string): void {
    const context = this.#context;
    if (context === undefined) return;
    const expected = context.signingKey.sign(chunkStringToSign(context, this.#previousSignature, chunkSha256Hex));
    if (!signatureMatches(expected, this.#chunkSignature)) throw s3errors.signatureDoesNotMatch();
    this.#previousSignature = expected.toString('hex');
  }

  #onTrailerLine(text: string): void {
    if (text === '') return this.#endTrailers();
    if (this.#trailerSignature !== undefined) throw malformedBody('x-amz-trailer-signature must be the last trailer');
    const colon = text.indexOf(':');
    if (colon <= 0) throw malformedBody('invalid trailer line');
    const rawName = text.slice(0, colon).trim();
    const name = rawName.toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      if (!this.#signedTrailer) throw malformedBody('x-amz-trailer-signature in an unsigned body');
      this.#trailerSignature = value;
      return;
    }
    if (!this.#declared.has(name)) throw s3errors.invalidRequest(`The trailing header ${name} was not declared in x-amz-trailer.`);
    if (this.#trailers.has(name)) throw malformedBody(`trailer ${name} sent twice`);
    this.#trailers.set(name, value);
    this.#trailerCanonical += `${rawName}:${value}\n`;
  }

  #endTrailers(): void {
    for (const name of this.#declared) {
      if (!this.#trailers.has(name)) throw s3errors.invalidRequest(`The trailing header ${name} declared in x-amz-trailer was not sent.`);
    }
    const context = this.#context;
    if (this.#signedTrailer && context !== undefined) {
      if (this.#trailerSignature === undefined) throw s3errors.signatureDoesNotMatch();
      const expected = context.signingKey.sign(trailerStringToSign(context, this.#previousSignature, sha256Hex(this.#trailerCanonical)));
      if (!signatureMatches(expected, this.#trailerSignature)) throw s3errors.signatureDoesNotMatch();
    }
    this.#finish();
  }

  #finish(): void {
    this.#state = 'done';
  }
}
