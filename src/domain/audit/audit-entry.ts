/**
 * One audit entry: who did what to which resource, with what result. Every S3 and admin request
 * and every configuration change becomes one entry; entries form a hash chain (see
 * canonical-encoding.ts) so that an edit, deletion or reordering is detectable.
 *
 * What an entry must never hold: secrets. No request signature, no Authorization header, no
 * secret access key, no session token, no presigned-URL query string. `resource` is the bucket
 * and key, never the URL. `details` values under keys that look like secrets (authorization,
 * signature, secret, password, token, credential, cookie, private key) are replaced with
 * `**redacted**` as a second line of defence, but callers must not pass them in the first place.
 *
 * Every value is bounded (see AUDIT_FIELD_LIMITS), because most of them come from the client:
 * a 1 MB User-Agent must not become a 1 MB audit entry.
 */
export type AuditKind = 'request' | 'config-change' | 'system';
export type AuditResult = 'allowed' | 'denied' | 'error' | 'ok';
export type AuditDetailValue = string | number | boolean | null;
export type AuditDetails = Readonly<Record<string, AuditDetailValue>>;

const KINDS: ReadonlySet<string> = new Set<AuditKind>(['request', 'config-change', 'system']);
const RESULTS: ReadonlySet<string> = new Set<AuditResult>(['allowed', 'denied', 'error', 'ok']);

export function isAuditKind(value: unknown): value is AuditKind {
  return typeof value === 'string' && KINDS.has(value);
}

export function isAuditResult(value: unknown): value is AuditResult {
  return typeof value === 'string' && RESULTS.has(value);
}

/** What a caller records. */
export interface AuditFields {
  readonly kind: AuditKind;
  /** The authenticated principal (user or service account name); '' when anonymous or unauthenticated. */
  readonly identity: string;
  /** The access key id the request was signed with ('' if none). Never the secret. */
  readonly accessKeyId: string;
  /** The operation, e.g. 'GetObject', 'admin:SetRetentionBounds', 'config:ObjectLockConfiguration'. */
  readonly action: string;
  /**
   * What was acted on: '' (e.g. ListBuckets), 'bucket', or 'bucket/key' for S3 requests; for
   * other kinds a name the caller chooses. The `bucket` filter of an export matches the first two.
   */
  readonly resource: string;
  readonly versionId?: string | undefined;
  readonly result: AuditResult;
  /** HTTP status sent. */
  readonly status?: number | undefined;
  /** S3 error code (e.g. 'AccessDenied'), for results 'denied' and 'error'. */
  readonly errorCode?: string | undefined;
  readonly sourceIp?: string | undefined;
  readonly requestId?: string | undefined;
  readonly userAgent?: string | undefined;
  /** Small facts specific to the action (old and new retention, bypass flag). No secrets. */
  readonly details?: AuditDetails | undefined;
  /** When it happened (ms since the epoch); the log's clock at record() when absent. */
  readonly timeMs?: number | undefined;
}

/** An entry with its position in the chain, before its hash is computed. */
export interface UnsealedAuditEntry {
  /** Position in the chain: 1, 2, 3… without gaps. */
  readonly seq: number;
  readonly timeMs: number;
  readonly kind: AuditKind;
  readonly identity: string;
  readonly accessKeyId: string;
  readonly action: string;
  readonly resource: string;
  readonly versionId?: string | undefined;
  readonly result: AuditResult;
  readonly status?: number | undefined;
  readonly errorCode?: string | undefined;
  readonly sourceIp?: string | undefined;
  readonly requestId?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly details?: AuditDetails | undefined;
  /** The previous entry's hash (GENESIS_HASH for seq 1). */
  readonly prevHash: string;
}

export interface AuditEntry extends UnsealedAuditEntry {
  /** SHA-256 over prevHash and the canonical encoding of everything above, lowercase hex. */
  readonly hash: string;
}

/** The last entry of a chain, as far as some reader knows it. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The action of the marker entry the log writes when it had to drop entries (its buffer
 * overflowed because the store kept failing). The chain stays gapless; the marker says how many
 * entries are missing, and verification reports it.
 */
export const AUDIT_GAP_ACTION = 'audit:EntriesDropped';

export function isGapMarker(entry: Pick<UnsealedAuditEntry, 'kind' | 'action'>): boolean {
  return entry.kind === 'system' && entry.action === AUDIT_GAP_ACTION;
}

