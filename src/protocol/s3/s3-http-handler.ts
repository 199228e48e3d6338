import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Error, s3errors } from '../../domain/errors.js';
import type { Clock } from '../../infra/clock.js';
import { addressRequest } from './addressing.js';
import { type SecretLookup, authenticateRequest } from './auth/sigv4.js';
import { parseQuery } from './auth/uri-encoding.js';
import type { OperationContext } from './operations/context.js';
import { type RequestNote, buildS3Request, type S3Response } from './request.js';
import { type AccessDecider, type RequestAuthorizer, createRequestAuthorizer } from './authorization.js';
import { DecodedQuery } from './query-parameters.js';
import { type S3RequestRecord, exchangeFacts } from './request-record.js';
import { routeS3 } from './router.js';
import { escapeXml } from './xml.js';

export interface S3HandlerOptions {
  readonly context: OperationContext;
  readonly secrets: SecretLookup;
  /**
   * Awaited before each request is authenticated, when identities can change in another process
   * (cluster nodes): brings `secrets` and `access` up to date, so a key created or revoked through
   * another node counts here at once.
   */
  readonly refreshIdentities?: () => Promise<void>;
  readonly access: AccessDecider;
  /** True when this listener serves HTTPS (the aws:SecureTransport condition key). */
  readonly secureTransport: boolean;
  readonly clock: Clock;
  /** Called once per request after its response, for the audit log, metrics and alerts. */
  readonly onRequestComplete?: (record: S3RequestRecord) => void;
  readonly virtualHostDomain: string | undefined;
  /** Called for 5xx failures; gets the request id and the original error (never shown to clients). */
  readonly onInternalError: (requestId: string, error: unknown) => void;
}

/** The unauthenticated health probe; `_` cannot start a bucket name, so it never shadows one. */
export const HEALTH_PATH = '/_holdfast/health';

/**
 * Request ids must be unique, not secret: a random per-process prefix and a counter, instead of
 * random bytes on every request.
 */
const requestIdPrefix = randomBytes(4).toString('hex').toUpperCase();
let requestCounter = 0;
function nextRequestId(): string {
  requestCounter = (requestCounter + 1) % 0x1_0000_0000;
  return requestIdPrefix + requestCounter.toString(16).toUpperCase().padStart(8, '0');
}

const MAX_DRAINED_BODY_BYTES = 16 * 1024 * 1024;
/** How long an error response waits for the rest of a refused body (then it is sent anyway). */
const DRAIN_TIMEOUT_MS = 10_000;

/** Discards what remains of a request body; resolves at its end, on an error or close, or after `timeoutMs`. */
function drainRequest(req: IncomingMessage, timeoutMs: number): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      req.off('end', done);
      req.off('close', done);
      req.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    req.on('end', done);
    req.on('close', done);
    req.on('error', done);
    req.resume();
  });
}

/**
 * The S3 protocol edge: addressing, SigV4 authentication, routing to one operation, and
 * rendering its response or its S3Error as XML. Everything below it speaks in domain terms.
 */
