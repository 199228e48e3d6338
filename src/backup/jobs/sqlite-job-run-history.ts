import type Database from 'better-sqlite3';
import { openDurableDatabase } from '../../infra/sqlite/open-durable-database.js';
import type { JobRun, JobRunFinish, JobRunHistory, JobRunOutcome, JobRunTrigger, LocalEvidence } from './job-run.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS job_runs (
  id TEXT PRIMARY KEY,
  job TEXT NOT NULL,
  trigger TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER,
  outcome TEXT NOT NULL,
  bytes INTEGER NOT NULL DEFAULT 0,
  objects INTEGER NOT NULL DEFAULT 0,
  manifest_key TEXT,
  error TEXT,
  log_excerpt TEXT
);
CREATE INDEX IF NOT EXISTS job_runs_by_job ON job_runs (job, started_ms);
CREATE INDEX IF NOT EXISTS job_runs_running ON job_runs (outcome) WHERE outcome = 'running';
CREATE TABLE IF NOT EXISTS evidence (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  job TEXT NOT NULL,
  outcome TEXT NOT NULL,
  recorded_ms INTEGER NOT NULL,
  record TEXT NOT NULL,
  archived_at TEXT,
  PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS evidence_by_time ON evidence (kind, recorded_ms);
CREATE INDEX IF NOT EXISTS evidence_unarchived ON evidence (recorded_ms) WHERE archived_at IS NULL;
CREATE TABLE IF NOT EXISTS job_first_seen (
  job TEXT PRIMARY KEY,
  first_seen_ms INTEGER NOT NULL
);
`;

interface Row {
  id: string;
  job: string;
  trigger: string;
  started_ms: number;
  ended_ms: number | null;
  outcome: string;
  bytes: number;
  objects: number;
  manifest_key: string | null;
  error: string | null;
  log_excerpt: string | null;
}

/** The job history in its own SQLite file (DATA/metadata/jobs.sqlite), synchronous=FULL. */
export class SqliteJobRunHistory implements JobRunHistory {
  readonly #db: Database.Database;

  constructor(path: string) {
    this.#db = openDurableDatabase(path, SCHEMA);
  }

  start(run: { id: string; job: string; trigger: JobRunTrigger; startedMs: number }): void {
    this.#db.prepare("INSERT INTO job_runs (id, job, trigger, started_ms, outcome) VALUES (?, ?, ?, ?, 'running')").run(run.id, run.job, run.trigger, run.startedMs);
  }

  finish(id: string, f: JobRunFinish): void {
    const changed = this.#db
      .prepare("UPDATE job_runs SET outcome = ?, ended_ms = ?, bytes = ?, objects = ?, manifest_key = ?, error = ?, log_excerpt = ? WHERE id = ? AND outcome = 'running'")
      .run(f.outcome, f.endedMs, f.bytes, f.objects, f.manifestKey ?? null, f.error ?? null, f.logExcerpt ?? null, id).changes;
    if (changed !== 1) throw new Error(`job run ${id} is not running; its outcome was already recorded`);
  }

  interruptLeftovers(nowMs: number, reason: string): JobRun[] {
    return this.#db.transaction(() => {
      const rows = this.#db.prepare("SELECT * FROM job_runs WHERE outcome = 'running' ORDER BY started_ms").all() as Row[];
      this.#db.prepare("UPDATE job_runs SET outcome = 'interrupted', ended_ms = ?, error = ? WHERE outcome = 'running'").run(nowMs, reason);
      return rows.map((r) => toRun({ ...r, outcome: 'interrupted', ended_ms: nowMs, error: reason }));
    })();
  }

  get(id: string): JobRun | undefined {
    const row = this.#db.prepare('SELECT * FROM job_runs WHERE id = ?').get(id) as Row | undefined;
    return row === undefined ? undefined : toRun(row);
  }

  list(filter: { job?: string; limit: number }): JobRun[] {
    const rows =
      filter.job === undefined
        ? (this.#db.prepare('SELECT * FROM job_runs ORDER BY started_ms DESC, id DESC LIMIT ?').all(filter.limit) as Row[])
        : (this.#db.prepare('SELECT * FROM job_runs WHERE job = ? ORDER BY started_ms DESC, id DESC LIMIT ?').all(filter.job, filter.limit) as Row[]);
    return rows.map(toRun);
  }

  lastSuccess(job: string): JobRun | undefined {
    const row = this.#db.prepare("SELECT * FROM job_runs WHERE job = ? AND outcome = 'succeeded' ORDER BY ended_ms DESC LIMIT 1").get(job) as Row | undefined;
    return row === undefined ? undefined : toRun(row);
  }

  firstSeenMs(job: string, nowMs: number): number {
    this.#db.prepare('INSERT OR IGNORE INTO job_first_seen (job, first_seen_ms) VALUES (?, ?)').run(job, nowMs);
    return (this.#db.prepare('SELECT first_seen_ms FROM job_first_seen WHERE job = ?').get(job) as { first_seen_ms: number }).first_seen_ms;
  }

  putEvidence(entry: { kind: string; id: string; job: string; outcome: string; recordedMs: number; record: string }): void {
    this.#db.prepare('INSERT OR IGNORE INTO evidence (kind, id, job, outcome, recorded_ms, record) VALUES (?, ?, ?, ?, ?, ?)').run(entry.kind, entry.id, entry.job, entry.outcome, entry.recordedMs, entry.record);
  }

  getEvidence(kind: string, id: string): LocalEvidence | undefined {
    const row = this.#db.prepare('SELECT * FROM evidence WHERE kind = ? AND id = ?').get(kind, id) as EvidenceRow | undefined;
    return row === undefined ? undefined : toEvidence(row);
  }

  listEvidence(filter: { kind: string; job?: string; limit: number }): LocalEvidence[] {
    const rows =
      filter.job === undefined
        ? this.#db.prepare('SELECT * FROM evidence WHERE kind = ? ORDER BY recorded_ms DESC, id DESC LIMIT ?').all(filter.kind, filter.limit)
        : this.#db.prepare('SELECT * FROM evidence WHERE kind = ? AND job = ? ORDER BY recorded_ms DESC, id DESC LIMIT ?').all(filter.kind, filter.job, filter.limit);
    return (rows as EvidenceRow[]).map(toEvidence);
  }

  unarchivedEvidence(limit: number): LocalEvidence[] {
    return (this.#db.prepare('SELECT * FROM evidence WHERE archived_at IS NULL ORDER BY recorded_ms LIMIT ?').all(limit) as EvidenceRow[]).map(toEvidence);
  }

  markEvidenceArchived(kind: string, id: string, location: string): void {
    this.#db.prepare('UPDATE evidence SET archived_at = ? WHERE kind = ? AND id = ?').run(location, kind, id);
  }

  close(): void {
    this.#db.close();
  }
}

interface EvidenceRow {
  kind: string;
  id: string;
  job: string;
  outcome: string;
  recorded_ms: number;
  record: string;
  archived_at: string | null;
}

function toEvidence(row: EvidenceRow): LocalEvidence {
  return Object.freeze({ kind: row.kind, id: row.id, job: row.job, outcome: row.outcome, recordedMs: row.recorded_ms, record: row.record, archivedAt: row.archived_at ?? undefined });
}

function toRun(row: Row): JobRun {
  return Object.freeze({
    id: row.id,
    job: row.job,
    trigger: row.trigger as JobRunTrigger,
    startedMs: row.started_ms,
    endedMs: row.ended_ms ?? undefined,
    outcome: row.outcome as JobRunOutcome,
    bytes: row.bytes,
    objects: row.objects,
    manifestKey: row.manifest_key ?? undefined,
    error: row.error ?? undefined,
    logExcerpt: row.log_excerpt ?? undefined,
  });
}
