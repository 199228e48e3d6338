import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { canonicalRequest, stringToSign } from '../protocol/s3/auth/canonical-request.js';
import { formatAmzDate } from '../protocol/s3/auth/amz-date.js';
import { deriveSigningKey } from '../protocol/s3/auth/signing-key.js';
import { canonicalUri } from '../protocol/s3/auth/uri-encoding.js';
import type { Secret } from '../domain/secret.js';

export interface AdminCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: Secret;
}

export class AdminRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminRequestError';
  }
}

/**
 * A small client for the admin API: requests signed with SigV4 (header auth, signed payload),
 * sent with node:http(s), JSON back. The CLI's only way to change a server: it never opens the
 * data directory.
 */
export type AdminMethod = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';

export class AdminClient {
  constructor(
    readonly endpoint: URL,
    readonly credentials: AdminCredentials,
    readonly region = 'us-east-1',
    /** Extra trusted CA certificates (PEM) for an https endpoint with a self-signed certificate. */
    readonly ca?: string,
  ) {}

  async call(method: AdminMethod, path: string, body?: unknown, query: Readonly<Record<string, string>> = {}): Promise<unknown> {
    const { status, text } = await this.#send(method, path, body, query);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AdminRequestError(status, 'InvalidResponse', `${this.endpoint.origin} answered ${status} without JSON: is it a Holdfast server?`);
    }
    if (status >= 400) {
      const error = (parsed as { error?: { code?: string; message?: string } }).error;
      throw new AdminRequestError(status, error?.code ?? 'Unknown', error?.message ?? `HTTP ${status}`);
    }
    return parsed;
  }

  /** For endpoints that answer with text (JSON lines): the body as it came. */
  async callText(method: AdminMethod, path: string, query: Readonly<Record<string, string>> = {}): Promise<string> {
    const { status, text } = await this.#send(method, path, undefined, query);
    if (status >= 400) {
      let error: { code?: string; message?: string } | undefined;
      try {
        error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      } catch {
        error = undefined;
      }
      throw new AdminRequestError(status, error?.code ?? 'Unknown', error?.message ?? `HTTP ${status}`);
    }
    return text;
  }

  async #send(method: AdminMethod, path: string, body: unknown, query: Readonly<Record<string, string>>): Promise<{ status: number; text: string }> {
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body), 'utf8');
    const payloadHash = createHash('sha256').update(payload).digest('hex');
    const now = Date.now();
    const amzDate = formatAmzDate(now);
    const day = amzDate.slice(0, 8);
    const rawPath = `/_holdfast/admin/v1/${path}`;
    const canonicalQuery = Object.entries(query)
      .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const target = canonicalQuery === '' ? rawPath : `${rawPath}?${canonicalQuery}`;
    const headers: Record<string, string> = {
      host: this.endpoint.host,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': payloadHash,
      'content-type': 'application/json',
      'content-length': String(payload.length),
    };
    const signedHeaders = Object.keys(headers).sort();
    const scope = `${day}/${this.region}/s3/aws4_request`;
    const canonical = canonicalRequest({ method, canonicalUri: canonicalUri(rawPath), canonicalQuery, headers, signedHeaders, payloadHash });
    const key = deriveSigningKey(this.credentials.secretAccessKey.reveal(), day, this.region, 's3');
    const signature = key.sign(stringToSign(amzDate, scope, canonical)).toString('hex');
    headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;

    const send = this.endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(this.endpoint, { method, path: target, headers, timeout: 120_000, ...(this.ca === undefined ? {} : { ca: this.ca }) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from ${this.endpoint.origin} within 120 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** RFC 3986 unreserved characters stay; everything else is %XX (SigV4's canonical query encoding). */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
