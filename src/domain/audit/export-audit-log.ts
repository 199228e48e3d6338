import type { AuditFilter, AuditStore } from './audit-store.js';
import { auditEntryJson } from './canonical-encoding.js';

/**
 * The entries matching `filter` as JSON lines (one object per entry, each string ending in
 * '\n'), for auditors and log shipping. Members are the canonical ones (canonical-encoding.ts)
 * plus "hash", in seq order. An unfiltered export can be re-verified without Holdfast: a line
 * with its final `,"hash":"…"` member cut off (and the closing brace put back) is byte for byte
 * the canonical encoding; SHA-256 over the 32 bytes of prevHash and those bytes gives "hash",
 * and each prevHash is the previous line's hash.
 */
export async function* exportAuditLog(store: AuditStore, filter: AuditFilter = {}): AsyncGenerator<string> {
  for await (const entry of store.scan(filter)) yield `${auditEntryJson(entry)}\n`;
}
