import { hash } from 'node:crypto';
import type { AuditDetails, AuditEntry, UnsealedAuditEntry } from './audit-entry.js';

/**
 * The canonical byte encoding of an audit entry, which its hash commits to. Anyone can
 * recompute it from an export without Holdfast:
 *
 *   canonical(e) = UTF-8 of the JSON object with exactly these members, in this order:
 *     seq, timeMs, kind, identity, accessKeyId, action, resource, versionId, result, status,
 *     errorCode, sourceIp, requestId, userAgent, details, prevHash
 *   An absent optional member is written as null. `details` is null or an object whose members
 *   are sorted by key (UTF-16 code units, as RFC 8785 JCS §3.2.3 sorts). Strings and numbers are
 *   serialized as ECMAScript JSON.stringify does (which RFC 8785 also adopts); numbers are finite,
 *   seq/timeMs/status integers. No whitespace.
 *
 *   hash(e) = lowercase hex SHA-256( bytes(prevHash as 32 raw bytes) || canonical(e) )
 *
 * prevHash appears twice (raw prefix and JSON member): the prefix makes the chaining explicit,
 * the member makes a line of an export self-describing. Genesis prevHash is 64 zeros.
 */
export function canonicalAuditJson(entry: UnsealedAuditEntry): string {
  return (
    `{"seq":${number(entry.seq)}` +
    `,"timeMs":${number(entry.timeMs)}` +
    `,"kind":${text(entry.kind)}` +
    `,"identity":${text(entry.identity)}` +
    `,"accessKeyId":${text(entry.accessKeyId)}` +
    `,"action":${text(entry.action)}` +
    `,"resource":${text(entry.resource)}` +
    `,"versionId":${text(entry.versionId)}` +
    `,"result":${text(entry.result)}` +
    `,"status":${number(entry.status)}` +
    `,"errorCode":${text(entry.errorCode)}` +
    `,"sourceIp":${text(entry.sourceIp)}` +
    `,"requestId":${text(entry.requestId)}` +
    `,"userAgent":${text(entry.userAgent)}` +
    `,"details":${details(entry.details)}` +
    `,"prevHash":${text(entry.prevHash)}}`
  );
}

/** The hash an entry must carry, recomputed from its content. */
export function auditEntryHash(entry: UnsealedAuditEntry): string {
  return hashCanonical(entry.prevHash, canonicalAuditJson(entry));
}

function hashCanonical(prevHash: string, canonical: string): string {
  // One buffer and one crypto.hash call: every request is audited, and a Hash object with two
  // updates costs twice as much.
  const length = Buffer.byteLength(canonical, 'utf8');
  const input = Buffer.allocUnsafe(32 + length);
  input.write(prevHash, 0, 32, 'hex');
  input.write(canonical, 32, length, 'utf8');
  return hash('sha256', input, 'hex');
}

/**
 * Canonical JSON of the entries this process sealed, so the structured log line does not encode
 * an entry a second time (the hot path audits every request). Entries read back from a store are
 * never in it: their JSON is always recomputed from what was stored.
 */
const sealedCanonical = new WeakMap<AuditEntry, string>();

/** The entry with its hash; every entry has the same object shape (absent fields as undefined). */
export function sealAuditEntry(e: UnsealedAuditEntry): AuditEntry {
  const canonical = canonicalAuditJson(e);
  const hash = hashCanonical(e.prevHash, canonical);
  const entry: AuditEntry = {
    seq: e.seq,
    timeMs: e.timeMs,
    kind: e.kind,
    identity: e.identity,
    accessKeyId: e.accessKeyId,
    action: e.action,
    resource: e.resource,
    versionId: e.versionId,
    result: e.result,
    status: e.status,
    errorCode: e.errorCode,
    sourceIp: e.sourceIp,
    requestId: e.requestId,
    userAgent: e.userAgent,
    details: e.details,
    prevHash: e.prevHash,
    hash,
  };
  sealedCanonical.set(entry, canonical);
  return entry;
}

/**
 * One entry as a JSON object: the canonical members followed by "hash". Used for exports and the
 * structured log, so a consumer can strip "hash", hash the rest and compare.
 */
export function auditEntryJson(entry: AuditEntry): string {
  return `${(sealedCanonical.get(entry) ?? canonicalAuditJson(entry)).slice(0, -1)},"hash":${text(entry.hash)}}`;
}

/** Characters JSON.stringify escapes in a string: quote, backslash, controls, lone surrogate halves. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string, without its set-up cost for the plain ones every entry is made of. */
function text(value: string | undefined): string {
  if (value === undefined) return 'null';
  return NEEDS_ESCAPING.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** JSON.stringify of a number: the same Number-to-String conversion; NaN and infinities are null in JSON. */
function number(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'null' : String(value);
}

function details(value: AuditDetails | undefined): string {
  if (value === undefined) return 'null';
  // Members are written one by one: a JavaScript object would put integer-like keys ("10")
  // first whatever the sort said.
  const keys = Object.keys(value).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const member = value[key] ?? null;
    const encoded = typeof member === 'string' ? text(member) : typeof member === 'number' ? number(member) : JSON.stringify(member);
    out += `${i === 0 ? '' : ','}${text(key)}:${encoded}`;
  }
  return `${out}}`;
}
