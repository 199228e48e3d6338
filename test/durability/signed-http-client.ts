// A lean SigV4-signing S3 client over node:http, for tests that need what the AWS SDK hides:
// exact control of the path bytes and headers, UNSIGNED-PAYLOAD streaming of huge bodies, and
// many small requests without the SDK's per-request overhead. Requests are signed by the official
// signer (@smithy/signature-v4), so a signature the server refuses is the server's problem.
import { Agent, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import type { Readable } from 'node:stream';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { REGION } from '../support/vault-server.js';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

type SignableRequest = Parameters<SignatureV4['presign']>[0];

export interface SignInput {
  readonly method: string;
  /** The request path exactly as it goes on the wire (already percent-encoded, see `keyPath`). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** The x-amz-content-sha256 value: a hex SHA-256, UNSIGNED-PAYLOAD, or a STREAMING-* kind. */
  readonly payloadHash: string;
  /** Headers to send but leave out of the signature (lower case). */
  readonly unsignedHeaders?: readonly string[];
  /** Default: now. */
  readonly signingDate?: Date;
}

export interface SignedHead {
  /** Path and query string, ready for the request line. */
  readonly target: string;
  readonly headers: Record<string, string>;
}

/** AWS's URI encoding (SigV4 "UriEncode"): every byte but A-Z a-z 0-9 - . _ ~ is %XX. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `/bucket/key` with the key encoded once and its slashes kept, as the SDKs send it path-style. */
export function keyPath(bucket: string, key: string): string {
  return `/${bucket}/${key.split('/').map(uriEncode).join('/')}`;
}

export function queryString(query: Readonly<Record<string, string>>): string {
  return Object.entries(query)
    .map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`)
    .join('&');
}

/** Signs requests for one endpoint with the official SigV4 signer. */
export class RequestSigner {
  readonly #signer: SignatureV4;
  readonly host: string;
  readonly hostname: string;
  readonly port: number;

  constructor(endpoint: string, credentials: Credentials) {
    const url = new URL(endpoint);
    this.host = url.host;
    this.hostname = url.hostname;
    this.port = Number(url.port);
    this.#signer = new SignatureV4({
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      region: REGION,
      service: 's3',
      sha256: Sha256,
      // S3 signs the path as sent (encoded once), not re-encoded and normalised like other services.
      uriEscapePath: false,
    });
  }

  async sign(input: SignInput): Promise<SignedHead> {
    const query = input.query ?? {};
    const request: SignableRequest = {
      method: input.method,
      protocol: 'http:',
      hostname: this.hostname,
      port: this.port,
      path: input.path,
      query: { ...query },
      headers: { ...input.headers, host: this.host, 'x-amz-content-sha256': input.payloadHash },
    };
    const signed = await this.#signer.sign(request, {
      ...(input.unsignedHeaders === undefined ? {} : { unsignableHeaders: new Set(input.unsignedHeaders) }),
      ...(input.signingDate === undefined ? {} : { signingDate: input.signingDate }),
    });
    const qs = queryString(query);
    return { target: qs === '' ? input.path : `${input.path}?${qs}`, headers: { ...signed.headers } };
  }
}

export interface SendInput extends SignInput {
  readonly body?: Buffer | Readable;
}

export interface BufferedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface ClientOptions {
  /** A request fails when its socket is idle this long. Default 30 s. */
  readonly idleTimeoutMs?: number;
  readonly maxSockets?: number;
}

/** Signed requests over keep-alive sockets; every request is bounded by an idle timeout. */
export class SignedS3Client {
  readonly signer: RequestSigner;
  readonly #agent: Agent;
  readonly #idleTimeoutMs: number;

  constructor(endpoint: string, credentials: Credentials, options: ClientOptions = {}) {
    this.signer = new RequestSigner(endpoint, credentials);
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 16 });
  }

  /** Closes the pooled sockets. */
  close(): void {
    this.#agent.destroy();
  }

  /** Sends the request and resolves with the response head; the caller must consume the body. */
  async open(input: SendInput): Promise<IncomingMessage> {
    const head = await this.signer.sign(input);
    const what = `${input.method} ${head.target}`;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({
        host: this.signer.hostname,
        port: this.signer.port,
        method: input.method,
        path: head.target,
        headers: head.headers,
        agent: this.#agent,
        timeout: this.#idleTimeoutMs,
      });
      req.on('timeout', () => req.destroy(new Error(`${what}: socket idle for ${this.#idleTimeoutMs} ms`)));
      req.on('error', (error) => reject(new Error(`${what}: ${error.message}`, { cause: error })));
      req.on('response', resolve);
      const body = input.body;
      if (body === undefined || Buffer.isBuffer(body)) {
        req.end(body);
      } else {
        body.on('error', (error) => req.destroy(error));
        body.pipe(req);
      }
    });
  }

  /** Sends the request and reads the whole response body. Rejects if the response is cut short. */
  async send(input: SendInput): Promise<BufferedResponse> {
    const res = await this.open(input);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    if (!res.complete) throw new Error(`${input.method} ${input.path}: response cut short`);
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
  }
}

/** The `<Code>` of an S3 XML error body, if it is one. */
export function s3ErrorCode(body: Buffer | string): string | undefined {
  return /<Error>\s*<Code>([^<]*)<\/Code>/.exec(body.toString())?.[1];
}

/** A one-line description of a response for assertion messages. */
export function describeResponse(response: BufferedResponse): string {
  const text = response.body.toString('utf8');
  return `${response.status} ${text.length > 600 ? `${text.slice(0, 600)}…` : text}`;
}

/** Undoes XML escaping in a text node or attribute value. */
export function unescapeXml(text: string): string {
  const named: Readonly<Record<string, string>> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
  return text.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (entity: string, name: string) => {
    if (named[name] !== undefined) return named[name];
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}
