import type { AuditEntry, AuditFields, AuditHead } from './audit-entry.js';
import { GENESIS_HASH, boundAuditFields } from './audit-entry.js';
import { type AuditFilter, type AuditStore, auditFilterMatches, checkAppend } from './audit-store.js';
import { sealAuditEntry } from './canonical-encoding.js';

/**
 * An AuditStore in memory, for domain tests: it passes the same contract as the SQLite store.
 * `rows` is open so tests can tamper with it, and `failAppends(n)` makes the next n appends
 * fail the way a full disk would, after checking nothing.
 */
export class InMemoryAuditStore implements AuditStore {
  readonly chain: string;
  readonly rows = new Map<number, AuditEntry>();
  appendCalls = 0;
  #failures = 0;

  constructor(chain = 'node-a') {
    this.chain = chain;
  }

  failAppends(count: number): void {
    this.#failures = count;
  }

  async append(entries: readonly AuditEntry[]): Promise<void> {
    this.appendCalls += 1;
    if (this.#failures > 0) {
      this.#failures -= 1;
      throw new Error('SQLITE_FULL: database or disk is full (injected)');
    }
    const skip = checkAppend(this.chain, await this.head(), entries, (seq) => this.rows.get(seq)?.hash);
    for (const entry of entries.slice(skip)) this.rows.set(entry.seq, entry);
  }

  async head(): Promise<AuditHead | undefined> {
    const seq = Math.max(0, ...this.rows.keys());
    const entry = this.rows.get(seq);
    return entry && { seq: entry.seq, hash: entry.hash };
  }

  async read(fromSeq: number, limit: number): Promise<readonly AuditEntry[]> {
    return [...this.rows.keys()]
      .filter((seq) => seq >= fromSeq)
      .sort((a, b) => a - b)
      .slice(0, limit)
      .map((seq) => this.rows.get(seq)!);
  }

  async *scan(filter: AuditFilter): AsyncGenerator<AuditEntry> {
    let from = 1;
    while (true) {
      const page = await this.read(from, 100);
      for (const entry of page) if (auditFilterMatches(filter, entry)) yield entry;
      if (page.length < 100) return;
      from = page[page.length - 1]!.seq + 1;
    }
  }

  async close(): Promise<void> {}
}

/** A valid chain of `count` entries continuing `after`; `fields(i)` describes entry i (0-based). */
export function auditChain(count: number, fields: (i: number) => AuditFields, after?: AuditHead): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let seq = (after?.seq ?? 0) + 1;
  let prevHash = after?.hash ?? GENESIS_HASH;
  for (let i = 0; i < count; i += 1) {
    const f = fields(i);
    const entry = sealAuditEntry(boundAuditFields(f, seq, f.timeMs ?? 1_900_000_000_000 + i * 1000, prevHash));
    entries.push(entry);
    seq += 1;
    prevHash = entry.hash;
  }
  return entries;
}

/** A plausible S3 request entry. */
export function requestFields(i: number, overrides: Partial<AuditFields> = {}): AuditFields {
  return {
    kind: 'request',
    identity: i % 3 === 0 ? 'backup-bot' : 'alice',
    accessKeyId: i % 3 === 0 ? 'HFBACKUPBOT0000001' : 'HFALICE00000000001',
    action: ['GetObject', 'PutObject', 'DeleteObject', 'PutObjectRetention'][i % 4]!,
    resource: `${i % 2 === 0 ? 'backups' : 'backups-old'}/db/${i}.dump`,
    result: i % 5 === 0 ? 'denied' : 'allowed',
    status: i % 5 === 0 ? 403 : 200,
    errorCode: i % 5 === 0 ? 'AccessDenied' : undefined,
    sourceIp: '192.0.2.10',
    requestId: `req-${i}`,
    userAgent: 'aws-cli/2.15',
    ...overrides,
  };
}
