import type Database from 'better-sqlite3';
import type { ScrubCursor, ScrubFinding, ScrubPass, ScrubRecords } from '../../domain/scrub/scrub-records.js';
import type { IntegrityProblem } from '../../domain/scrub/version-integrity.js';
import { openDurableDatabase } from '../sqlite/open-durable-database.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS scrub_passes (
  id TEXT PRIMARY KEY,
  trigger TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  outcome TEXT NOT NULL,
  fraction REAL NOT NULL,
  total_versions INTEGER NOT NULL DEFAULT 0,
  planned_versions INTEGER NOT NULL DEFAULT 0,
  versions INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  from_position TEXT,
  to_position TEXT,
  cycle_completed INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
CREATE INDEX IF NOT EXISTS scrub_passes_by_start ON scrub_passes (started_ms);
CREATE TABLE IF NOT EXISTS scrub_findings (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  pass_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  version_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  problem TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scrub_findings_by_pass ON scrub_findings (pass_id);
CREATE TABLE IF NOT EXISTS scrub_state (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

interface PassRow {
  id: string;
  trigger: string;
  started_ms: number;
  ended_ms: number | null;
  outcome: string;
  fraction: number;
  total_versions: number;
  planned_versions: number;
  versions: number;
  bytes: number;
  failures: number;
  from_position: string | null;
  to_position: string | null;
  cycle_completed: number;
  error: string | null;
}

interface FindingRow {
  pass_id: string;
  at_ms: number;
  bucket: string;
  key: string;
  version_id: string;
  size: number;
  problem: string;
  detail: string;
}

const COLUMNS: Record<string, string> = {
  endedMs: 'ended_ms',
  outcome: 'outcome',
  totalVersions: 'total_versions',
  plannedVersions: 'planned_versions',
  versions: 'versions',
  bytes: 'bytes',
  failures: 'failures',
  fromPosition: 'from_position',
  toPosition: 'to_position',
  cycleCompleted: 'cycle_completed',
  error: 'error',
};

/** Scrub passes, findings and the walk's cursor in DATA/metadata/scrub.sqlite (synchronous=FULL). */
export class SqliteScrubRecords implements ScrubRecords {
  readonly #db: Database.Database;

  constructor(path: string) {
    this.#db = openDurableDatabase(path, SCHEMA);
  }

  cursor(): ScrubCursor | undefined {
    const value = this.#state('cursor');
    return value === undefined ? undefined : (JSON.parse(value) as ScrubCursor);
  }

  saveCursor(cursor: ScrubCursor | undefined): void {
    if (cursor === undefined) this.#db.prepare("DELETE FROM scrub_state WHERE name = 'cursor'").run();
    else this.#setState('cursor', JSON.stringify({ bucket: cursor.bucket, key: cursor.key, versionId: cursor.versionId }));
  }

  lastCycleCompletedMs(): number | undefined {
    const value = this.#state('cycle-completed-ms');
    return value === undefined ? undefined : Number(value);
  }

  markCycleCompleted(atMs: number): void {
    this.#setState('cycle-completed-ms', String(atMs));
  }

  startPass(pass: ScrubPass): void {
    this.#db
      .prepare('INSERT INTO scrub_passes (id, trigger, started_ms, outcome, fraction) VALUES (?, ?, ?, ?, ?)')
      .run(pass.id, pass.trigger, pass.startedMs, pass.outcome, pass.fraction);
  }

  updatePass(id: string, update: Partial<Omit<ScrubPass, 'id' | 'trigger' | 'startedMs' | 'fraction'>>): void {
    const sets: string[] = [];
    const values: Array<string | number | null> = [];
    for (const [field, value] of Object.entries(update)) {
      const column = COLUMNS[field];
      if (column === undefined) throw new Error(`unknown scrub pass field ${field}`);
      sets.push(`${column} = ?`);
      values.push(value === undefined ? null : typeof value === 'boolean' ? Number(value) : value);
    }
    if (sets.length === 0) return;
    this.#db.prepare(`UPDATE scrub_passes SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  addFinding(f: ScrubFinding): void {
    this.#db
      .prepare('INSERT INTO scrub_findings (pass_id, at_ms, bucket, key, version_id, size, problem, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(f.passId, f.atMs, f.bucket, f.key, f.versionId, f.size, f.problem, f.detail);
  }

  interruptLeftovers(nowMs: number): number {
    return this.#db
      .prepare("UPDATE scrub_passes SET outcome = 'interrupted', ended_ms = ?, error = 'the server stopped during the pass' WHERE outcome = 'running'")
      .run(nowMs).changes;
  }

  pass(id: string): ScrubPass | undefined {
    const row = this.#db.prepare('SELECT * FROM scrub_passes WHERE id = ?').get(id) as PassRow | undefined;
    return row === undefined ? undefined : toPass(row);
  }

  passes(limit: number): ScrubPass[] {
    return (this.#db.prepare('SELECT * FROM scrub_passes ORDER BY started_ms DESC, id DESC LIMIT ?').all(limit) as PassRow[]).map(toPass);
  }

  findings(filter: { passId?: string; limit: number }): ScrubFinding[] {
    const rows =
      filter.passId === undefined
        ? (this.#db.prepare('SELECT * FROM scrub_findings ORDER BY seq DESC LIMIT ?').all(filter.limit) as FindingRow[])
        : (this.#db.prepare('SELECT * FROM scrub_findings WHERE pass_id = ? ORDER BY seq LIMIT ?').all(filter.passId, filter.limit) as FindingRow[]);
    return rows.map((r) => ({
      passId: r.pass_id,
      atMs: r.at_ms,
      bucket: r.bucket,
      key: r.key,
      versionId: r.version_id,
      size: r.size,
      problem: r.problem as IntegrityProblem,
      detail: r.detail,
    }));
  }

  close(): void {
    this.#db.close();
  }

  #state(name: string): string | undefined {
    return (this.#db.prepare('SELECT value FROM scrub_state WHERE name = ?').get(name) as { value: string } | undefined)?.value;
  }

  #setState(name: string, value: string): void {
    this.#db.prepare('INSERT INTO scrub_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
  }
}

function toPass(r: PassRow): ScrubPass {
  return {
    id: r.id,
    trigger: r.trigger as ScrubPass['trigger'],
    startedMs: r.started_ms,
    endedMs: r.ended_ms ?? undefined,
    outcome: r.outcome as ScrubPass['outcome'],
    fraction: r.fraction,
    totalVersions: r.total_versions,
    plannedVersions: r.planned_versions,
    versions: r.versions,
    bytes: r.bytes,
    failures: r.failures,
    fromPosition: r.from_position ?? undefined,
    toPosition: r.to_position ?? undefined,
    cycleCompleted: r.cycle_completed === 1,
    error: r.error ?? undefined,
  };
}
