import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Opens (creating if needed) a SQLite database the way every Holdfast store needs it: in an
 * owner-only directory, WAL journal with synchronous=FULL — a COMMIT is on disk (the WAL
 * fsync'd) before it returns, so an acknowledged write survives a crash or power loss — and a
 * busy timeout for the rare second connection (tools, tests). `schema` is run on every open
 * (CREATE ... IF NOT EXISTS).
 */
export function openDurableDatabase(path: string, schema: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(schema);
  return db;
}
