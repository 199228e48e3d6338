import Database from 'better-sqlite3';
import type { AuditEntry, AuditHead } from '../../../domain/audit/audit-entry.js';
import { type AuditFilter, type AuditStore, assertValidChainId, checkAppend } from '../../../domain/audit/audit-store.js';
import { type AuditRow, auditEntryFromRow, auditRowValues, schema } from './audit-rows.js';
import { openWalSyncedDatabase } from '../../sqlite/open-wal-synced-database.js';
import type { WalFileSync } from '../../sqlite/wal-file-sync.js';

const SCAN_PAGE = 500;
const ROWS_PER_INSERT = 16;

/**
 * The audit chain in its own SQLite file (not the metadata database: a busy audit log must not
 * slow metadata commits, and the file can be shipped or archived on its own).
 *
 * Durability: as the metadata store, append() resolves once its COMMIT is on disk (WAL with
 * synchronous=NORMAL, then an fdatasync of the -wal file on the thread pool, so the event loop
 * keeps serving requests meanwhile). AuditLog batches entries, so one fsync covers many. A read
 * made while an append is being synced waits for that sync before it answers: an export never
 * shows an entry that a crash could still take back.
 * Scans page by seq with short read statements, never holding a statement open across an await:
 * better-sqlite3 forbids writes on a connection with an open iterator, and appends continue while
 * an export streams.
 */
export class SqliteAuditStore implements AuditStore {
  readonly chain: string;
  readonly #db: Database.Database;
  readonly #wal: WalFileSync;
  /** The sync of the last append, until it settles. */
  #unsynced: Promise<void> | undefined;
  readonly #insert: Database.Statement;
  /** INSERT of ROWS_PER_INSERT entries at once: a statement per entry costs more than binding its values. */
  readonly #insertMany: Database.Statement;
  readonly #head: Database.Statement;
  readonly #hashAt: Database.Statement;
  readonly #read: Database.Statement;
  readonly #append: Database.Transaction<(entries: readonly AuditEntry[]) => void>;

