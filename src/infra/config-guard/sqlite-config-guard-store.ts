import type Database from 'better-sqlite3';
import { ConfigGuardConflictError, type ConfigGuardRecordKind, type ConfigGuardStore, DEFAULT_LIST_LIMIT, type SeenKey, type StoredRecord } from '../../domain/config-guard/config-guard-store.js';
import { openDurableDatabase } from '../sqlite/open-durable-database.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS records_by_time ON records (kind, at_ms, id);
CREATE TABLE IF NOT EXISTS seen (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);
`;

interface Row {
  id: string;
  at_ms: number;
  revision: number;
  body: string;
}

/** The configuration guard's records in their own SQLite file (DATA/metadata/config-guard.sqlite). */
export class SqliteConfigGuardStore implements ConfigGuardStore {
  readonly #db: Database.Database;

  constructor(path: string) {
    this.#db = openDurableDatabase(path, SCHEMA);
  }

  async insert(kind: ConfigGuardRecordKind, id: string, atMs: number, body: unknown): Promise<void> {
    const inserted = this.#db.prepare('INSERT INTO records (kind, id, at_ms, revision, body) VALUES (?, ?, ?, 1, ?) ON CONFLICT DO NOTHING').run(kind, id, atMs, JSON.stringify(body)).changes;
    if (inserted !== 1) throw new ConfigGuardConflictError(`${kind} ${id} already exists`);
  }

  async get(kind: ConfigGuardRecordKind, id: string): Promise<StoredRecord | undefined> {
    const row = this.#db.prepare('SELECT id, at_ms, revision, body FROM records WHERE kind = ? AND id = ?').get(kind, id) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  async list(kind: ConfigGuardRecordKind, options: { readonly limit?: number } = {}): Promise<StoredRecord[]> {
    const rows = this.#db.prepare('SELECT id, at_ms, revision, body FROM records WHERE kind = ? ORDER BY at_ms DESC, id DESC LIMIT ?').all(kind, options.limit ?? DEFAULT_LIST_LIMIT) as Row[];
    return rows.map(fromRow);
  }

  async update(kind: ConfigGuardRecordKind, id: string, expectedRevision: number, body: unknown): Promise<boolean> {
    return this.#db.prepare('UPDATE records SET body = ?, revision = revision + 1 WHERE kind = ? AND id = ? AND revision = ?').run(JSON.stringify(body), kind, id, expectedRevision).changes === 1;
  }

  async markSeen(scope: string, keys: readonly string[], nowMs: number): Promise<Map<string, SeenKey>> {
    const run = this.#db.transaction(() => {
      const existing = new Map((this.#db.prepare('SELECT key, first_seen_ms FROM seen WHERE scope = ?').all(scope) as { key: string; first_seen_ms: number }[]).map((r) => [r.key, r.first_seen_ms]));
      const wanted = new Set(keys);
      const remove = this.#db.prepare('DELETE FROM seen WHERE scope = ? AND key = ?');
      for (const key of existing.keys()) if (!wanted.has(key)) remove.run(scope, key);
      const add = this.#db.prepare('INSERT INTO seen (scope, key, first_seen_ms) VALUES (?, ?, ?)');
      const result = new Map<string, SeenKey>();
      for (const key of wanted) {
        const first = existing.get(key);
        if (first === undefined) add.run(scope, key, nowMs);
        result.set(key, first === undefined ? { firstSeenMs: nowMs, isNew: true } : { firstSeenMs: first, isNew: false });
      }
      return result;
    });
    return run.immediate();
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

function fromRow(row: Row): StoredRecord {
  return { id: row.id, atMs: row.at_ms, revision: row.revision, body: JSON.parse(row.body) as unknown };
}
