import type { AuditDetails, AuditEntry, AuditKind, AuditResult } from '../../../domain/audit/audit-entry.js';

/**
 * One table, one row per entry, one column per field: exports filter in SQL, and an entry is
 * rebuilt from exactly what is stored, so any change to a column changes the recomputed hash.
 * STRICT keeps a value's type as written (no affinity conversions that would alter it).
 * audit_meta records which chain the file holds.
 */
export const schema = `
CREATE TABLE IF NOT EXISTS audit_meta (
  name TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS audit_entries (
  seq INTEGER PRIMARY KEY NOT NULL,
  time_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  identity TEXT NOT NULL,
  access_key_id TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  version_id TEXT,
  result TEXT NOT NULL,
  status INTEGER,
  error_code TEXT,
  source_ip TEXT,
  request_id TEXT,
  user_agent TEXT,
  details TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS audit_entries_time ON audit_entries (time_ms);
`;

export interface AuditRow {
  readonly seq: number;
  readonly time_ms: number;
  readonly kind: string;
  readonly identity: string;
  readonly access_key_id: string;
  readonly action: string;
  readonly resource: string;
  readonly version_id: string | null;
  readonly result: string;
  readonly status: number | null;
  readonly error_code: string | null;
  readonly source_ip: string | null;
  readonly request_id: string | null;
  readonly user_agent: string | null;
  readonly details: string | null;
  readonly prev_hash: string;
  readonly hash: string;
}

/** Values in the INSERT's column order. details are stored as canonical-order JSON text. */
export function auditRowValues(e: AuditEntry): unknown[] {
  return [
    e.seq,
    e.timeMs,
    e.kind,
    e.identity,
    e.accessKeyId,
    e.action,
    e.resource,
    e.versionId ?? null,
    e.result,
    e.status ?? null,
    e.errorCode ?? null,
    e.sourceIp ?? null,
    e.requestId ?? null,
    e.userAgent ?? null,
    e.details === undefined ? null : JSON.stringify(e.details),
    e.prevHash,
    e.hash,
  ];
}

/**
 * The entry exactly as stored. Nothing is validated or repaired (a tampered kind stays what it
 * is): the hash check in verification is the judge. Unparseable details are kept as a string
 * under "__unparseable__" so the entry still fails its hash check instead of failing the read.
 */
export function auditEntryFromRow(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    timeMs: row.time_ms,
    kind: row.kind as AuditKind,
    identity: row.identity,
    accessKeyId: row.access_key_id,
    action: row.action,
    resource: row.resource,
    versionId: row.version_id ?? undefined,
    result: row.result as AuditResult,
    status: row.status ?? undefined,
    errorCode: row.error_code ?? undefined,
    sourceIp: row.source_ip ?? undefined,
    requestId: row.request_id ?? undefined,
    userAgent: row.user_agent ?? undefined,
    details: row.details === null ? undefined : parseDetails(row.details),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function parseDetails(text: string): AuditDetails {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as AuditDetails;
  } catch {
    // fall through
  }
  return { __unparseable__: text };
}
