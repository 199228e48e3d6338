import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpTarget } from './workload.js';

/**
 * Requests are signed by the official signer (@smithy/signature-v4), never by hand, so the
 * benchmark also proves that Holdfast accepts what AWS SDKs send.
 *
 * Signing costs ~25 µs of CPU per request even with node:crypto hashing; at 20,000 requests/s that
 * alone would eat half of one of this machine's two cores. So the 4 KiB points use presigned URLs
 * prepared before the timed window, shaped exactly like @aws-sdk/s3-request-presigner's
 * (X-Amz-Content-Sha256=UNSIGNED-PAYLOAD hoisted into the query). The 1 GiB requests, where one
 * signature is nothing next to the body, use header auth with UNSIGNED-PAYLOAD.
 */
export class BenchSigner {
  readonly #signer: SignatureV4;
  readonly #host: string;

  constructor(target: HttpTarget) {
    this.#host = `127.0.0.1:${target.port}`;
    this.#signer = new SignatureV4({
      service: 's3',
      region: target.region,
      credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
      sha256: NodeSha256,
      // S3 signs the path as sent, without the second round of escaping other services use.
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  /** A path-and-query usable for `expiresInSeconds` (SigV4 allows at most 7 days). */
  async presign(method: 'GET' | 'PUT', path: string, expiresInSeconds: number): Promise<string> {
    const signed = await this.#signer.presign(
      {
        method,
        protocol: 'http:',
        hostname: '127.0.0.1',
        path,
        query: {},
        headers: { host: this.#host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { expiresIn: expiresInSeconds },
    );
    const query = Object.entries(signed.query ?? {})
      .flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((v) => `${rfc3986(name)}=${rfc3986(v ?? '')}`),
      )
      .join('&');
    return `${path}?${query}`;
  }

  /** Headers (with Authorization) for a header-auth request whose body is not hashed. */
  async signHeaders(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<Record<string, string>> {
    const signed = await this.#signer.sign({
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      path,
      query: {},
      headers: { ...headers, host: this.#host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    return signed.headers;
  }
}

/** RFC 3986 unreserved characters stay; everything else is percent-encoded, as SigV4 requires. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 / HMAC-SHA256 over node:crypto (OpenSSL), twice as fast as the pure-JS @aws-crypto/sha256-js. */
class NodeSha256 {
  readonly #secret: Buffer | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : toBuffer(secret);
    this.#hash = this.#fresh();
  }

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }

  reset(): void {
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
