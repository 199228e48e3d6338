import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error, s3errors } from '../../domain/errors.js';
import type { Clock } from '../../infra/clock.js';
import { createSha256PayloadVerifier } from '../s3/auth/payload-verification.js';
import { type SecretLookup, authenticateRequest } from '../s3/auth/sigv4.js';
import { type AccessDecider, createRequestAuthorizer } from '../s3/authorization.js';
import { type S3RequestRecord, exchangeFacts } from '../s3/request-record.js';
import { type AdminChange, type AdminResult, type AdminServices, type ChangeActor, matchAdminRoute } from './admin-routes.js';

export { bucketView } from './admin-views.js';

/** The admin API lives beside S3 on the same listener; `_` keeps it out of the bucket namespace. */
export const ADMIN_PREFIX = '/_holdfast/admin/v1/';
/** Inline policies are at most 20 KiB of JSON, like IAM's; most else is much smaller (routes may raise it). */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

export interface AdminHandlerOptions {
  readonly services: AdminServices;
  readonly secrets: SecretLookup;
  /**
   * Awaited before each request is authenticated, when identities can change in another process
   * (cluster nodes): brings `secrets` and `access` up to date, so a key created or revoked through
   * another node counts here at once.
   */
  readonly refreshIdentities?: () => Promise<void>;
  readonly access: AccessDecider;
  readonly secureTransport: boolean;
  readonly clock: Clock;
  readonly onInternalError: (requestId: string, error: unknown) => void;
  /**
   * Awaited after a route changed configuration and before the answer goes out: the audit log
   * commits the changes durably, so an acknowledged change always has its entry.
   */
  readonly beforeRespond?: (actor: ChangeActor, changes: readonly AdminChange[]) => Promise<void>;
  /** Called once per request, with the configuration changes it made (for the audit log and alerts). */
  readonly onRequestComplete?: (record: S3RequestRecord, changes: readonly AdminChange[]) => void;
}

/**
 * JSON over HTTP, SigV4-signed like S3 requests (service `s3`), for configuration S3 has no
 * words for. Every route names the `holdfast:` action a policy must allow (the built-in `admin`
 * role allows them all, `auditor` the read ones). Errors use the S3 catalogue, rendered as
 * `{ error: { code, message } }`.
 */
export function createAdminHandler(options: AdminHandlerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    const startedNs = process.hrtime.bigint();
    const startedMs = options.clock.nowMs();
    const method = req.method ?? 'GET';
    const changes: AdminChange[] = [];
    let action: string | undefined;
    let principal: S3RequestRecord['principal'];
    let accessKeyId: string | undefined;
    let errorCode: string | undefined;
    let errorMessage: string | undefined;
    let denial: S3RequestRecord['denial'];
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const resource = rawPath.slice(ADMIN_PREFIX.length);
    try {
      await options.refreshIdentities?.();
      const auth = authenticateRequest({ method, rawPath, rawQuery: q < 0 ? '' : rawUrl.slice(q + 1), headers: req.headers }, options.secrets, options.clock);
      if (auth === undefined) throw s3errors.accessDenied('The admin API needs a signed request.');
      accessKeyId = auth.accessKeyId;
      const signer = options.access.principalOf(auth.accessKeyId);
      if (signer === undefined) throw s3errors.invalidAccessKeyId();
      principal = { name: signer.name, kind: signer.kind };
      const segments = resource.split('/').map((s) => decodeURIComponent(s));
      const match = matchAdminRoute(method, segments);
      if (match === undefined) throw new S3Error('InvalidRequest', `No admin operation ${method} /${segments.join('/')}.`);
      action = match.route.action;
      const authorizer = createRequestAuthorizer(signer, options.access, {
        sourceIp: req.socket.remoteAddress,
        secureTransport: options.secureTransport,
        nowMs: startedMs,
        query,
      });
      try {
        await authorizer.authorize(action, { arn: `arn:holdfast:admin:::${segments.join('/')}` });
      } finally {
        denial = authorizer.denial;
      }
      const body = await readBody(req, auth.payload.kind === 'sha256' ? auth.payload.expectedHex : undefined, match.route.maxBodyBytes ?? MAX_ADMIN_BODY_BYTES);
      const result = await match.route.handle({
        params: match.params,
        query,
        body: () => parseJson(body),
        principal: signer,
        services: options.services,
        changed: (change) => changes.push(change),
      });
      if (changes.length > 0 && options.beforeRespond !== undefined) {
        await options.beforeRespond(
          { identity: signer.name, accessKeyId: auth.accessKeyId, sourceIp: req.socket.remoteAddress, requestId, userAgent: req.headers['user-agent'] },
          changes,
        );
      }
      await sendResult(res, result);
    } catch (error) {
      const s3error = error instanceof S3Error ? error : s3errors.internal(error);
      if (s3error.isServerFault) options.onInternalError(requestId, error);
      errorCode = s3error.code;
      errorMessage = s3error.publicMessage;
      if (res.headersSent) res.destroy();
      else sendJson(res, s3error.status, { error: { code: s3error.code, message: s3error.publicMessage, ...s3error.details }, requestId });
    }
    options.onRequestComplete?.(
      {
        requestId,
        method,
        operation: `admin:${action?.slice('holdfast:'.length) ?? 'Unknown'}`,
        action,
        bucket: undefined,
        key: resource,
        versionId: undefined,
        principal,
        accessKeyId,
        errorCode,
        errorMessage,
        startedMs,
        ...exchangeFacts(req, res, startedNs),
        denial,
        bypassGovernance: false,
        notes: [],
      },
      changes,
    );
  };
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw s3errors.invalidRequest('The request body is not valid JSON.');
  }
}

async function sendResult(res: ServerResponse, result: AdminResult): Promise<void> {
  if ('json' in result) {
    sendJson(res, result.status ?? 200, result.json);
    return;
  }
  res.statusCode = result.status ?? 200;
  res.setHeader('content-type', 'application/x-ndjson');
  for await (const line of result.lines) {
    // A source may end its lines itself (exportAuditLog does): one newline per line, never two.
    if (!res.write(line.endsWith('\n') ? line : `${line}\n`)) await new Promise<void>((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/** Reads a capped body; a signed payload hash is checked by the SigV4 module's verifier. */
async function readBody(req: IncomingMessage, expectedSha256: string | undefined, maxBytes: number): Promise<Buffer> {
  const source: AsyncIterable<Buffer> = expectedSha256 === undefined ? req : req.pipe(createSha256PayloadVerifier(expectedSha256));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > maxBytes) throw s3errors.maxMessageLengthExceeded();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', String(Buffer.byteLength(text)));
  res.end(text);
}