  /**
   * Opens (creating if needed) the audit database at `path` for `chain`. Refuses a file that
   * holds another chain: that is someone else's history, or a mis-wired node id.
   */
  constructor(path: string, chain: string) {
    assertValidChainId(chain);
    ({ db: this.#db, wal: this.#wal } = openWalSyncedDatabase(path, schema));
    this.chain = this.#claimChain(path, chain);
    const insert = `INSERT INTO audit_entries (seq, time_ms, kind, identity, access_key_id, action, resource, version_id, result, status,
         error_code, source_ip, request_id, user_agent, details, prev_hash, hash) VALUES `;
    const row = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
    this.#insert = this.#db.prepare(insert + row);
    this.#insertMany = this.#db.prepare(insert + Array.from({ length: ROWS_PER_INSERT }, () => row).join(', '));
    this.#head = this.#db.prepare('SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1');
    this.#hashAt = this.#db.prepare('SELECT hash FROM audit_entries WHERE seq = ?').pluck();
    this.#read = this.#db.prepare('SELECT * FROM audit_entries WHERE seq >= ? ORDER BY seq LIMIT ?');
    this.#append = this.#db.transaction((entries: readonly AuditEntry[]) => {
      const skip = checkAppend(this.chain, this.#headNow(), entries, (seq) => this.#hashAt.get(seq) as string | undefined);
      let i = skip;
      for (; i + ROWS_PER_INSERT <= entries.length; i += ROWS_PER_INSERT) {
        const values: unknown[] = [];
        for (let j = i; j < i + ROWS_PER_INSERT; j += 1) values.push(...auditRowValues(entries[j]!));
        this.#insertMany.run(values);
      }
      for (; i < entries.length; i += 1) this.#insert.run(auditRowValues(entries[i]!));
    });
  }

  #claimChain(path: string, chain: string): string {
    const claim = this.#db.transaction(() => {
      const stored = this.#db.prepare("SELECT value FROM audit_meta WHERE name = 'chain'").pluck().get() as string | undefined;
      if (stored === undefined) this.#db.prepare("INSERT INTO audit_meta (name, value) VALUES ('chain', ?)").run(chain);
      return stored ?? chain;
    });
    const stored = claim.immediate();
    if (stored !== chain) {
      this.#db.close();
      void this.#wal.close();
      throw new Error(`The audit log ${path} holds the chain of node "${stored}", not of this node ("${chain}"). Use this node's own audit file, or set the node id back.`);
    }
    return chain;
  }

  async append(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    this.#append.immediate(entries);
    const synced = this.#wal.sync();
    this.#unsynced = synced;
    try {
      await synced;
    } finally {
      if (this.#unsynced === synced) this.#unsynced = undefined;
    }
  }

  async head(): Promise<AuditHead | undefined> {
    const head = this.#headNow();
    await this.#unsynced;
    return head;
  }

  #headNow(): AuditHead | undefined {
    return this.#head.get() as AuditHead | undefined;
  }

  async read(fromSeq: number, limit: number): Promise<readonly AuditEntry[]> {
    const entries = (this.#read.all(fromSeq, limit) as AuditRow[]).map(auditEntryFromRow);
    await this.#unsynced;
    return entries;
  }

  async *scan(filter: AuditFilter): AsyncGenerator<AuditEntry> {
    const conditions: string[] = ['seq > @after', 'seq <= @last'];
    const params: Record<string, string | number> = {};
    const bounds = this.#seqBounds(filter);
    if (bounds === undefined) return;
    if (filter.fromMs !== undefined) {
      conditions.push('time_ms >= @fromMs');
      params.fromMs = filter.fromMs;
    }
    if (filter.toMs !== undefined) {
      conditions.push('time_ms < @toMs');
      params.toMs = filter.toMs;
    }
    if (filter.identity !== undefined) {
      conditions.push('identity = @identity');
      params.identity = filter.identity;
    }
    if (filter.action !== undefined) {
      conditions.push('action = @action');
      params.action = filter.action;
    }
    if (filter.actionPrefix !== undefined) {
      // Not LIKE: it is case-insensitive for ASCII and treats % and _ as wildcards. substr()
      // counts characters (code points), so the length is given in code points too.
      conditions.push('substr(action, 1, @prefixLength) = @actionPrefix');
      params.actionPrefix = filter.actionPrefix;
      params.prefixLength = [...filter.actionPrefix].length;
    }
    if (filter.result !== undefined) {
      conditions.push('result = @result');
      params.result = filter.result;
    }
    if (filter.bucket !== undefined) {
      conditions.push("(resource = @bucket OR substr(resource, 1, @bucketLength) = (@bucket || '/'))");
      params.bucket = filter.bucket;
      params.bucketLength = [...filter.bucket].length + 1;
    }
    const page = this.#db.prepare(`SELECT * FROM audit_entries WHERE ${conditions.join(' AND ')} ORDER BY seq LIMIT ${SCAN_PAGE}`);
    let after = bounds.first - 1;
    while (true) {
      const rows = page.all({ ...params, after, last: bounds.last }) as AuditRow[];
      await this.#unsynced;
      for (const row of rows) yield auditEntryFromRow(row);
      if (rows.length < SCAN_PAGE) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /**
   * The seq range worth scanning. With a time filter, the time index gives it in one pass, so a
   * narrow time range does not mean reading the whole table (clocks may step back, so time is
   * not monotonic in seq; the range is a bound, the time condition still applies per row).
   */
  #seqBounds(filter: AuditFilter): { first: number; last: number } | undefined {
    const bounds = (
      filter.fromMs === undefined && filter.toMs === undefined
        ? this.#db.prepare('SELECT min(seq) AS first, max(seq) AS last FROM audit_entries').get()
        : this.#db
            .prepare('SELECT min(seq) AS first, max(seq) AS last FROM audit_entries WHERE time_ms >= ? AND time_ms < ?')
            .get(filter.fromMs ?? Number.MIN_SAFE_INTEGER, filter.toMs ?? Number.MAX_SAFE_INTEGER)
    ) as { first: number | null; last: number | null };
    return bounds.first === null || bounds.last === null ? undefined : { first: bounds.first, last: bounds.last };
  }

  async close(): Promise<void> {
    await this.#unsynced?.catch(() => undefined);
    if (this.#db.open) this.#db.close();
    await this.#wal.close();
  }
}