/** Limits in UTF-16 code units; longer values are cut and end with '…'. */
export const AUDIT_FIELD_LIMITS = Object.freeze({
  identity: 256,
  accessKeyId: 128,
  action: 128,
  // A 63-character bucket, '/', a 1024-byte key, with room for the caller's own prefixes.
  resource: 2048,
  versionId: 1024,
  errorCode: 64,
  sourceIp: 64,
  requestId: 128,
  userAgent: 256,
  detailKeys: 16,
  detailKey: 64,
  detailString: 512,
});

const SECRET_LOOKING_KEY = /authorization|signature|secret|password|passwd|token|credential|cookie|private.?key/i;
const REDACTED = '**redacted**';

/**
 * Cuts a value to `max` code units without splitting a surrogate pair, and replaces lone
 * surrogates (which UTF-8 cannot carry, so a stored value would not read back identically and
 * would fail verification) with U+FFFD.
 */
export function boundText(value: string, max: number): string {
  const text = value.isWellFormed() ? value : value.toWellFormed();
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + '…';
}

function boundDetails(details: AuditDetails): AuditDetails | undefined {
  const bounded: Record<string, AuditDetailValue> = {};
  let count = 0;
  for (const key of Object.keys(details).sort()) {
    if (count === AUDIT_FIELD_LIMITS.detailKeys) break;
    const value = details[key];
    if (value === undefined) continue;
    const boundedKey = boundText(key, AUDIT_FIELD_LIMITS.detailKey);
    bounded[boundedKey] = SECRET_LOOKING_KEY.test(key) ? REDACTED : boundDetailValue(value);
    count += 1;
  }
  return count === 0 ? undefined : bounded;
}

function boundDetailValue(value: AuditDetailValue): AuditDetailValue {
  if (typeof value === 'string') return boundText(value, AUDIT_FIELD_LIMITS.detailString);
  if (typeof value === 'number') {
    // JSON has no NaN or Infinity, and -0 would encode as 0 and not read back identically.
    if (!Number.isFinite(value)) return null;
    return value === 0 ? 0 : value;
  }
  return value;
}

function assertInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new TypeError(`audit ${name} must be a safe integer, got ${value}`);
}

/**
 * The entry a record() call turns into, before it gets a position. Throws TypeError for
 * programming errors (unknown kind or result, non-integer time or status); bounds everything else.
 */
export function boundAuditFields(fields: AuditFields, seq: number, timeMs: number, prevHash: string): UnsealedAuditEntry {
  if (!isAuditKind(fields.kind)) throw new TypeError(`unknown audit kind ${String(fields.kind)}`);
  if (!isAuditResult(fields.result)) throw new TypeError(`unknown audit result ${String(fields.result)}`);
  assertInteger('seq', seq);
  assertInteger('timeMs', timeMs);
  if (fields.status !== undefined) assertInteger('status', fields.status);
  const optional = (value: string | undefined, max: number) => (value === undefined ? undefined : boundText(value, max));
  // One object shape for every entry (absent fields present as undefined): entries are made on
  // every request, and a stable shape keeps V8 on its fast paths.
  return {
    seq,
    timeMs,
    kind: fields.kind,
    identity: boundText(fields.identity, AUDIT_FIELD_LIMITS.identity),
    accessKeyId: boundText(fields.accessKeyId, AUDIT_FIELD_LIMITS.accessKeyId),
    action: boundText(fields.action, AUDIT_FIELD_LIMITS.action),
    resource: boundText(fields.resource, AUDIT_FIELD_LIMITS.resource),
    versionId: optional(fields.versionId, AUDIT_FIELD_LIMITS.versionId),
    result: fields.result,
    status: fields.status,
    errorCode: optional(fields.errorCode, AUDIT_FIELD_LIMITS.errorCode),
    sourceIp: optional(fields.sourceIp, AUDIT_FIELD_LIMITS.sourceIp),
    requestId: optional(fields.requestId, AUDIT_FIELD_LIMITS.requestId),
    userAgent: optional(fields.userAgent, AUDIT_FIELD_LIMITS.userAgent),
    details: fields.details === undefined ? undefined : boundDetails(fields.details),
    prevHash,
  };
}
