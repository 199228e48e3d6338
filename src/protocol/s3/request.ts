import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { S3Error, s3errors } from '../../domain/errors.js';
import { type IntegrityExpectations, ingestBody } from '../../domain/ingest.js';
import type { BlobStore } from '../../domain/ports.js';
import { parseChecksumAlgorithm } from '../../infra/checksum/checksum.js';
import { createAwsChunkedDecoder, declaredTrailers } from './auth/aws-chunked.js';
import type { AuthenticatedRequest } from './auth/sigv4.js';
import type { RequestAuthorizer } from './authorization.js';
import type { Principal } from '../../domain/identity/principal.js';
import type { AccessTarget } from '../../domain/identity/access-control.js';
import type { QueryParameters } from './query-parameters.js';

/** One S3 request after addressing and authentication, as operations see it. */
export interface S3Request {
  readonly id: string;
  readonly method: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: QueryParameters;
  readonly headers: IncomingHttpHeaders;
  readonly auth: AuthenticatedRequest;
  /** Who signed the request. */
  readonly principal: Principal;
  /**
   * Refuses (AccessDenied) unless the principal may perform `action` on `target` (default: this
   * request's bucket and key). `facts` adds condition keys the operation learned from the body.
   */
  authorize(action: string, target?: AccessTarget, facts?: Readonly<Record<string, string>>): Promise<void>;
  /** Like authorize, but answers instead of throwing (for permissions that change behaviour, e.g. the bypass header). */
  allows(action: string, target?: AccessTarget, facts?: Readonly<Record<string, string>>): Promise<boolean>;
  /**
   * `x-amz-bypass-governance-retention: true`, honoured only when the principal holds
   * s3:BypassGovernanceRetention (as in S3: without the permission the header changes nothing).
   */
  bypassGovernance(target?: AccessTarget): Promise<boolean>;
  /** Records an observation for the audit log and alerts (e.g. Object Lock refused a delete). */
  note(note: RequestNote): void;
  readonly notes: readonly RequestNote[];
  /** True once bypassGovernance() granted the bypass for this request. */
  readonly bypassGovernanceHonoured: boolean;
  /** The payload size the client declared (x-amz-decoded-content-length for aws-chunked). */
  readonly declaredSize: number | undefined;
  /** The payload, decoded from aws-chunked framing when needed. Read it once. */
  body(): AsyncIterable<Uint8Array>;
  /** What the client promised about the payload; checksum trailers resolve after the body ended. */
  integrity(): IntegrityExpectations;
  /** Reads a small body (XML) fully, refusing more than `maxBytes`, and verifies its integrity headers. */
  readSmallBody(maxBytes: number): Promise<Buffer>;
  header(name: string): string | undefined;
}

/** Something an operation observed that the audit log and the alert rules should know about. */
export interface RequestNote {
  /**
   * `write-once-conflict`: a create-only PUT (If-None-Match: *) of an archived WAL file was
   * refused because the archive holds a DIFFERENT file under that name (by the digests both
   * carry in x-amz-meta-holdfast-wal-sha256); a retried identical push is not noted.
   */
  readonly kind: 'locked-delete-denied' | 'locked-retention-change-denied' | 'write-once-conflict';
  readonly key: string;
  readonly versionId: string | undefined;
  readonly message: string;
}

export interface S3Response {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer | Readable;
}

const STREAMING_KINDS = new Set(['streaming-signed', 'streaming-unsigned-trailer']);

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseSize(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value)) throw s3errors.invalidArgument(`${name} is not a valid size.`, name, value);
  return Number(value);
}

