import pg from 'pg';
import { ConfigGuardConflictError, type ConfigGuardRecordKind, type ConfigGuardStore, DEFAULT_LIST_LIMIT, type SeenKey, type StoredRecord } from '../../domain/config-guard/config-guard-store.js';
import { inTransaction, query } from '../metadata/postgres/transactions.js';

interface Row {
  id: string;
  at_ms: string;
  revision: number;
  body: string;
}

/**
 * The configuration guard's records in PostgreSQL, for deployments whose nodes share one
 * database. Bodies are kept as text (not jsonb) so they round-trip byte for byte; bigint comes
 * back as a string from node-postgres and is converted here.
 */
export class PostgresConfigGuardStore implements ConfigGuardStore {
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #records: string;
  readonly #seen: string;

  private constructor(pool: pg.Pool, schema: string, ownsPool: boolean) {
    this.#pool = pool;
    this.#ownsPool = ownsPool;
    const s = pg.escapeIdentifier(schema);
    this.#records = `${s}.config_guard_records`;
    this.#seen = `${s}.config_guard_seen`;
  }

  /** Connects (a URL makes a pool the store owns), creates the schema and tables if missing. */
  static async open(connection: string | pg.Pool, options: { readonly schema?: string } = {}): Promise<PostgresConfigGuardStore> {
    const schema = options.schema ?? 'holdfast';
    if (schema.length === 0 || Buffer.byteLength(schema) > 63) throw new Error(`PostgreSQL config guard store: schema name must be 1 to 63 bytes, got '${schema}'`);
    const ownsPool = typeof connection === 'string';
    const pool = ownsPool ? new pg.Pool({ connectionString: connection, options: '-c synchronous_commit=on' }) : connection;
    // A broken idle connection is reported on the pool; the next query reports a lasting outage.
    if (ownsPool) pool.on('error', () => undefined);
    const store = new PostgresConfigGuardStore(pool, schema, ownsPool);
    try {
      const s = pg.escapeIdentifier(schema);
      // One statement string runs as one transaction; the advisory lock serializes cluster nodes
      // starting at once, whose concurrent CREATE ... IF NOT EXISTS would otherwise collide on
      // the catalog's unique indexes (IF NOT EXISTS checks before it inserts, not atomically).
      await pool.query(`
SELECT pg_advisory_xact_lock(hashtextextended(${pg.escapeLiteral(`holdfast-config-guard-migrate/${schema}`)}, 0));
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${store.#records} (
  kind text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  at_ms bigint NOT NULL,
  revision integer NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS config_guard_records_by_time ON ${store.#records} (kind, at_ms, id);
CREATE TABLE IF NOT EXISTS ${store.#seen} (
  scope text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  first_seen_ms bigint NOT NULL,
  PRIMARY KEY (scope, key)
);`);
    } catch (e) {
      if (ownsPool) await pool.end();
      throw e;
    }
    return store;
  }

  async insert(kind: ConfigGuardRecordKind, id: string, atMs: number, body: unknown): Promise<void> {
    const rows = await query(this.#pool, `INSERT INTO ${this.#records} (kind, id, at_ms, revision, body) VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING RETURNING id`, [kind, id, atMs, JSON.stringify(body)]);
    if (rows.length !== 1) throw new ConfigGuardConflictError(`${kind} ${id} already exists`);
  }

  async get(kind: ConfigGuardRecordKind, id: string): Promise<StoredRecord | undefined> {
    const [row] = await query<Row>(this.#pool, `SELECT id, at_ms, revision, body FROM ${this.#records} WHERE kind = $1 AND id = $2`, [kind, id]);
    return row === undefined ? undefined : fromRow(row);
  }

  async list(kind: ConfigGuardRecordKind, options: { readonly limit?: number } = {}): Promise<StoredRecord[]> {
    const rows = await query<Row>(this.#pool, `SELECT id, at_ms, revision, body FROM ${this.#records} WHERE kind = $1 ORDER BY at_ms DESC, id DESC LIMIT $2`, [kind, options.limit ?? DEFAULT_LIST_LIMIT]);
    return rows.map(fromRow);
  }

  async update(kind: ConfigGuardRecordKind, id: string, expectedRevision: number, body: unknown): Promise<boolean> {
    const rows = await query(this.#pool, `UPDATE ${this.#records} SET body = $1, revision = revision + 1 WHERE kind = $2 AND id = $3 AND revision = $4 RETURNING id`, [JSON.stringify(body), kind, id, expectedRevision]);
    return rows.length === 1;
  }

  async markSeen(scope: string, keys: readonly string[], nowMs: number): Promise<Map<string, SeenKey>> {
    return inTransaction(this.#pool, async (c) => {
      // One scope at a time across nodes: a transaction-level advisory lock on the scope's name.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`config-guard-seen:${scope}`]);
      const existing = new Map(
        (await c.query<{ key: string; first_seen_ms: string }>(`SELECT key, first_seen_ms FROM ${this.#seen} WHERE scope = $1`, [scope])).rows.map((r) => [r.key, Number(r.first_seen_ms)]),
      );
      const wanted = [...new Set(keys)];
      await c.query(`DELETE FROM ${this.#seen} WHERE scope = $1 AND NOT (key = ANY($2::text[]))`, [scope, wanted]);
      const missing = wanted.filter((k) => !existing.has(k));
      if (missing.length > 0) await c.query(`INSERT INTO ${this.#seen} (scope, key, first_seen_ms) SELECT $1, unnest($2::text[]), $3`, [scope, missing, nowMs]);
      return new Map(wanted.map((key) => {
        const first = existing.get(key);
        return [key, first === undefined ? { firstSeenMs: nowMs, isNew: true } : { firstSeenMs: first, isNew: false }];
      }));
    });
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.#pool.end();
  }
}

function fromRow(row: Row): StoredRecord {
  return { id: row.id, atMs: Number(row.at_ms), revision: row.revision, body: JSON.parse(row.body) as unknown };
}