export function createS3Handler(options: S3HandlerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const requestId = nextRequestId();
    const method = req.method ?? 'GET';
    let rawUrl = req.url ?? '/';
    // Absolute-form request targets (RFC 9112 3.2.2) carry scheme and authority: drop them.
    if (!rawUrl.startsWith('/')) rawUrl = rawUrl.replace(/^[a-z]+:\/\/[^/]*/i, '') || '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    let resource = rawPath;
    const startedNs = process.hrtime.bigint();
    const startedMs = options.clock.nowMs();
    let bucket: string | undefined;
    let key: string | undefined;
    let operation: string | undefined;
    let action: string | undefined;
    let principal: S3RequestRecord['principal'];
    let accessKeyId: string | undefined;
    let authorizer: RequestAuthorizer | undefined;
    let versionId: string | undefined;
    let errorCode: string | undefined;
    let errorMessage: string | undefined;
    let bypass = false;
    let notes: readonly RequestNote[] = [];
    let bytesOut: number | undefined;
    try {
      if (!rawPath.startsWith('/')) throw s3errors.invalidUri();
      if (rawPath === HEALTH_PATH && (method === 'GET' || method === 'HEAD')) {
        await send(res, method, requestId, { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}\n' });
        return;
      }
      ({ bucket, key } = addressRequest(rawPath, req.headers.host, options.virtualHostDomain));
      resource = bucket === undefined ? '/' : key === undefined ? `/${bucket}` : `/${bucket}/${key}`;
      // Decoded once: for the signature (which needs every parameter's canonical encoding) and for routing.
      const parameters = parseQuery(rawQuery);
      const query = new DecodedQuery(parameters);
      versionId = query.get('versionId') ?? undefined;
      await options.refreshIdentities?.();
      const auth = authenticateRequest({ method, rawPath, rawQuery, query: parameters, headers: req.headers }, options.secrets, options.clock);
      if (auth === undefined) throw s3errors.accessDenied('Anonymous access is not allowed; sign requests with an access key.');
      accessKeyId = auth.accessKeyId;
      const signer = options.access.principalOf(auth.accessKeyId);
      if (signer === undefined) throw s3errors.invalidAccessKeyId();
      principal = { name: signer.name, kind: signer.kind };
      const route = routeS3(method, bucket, key, query, req.headers['x-amz-copy-source'] !== undefined);
      operation = operationName(route.operation.name);
      action = route.action;
      authorizer = createRequestAuthorizer(signer, options.access, {
        sourceIp: req.socket.remoteAddress,
        secureTransport: options.secureTransport,
        nowMs: startedMs,
        query,
      });
      if (route.action !== undefined) await authorizer.authorize(route.action, { bucket, key });
      const s3Request = buildS3Request(req, { id: requestId, bucket, key, query, auth, principal: signer, authorizer, blobs: options.context.vault.blobs });
      notes = s3Request.notes;
      const response = await route.operation(s3Request, options.context).finally(() => {
        bypass = s3Request.bypassGovernanceHonoured;
      });
      versionId = response.headers?.['x-amz-version-id'] ?? versionId;
      bytesOut = await send(res, method, requestId, response);
    } catch (error) {
      const s3error = await sendError(res, req, method, resource, requestId, error, options);
      // A request that failed authentication is still attributed to the key it claimed.
      accessKeyId ??= claimedAccessKeyId(req.headers.authorization, rawQuery);
      errorCode = s3error.code;
      errorMessage = s3error.publicMessage;
    }
    options.onRequestComplete?.({
      requestId,
      method,
      operation,
      action,
      bucket,
      key,
      versionId,
      principal,
      accessKeyId,
      errorCode,
      errorMessage,
      startedMs,
      ...exchangeFacts(req, res, startedNs, bytesOut),
      denial: authorizer?.denial,
      bypassGovernance: bypass,
      notes,
    });
  };
}

/** `putObject` → `PutObject`, the operation's name in AWS's API reference. */
function operationName(functionName: string): string {
  return functionName.charAt(0).toUpperCase() + functionName.slice(1);
}

/** The access key id a request claims, read before verification, so failed attempts are attributable. */
function claimedAccessKeyId(authorization: string | undefined, rawQuery: string): string | undefined {
  const credential = authorization === undefined ? new URLSearchParams(rawQuery).get('X-Amz-Credential') : /Credential=([^,\s]+)/.exec(authorization)?.[1];
  const id = credential?.split('/')[0];
  return id !== undefined && /^[A-Za-z0-9]{1,128}$/.test(id) ? id : undefined;
}

/**
 * Sends an operation's response; returns the Content-Length it declared. One writeHead with a
 * flat header list and nothing set before: Node then writes the list as it is, instead of
 * keeping every header in a per-response dictionary first (every request pays for that).
 * Header names are lower case throughout the S3 edge.
 */
