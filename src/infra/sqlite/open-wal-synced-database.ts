import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { syncDirectorySync } from '../fs/sync-directory.js';
import { WalFileSync } from './wal-file-sync.js';

export interface WalSyncedDatabase {
  readonly db: Database.Database;
  /** A COMMIT on `db` is durable once `wal.sync()`, called after it returned, has resolved. */
  readonly wal: WalFileSync;
}

/**
 * Opens (creating if needed) a SQLite database for a store on the request path: WAL journal with
 * synchronous=NORMAL, whose commits the caller makes durable with `wal.sync()` (an fdatasync on
 * the thread pool, shared by every commit made while the previous one ran) before it
 * acknowledges them. Same guarantee as openDurableDatabase's synchronous=FULL, without an
 * fsync blocking the event loop inside every COMMIT. Owner-only directory, busy timeout for the
 * rare second connection; `schema` runs on every open (CREATE ... IF NOT EXISTS).
 */
export function openWalSyncedDatabase(path: string, schema: string): WalSyncedDatabase {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(schema);
    const walPath = `${path}-wal`;
    // A read in WAL mode opens (creates) the -wal file; schema statements have done so already.
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    if (!existsSync(walPath)) throw new Error(`${path}: SQLite did not create ${walPath} in WAL mode; is the directory writable?`);
    // The -wal file may be new: its directory entry must survive a crash as much as its bytes.
    syncDirectorySync(dirname(path));
    return { db, wal: new WalFileSync(walPath) };
  } catch (error) {
    db.close();
    throw error;
  }
}
