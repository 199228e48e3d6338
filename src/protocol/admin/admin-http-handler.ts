import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error, s3errors } from '../../domain/errors.js';
import type { BucketRecord } from '../../domain/model.js';
import type { ObjectLocks } from '../../domain/object-locks.js';
import type { RetentionBounds } from '../../domain/object-lock.js';
import type { Vault } from '../../domain/vault.js';
import type { Clock } from '../../infra/clock.js';
import { createSha256PayloadVerifier } from '../s3/auth/payload-verification.js';
import { type SecretLookup, authenticateRequest } from '../s3/auth/sigv4.js';

/** The admin API lives beside S3 on the same listener; `_` keeps it out of the bucket namespace. */
export const ADMIN_PREFIX = '/_holdfast/admin/v1/';
const MAX_ADMIN_BODY_BYTES = 4096;

export interface AdminHandlerOptions {
  readonly vault: Vault;
  readonly locks: ObjectLocks;
  readonly secrets: SecretLookup;
  /** Only root may administer until identities and roles exist. */
  readonly isRoot: (accessKeyId: string) => boolean;
  readonly clock: Clock;
  readonly onInternalError: (requestId: string, error: unknown) => void;
}

/** What the admin API shows of a bucket. */
export function bucketView(bucket: BucketRecord) {
  return {
    name: bucket.name,
    createdAt: new Date(bucket.createdAtMs).toISOString(),
    region: bucket.region,
    versioning: bucket.versioning,
    objectLock: { enabled: bucket.objectLockEnabled, defaultRetention: bucket.defaultRetention ?? null },
    retentionBounds: bucket.retentionBounds ?? null,
  };
}

/**
 * JSON over HTTP, SigV4-signed like S3 requests (service `s3`), for configuration S3 has no
 * words for. Errors use the same catalogue as S3, rendered as `{ error: { code, message } }`.
 */
export function createAdminHandler(options: AdminHandlerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    try {
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
      const method = req.method ?? 'GET';
      const auth = authenticateRequest(
        { method, rawPath, rawQuery: q < 0 ? '' : rawUrl.slice(q + 1), headers: req.headers },
        options.secrets,
        options.clock,
      );
      if (auth === undefined) throw s3errors.accessDenied('The admin API needs a signed request.');
      if (!options.isRoot(auth.accessKeyId)) throw s3errors.accessDenied('Only the root key may use the admin API for now.');
      const body = await readBody(req, auth.payload.kind === 'sha256' ? auth.payload.expectedHex : undefined);
      const segments = rawPath.slice(ADMIN_PREFIX.length).split('/').map((s) => decodeURIComponent(s));
      const result = await route(method, segments, body, options);
      sendJson(res, 200, result);
    } catch (error) {
      const s3error = error instanceof S3Error ? error : s3errors.internal(error);
      if (s3error.isServerFault) options.onInternalError(requestId, error);
      sendJson(res, s3error.status, { error: { code: s3error.code, message: s3error.publicMessage }, requestId });
    }
  };
}

async function route(method: string, segments: string[], body: Buffer, { vault, locks }: AdminHandlerOptions): Promise<unknown> {
  const [collection, name, sub, ...rest] = segments;
  if (collection === 'buckets' && rest.length === 0) {
    if (name === undefined || name === '') {
      if (method === 'GET') return { buckets: (await vault.listBuckets()).map(bucketView) };
    } else if (sub === undefined) {
      if (method === 'GET') return bucketView(await vault.getBucket(name));
    } else if (sub === 'retention-bounds' && method === 'PUT') {
      return bucketView(await locks.setRetentionBounds(name, parseBounds(body)));
    }
  }
  throw new S3Error('InvalidRequest', `No admin operation ${method} /${segments.join('/')}.`);
}

/** `{"minDays": 7, "maxDays": 90}` (either may be omitted), or `null` to clear the bounds. */
function parseBounds(body: Buffer): RetentionBounds | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw s3errors.invalidRequest('The body must be JSON: {"minDays": N, "maxDays": N} or null.');
  }
  if (value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw s3errors.invalidRequest('The body must be a JSON object or null.');
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key !== 'minDays' && key !== 'maxDays') throw s3errors.invalidRequest(`Unknown field "${key}"; expected minDays and/or maxDays.`);
  }
  const bounds: { minDays?: number; maxDays?: number } = {};
  for (const key of ['minDays', 'maxDays'] as const) {
    const v = fields[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number') throw s3errors.invalidArgument(`${key} must be a number of days.`, key, JSON.stringify(v));
    bounds[key] = v;
  }
  return bounds;
}

/** Reads a capped body; a signed payload hash is checked by the SigV4 module's verifier. */
async function readBody(req: IncomingMessage, expectedSha256: string | undefined): Promise<Buffer> {
  const source: AsyncIterable<Buffer> = expectedSha256 === undefined ? req : req.pipe(createSha256PayloadVerifier(expectedSha256));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY_BYTES) throw s3errors.maxMessageLengthExceeded();
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