async function send(res: ServerResponse, method: string, requestId: string, response: S3Response): Promise<number> {
  const headers = requestHeaders(requestId);
  let contentLength: string | undefined;
  const given = response.headers;
  if (given !== undefined) {
    for (const name in given) {
      if (name === 'content-length') contentLength = given[name];
      else headers.push(name, given[name]!);
    }
  }
  const body = response.body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) contentLength = String(Buffer.byteLength(body));
  else if (body === undefined && contentLength === undefined && response.status !== 204 && response.status !== 304) contentLength = '0';
  if (contentLength !== undefined) headers.push('content-length', contentLength);
  res.writeHead(response.status, headers);
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    res.end(method === 'HEAD' ? undefined : body);
  } else if (method === 'HEAD') {
    body.destroy();
    res.end();
  } else {
    await streamBody(res, body);
  }
  return Number(contentLength ?? 0);
}

/** Headers every S3 response carries, errors included. */
function requestHeaders(requestId: string): string[] {
  return ['x-amz-request-id', requestId, 'x-amz-id-2', requestId, 'server', 'Holdfast'];
}

async function streamBody(res: ServerResponse, body: Readable): Promise<void> {
  try {
    await pipeline(body, res);
  } catch {
    // Headers are gone already; the only honest signal left is a truncated response.
    res.destroy();
  }
}

/** The XML body of an S3 error response. */
function errorXml(s3error: S3Error, resource: string, requestId: string): string {
  let details = '';
  for (const [name, value] of Object.entries(s3error.details)) details += `<${name}>${escapeXml(value)}</${name}>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${s3error.code}</Code><Message>${escapeXml(s3error.publicMessage)}</Message>` +
    `${details}<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`
  );
}

/**
 * A complete HTTP/1.1 error response for a request the HTTP parser refused before any handler
 * ran (malformed request line or headers, oversized headers): still S3 XML with a request id.
 */
export function rawErrorResponse(parserErrorCode: string | undefined): string {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const s3error =
    parserErrorCode === 'HPE_HEADER_OVERFLOW'
      ? s3errors.requestHeaderSectionTooLarge()
      : new S3Error('InvalidRequest', 'The request could not be parsed as HTTP/1.1.');
  const body = errorXml(s3error, '/', requestId);
  return (
    `HTTP/1.1 ${s3error.status} ${s3error.status === 400 ? 'Bad Request' : 'Error'}\r\n` +
    `content-type: application/xml\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `x-amz-request-id: ${requestId}\r\nx-amz-id-2: ${requestId}\r\nserver: Holdfast\r\nconnection: close\r\n\r\n${body}`
  );
}

async function sendError(
  res: ServerResponse,
  req: IncomingMessage,
  method: string,
  resource: string,
  requestId: string,
  error: unknown,
  options: S3HandlerOptions,
): Promise<S3Error> {
  const s3error = error instanceof S3Error ? error : s3errors.internal(error);
  if (s3error.isServerFault) options.onInternalError(requestId, error);
  if (res.headersSent) {
    res.destroy();
    return s3error;
  }
  const idHeaders = requestHeaders(requestId);
  for (let i = 0; i < idHeaders.length; i += 2) res.setHeader(idHeaders[i]!, idHeaders[i + 1]!);
  // A refused request's unread body is drained by Node so the connection stays usable, and so a
  // client still sending gets to read the error instead of a reset. A large or unbounded body is
  // not worth reading: close the connection after the error.
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (!req.complete && !(declared <= MAX_DRAINED_BODY_BYTES)) res.setHeader('connection', 'close');
  // Read the rest of a small body before answering: a connection closed (the client's
  // `Connection: close`) with unread bytes in the kernel's buffer is reset, and the reset can
  // discard the error response before the client reads it (it sees EPIPE or ECONNRESET instead).
  else if (!req.complete) await drainRequest(req, DRAIN_TIMEOUT_MS);
  for (const [name, value] of Object.entries(s3error.headers)) res.setHeader(name, value);
  if (s3error.code === 'NotModified') {
    res.statusCode = 304;
    res.end();
    return s3error;
  }
  const body = errorXml(s3error, resource, requestId);
  res.statusCode = s3error.status;
  res.setHeader('content-type', 'application/xml');
  res.setHeader('content-length', String(Buffer.byteLength(body)));
  res.end(method === 'HEAD' ? undefined : body);
  return s3error;
}