export function buildS3Request(
  message: IncomingMessage,
  init: {
    readonly id: string;
    readonly bucket: string | undefined;
    readonly key: string | undefined;
    readonly query: QueryParameters;
    readonly auth: AuthenticatedRequest;
    readonly principal: Principal;
    readonly authorizer: RequestAuthorizer;
    readonly blobs: BlobStore;
  },
): S3Request {
  const headers = message.headers;
  const payload = init.auth.payload;
  const streaming = STREAMING_KINDS.has(payload.kind);
  const declaredSize = streaming
    ? parseSize(headerValue(headers, 'x-amz-decoded-content-length'), 'x-amz-decoded-content-length')
    : parseSize(headerValue(headers, 'content-length'), 'Content-Length');
  if (streaming && declaredSize === undefined && headerValue(headers, 'transfer-encoding') === undefined) {
    throw s3errors.missingContentLength();
  }

  let consumed = false;
  let trailers: ReadonlyMap<string, string> | undefined;

  const trailerNames = declaredTrailers(headers);

  function body(): AsyncIterable<Uint8Array> {
    if (consumed) throw s3errors.internal(new Error('request body read twice'));
    consumed = true;
    if (payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer') {
      const decoder = createAwsChunkedDecoder(payload, {
        ...(declaredSize === undefined ? {} : { decodedContentLength: declaredSize }),
        declaredTrailers: trailerNames,
      });
      // The operation may look up metadata before it reads; a decode error raised meanwhile must
      // not be an unhandled 'error' event (it would end the process). The reader still gets it.
      decoder.on('error', () => undefined);
      message.on('error', (e) => decoder.destroy(e));
      message.on('aborted', () => decoder.destroy(s3errors.incompleteBody()));
      message.pipe(decoder);
      trailers = decoder.trailers;
      return decoder;
    }
    return guardAgainstAbort(message);
  }

  function integrity(): IntegrityExpectations {
    const md5Header = headerValue(headers, 'content-md5');
    let contentMd5: Buffer | undefined;
    if (md5Header !== undefined) {
      contentMd5 = Buffer.from(md5Header, 'base64');
      if (contentMd5.length !== 16 || !/^[A-Za-z0-9+/]{22}==$/.test(md5Header.trim())) throw s3errors.invalidDigest();
    }
    const checksumHeaders = Object.keys(headers).filter(
      (name) => name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-mode' && name !== 'x-amz-checksum-type' && name !== 'x-amz-checksum-algorithm',
    );
    const checksumTrailers = trailerNames.filter((name) => name.startsWith('x-amz-checksum-'));
    if (checksumHeaders.length + checksumTrailers.length > 1) {
      throw s3errors.invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    }
    let checksum: IntegrityExpectations['checksum'];
    const checksumName = checksumHeaders[0] ?? checksumTrailers[0];
    if (checksumName !== undefined) {
      const algorithm = parseChecksumAlgorithm(checksumName.slice('x-amz-checksum-'.length));
      if (algorithm === undefined) {
        throw new S3Error('InvalidRequest', `The algorithm type you specified in ${checksumName} header is invalid.`);
      }
      const fromHeader = checksumHeaders[0] !== undefined;
      checksum = {
        algorithm,
        expected: () => (fromHeader ? headerValue(headers, checksumName) : trailers?.get(checksumName)),
      };
    }
    return {
      ...(contentMd5 === undefined ? {} : { contentMd5 }),
      ...(payload.kind === 'sha256' ? { sha256Hex: payload.expectedHex } : {}),
      ...(checksum === undefined ? {} : { checksum }),
    };
  }

  async function readSmallBody(maxBytes: number): Promise<Buffer> {
    if (declaredSize !== undefined && declaredSize > maxBytes) throw s3errors.maxMessageLengthExceeded();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of body()) {
      size += chunk.length;
      if (size > maxBytes) throw s3errors.maxMessageLengthExceeded();
      chunks.push(chunk);
    }
    const buffer = Buffer.concat(chunks);
    // Reuse the upload path's checks (Content-MD5, signed SHA-256, x-amz-checksum-*).
    await ingestBody([buffer], integrity(), {
      blobs: init.blobs,
      inlineLimit: Number.POSITIVE_INFINITY,
      declaredSize: buffer.length,
      maxSize: maxBytes,
    });
    return buffer;
  }

  let bypassHonoured = false;
  const notes: RequestNote[] = [];
  async function bypassGovernance(target?: AccessTarget): Promise<boolean> {
    if (headerValue(headers, 'x-amz-bypass-governance-retention')?.trim().toLowerCase() !== 'true') return false;
    const allowed = await init.authorizer.allows('s3:BypassGovernanceRetention', target ?? { bucket: init.bucket, key: init.key });
    bypassHonoured ||= allowed;
    return allowed;
  }

  return {
    id: init.id,
    bypassGovernance,
    note: (note) => {
      if (notes.length < 1000) notes.push(note);
    },
    notes,
    get bypassGovernanceHonoured() {
      return bypassHonoured;
    },
    method: message.method ?? 'GET',
    bucket: init.bucket,
    key: init.key,
    query: init.query,
    headers,
    auth: init.auth,
    principal: init.principal,
    authorize: (action, target, facts) => init.authorizer.authorize(action, target ?? { bucket: init.bucket, key: init.key }, facts),
    allows: (action, target, facts) => init.authorizer.allows(action, target ?? { bucket: init.bucket, key: init.key }, facts),
    declaredSize,
    body,
    integrity,
    readSmallBody,
    header: (name) => headerValue(headers, name),
  };
}

/** A client that disconnects mid-body must fail the write, never commit a short object. */
async function* guardAgainstAbort(message: IncomingMessage): AsyncGenerator<Uint8Array> {
  for await (const chunk of message) yield chunk as Buffer;
  if (!message.complete) throw s3errors.incompleteBody();
}
