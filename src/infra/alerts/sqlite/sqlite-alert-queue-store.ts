import Database from 'better-sqlite3';
import {
  type AlertQueueStats,
  type AlertQueueStore,
  type ChannelQueueStats,
  type DeliveryFailure,
  MAX_DELIVERY_ERROR_LENGTH,
  type PendingDelivery,
} from '../../../domain/alerts/alert-queue-store.js';
import type { CoalescingState, QueueDecision } from '../../../domain/alerts/coalescing.js';
import type { SecurityAlert } from '../../../domain/alerts/security-alert.js';
import { GroupCommitQueue } from '../../metadata/sqlite/group-commit-queue.js';
import { alertQueueSchema } from './schema.js';
import { openDurableDatabase } from '../../sqlite/open-durable-database.js';

interface LatestRow {
  seq: number;
  id: string;
  due_ms: number;
  quiet_until_ms: number;
  started: number;
}

interface DueRow {
  alert: string;
  occurrences: number;
  last_at_ms: number;
  channel: string;
  attempts: number;
  first_due_ms: number;
  last_error: string | null;
}

/**
 * The alert queue in its own SQLite file. Same durability as the metadata store: WAL with
 * synchronous=FULL, writes grouped per event-loop turn (one fsync for many raises), every
 * promise settled only after COMMIT. `enqueue` runs its decision inside the write transaction,
 * which makes coalescing atomic; the batch runs synchronously, so no other write interleaves.
 */
export class SqliteAlertQueueStore implements AlertQueueStore {
  readonly #db: Database.Database;
  readonly #writes: GroupCommitQueue;
  readonly #stmt: ReturnType<typeof prepare>;

  constructor(path: string) {
    this.#db = openDurableDatabase(path, alertQueueSchema);
    this.#stmt = prepare(this.#db);
    this.#writes = new GroupCommitQueue(this.#db);
  }

  async enqueue(fingerprint: string, decide: (latest: CoalescingState | undefined) => QueueDecision): Promise<QueueDecision> {
    return this.#writes.run(() => {
      const row = this.#stmt.latest.get(fingerprint) as LatestRow | undefined;
      const latest: CoalescingState | undefined =
        row && { alertId: row.id, dueMs: row.due_ms, quietUntilMs: row.quiet_until_ms, started: row.started === 1 };
      const decision = decide(latest);
      if (decision.kind === 'add-occurrence') {
        if (this.#stmt.addOccurrence.run(decision.atMs, decision.alertId).changes !== 1) {
          throw new Error(`Alert ${decision.alertId} cannot take another occurrence: it is unknown or already on its way.`);
        }
        return decision;
      }
      const { alert, dueMs, quietUntilMs } = decision;
      const seq = Number(
        this.#stmt.insertAlert.run(alert.id, fingerprint, JSON.stringify(alert), alert.occurrences, alert.lastAtMs, dueMs, quietUntilMs).lastInsertRowid,
      );
      for (const channel of new Set(decision.channels)) this.#stmt.insertDelivery.run(seq, channel, dueMs, dueMs);
      return decision;
    });
  }

  async due(nowMs: number, limit: number, channels: readonly string[]): Promise<readonly PendingDelivery[]> {
    if (channels.length === 0 || limit <= 0) return [];
    const rows = this.#stmt.due.all(nowMs, JSON.stringify(channels), limit) as DueRow[];
    return rows.map((row) => ({
      alert: { ...(JSON.parse(row.alert) as SecurityAlert), occurrences: row.occurrences, lastAtMs: row.last_at_ms },
      channel: row.channel,
      attempts: row.attempts,
      firstDueMs: row.first_due_ms,
      lastError: row.last_error ?? undefined,
    }));
  }

  async nextDueMs(channels: readonly string[]): Promise<number | undefined> {
    if (channels.length === 0) return undefined;
    return (this.#stmt.nextDue.get(JSON.stringify(channels)) as { next: number | null }).next ?? undefined;
  }

  async markDelivered(alertId: string, channel: string, atMs: number): Promise<void> {
    await this.#writes.run(() => {
      if (this.#stmt.markDelivered.run(atMs, atMs, alertId, channel).changes === 1) this.#stmt.countDelivered.run(channel);
    });
  }

  async markFailed(alertId: string, channel: string, failure: DeliveryFailure): Promise<void> {
    const error = failure.error.slice(0, MAX_DELIVERY_ERROR_LENGTH);
    await this.#writes.run(() => {
      if (this.#stmt.markFailed.run(error, failure.atMs, failure.nextAttemptMs, alertId, channel).changes === 1) this.#stmt.countFailed.run(channel);
    });
  }

  async stats(nowMs: number): Promise<AlertQueueStats> {
    const byChannel: Record<string, ChannelQueueStats> = {};
    const entry = (channel: string): { -readonly [K in keyof ChannelQueueStats]: ChannelQueueStats[K] } =>
      (byChannel[channel] ??= { pending: 0, delivered: 0, failedAttempts: 0, oldestPendingMs: 0, lastError: undefined });
    for (const row of this.#stmt.totals.all() as Array<{ channel: string; delivered: number; failed_attempts: number }>) {
      Object.assign(entry(row.channel), { delivered: row.delivered, failedAttempts: row.failed_attempts });
    }
    for (const row of this.#stmt.pending.all() as Array<{ channel: string; pending: number; oldest: number }>) {
      Object.assign(entry(row.channel), { pending: row.pending, oldestPendingMs: Math.max(0, nowMs - row.oldest) });
    }
    for (const row of this.#stmt.lastErrors.all() as Array<{ channel: string; last_error: string }>) entry(row.channel).lastError = row.last_error;
    const all = Object.values(byChannel);
    return {
      pending: sum(all.map((c) => c.pending)),
      delivered: sum(all.map((c) => c.delivered)),
      failedAttempts: sum(all.map((c) => c.failedAttempts)),
      oldestPendingMs: Math.max(0, ...all.map((c) => c.oldestPendingMs)),
      byChannel,
    };
  }

  async close(): Promise<void> {
    await this.#writes.drain();
    this.#db.close();
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function prepare(db: Database.Database) {
  const started = 'EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_seq = alerts.seq AND (d.attempts > 0 OR d.delivered_ms IS NOT NULL))';
  const pendingOf = (column: string) => `${column} IN (SELECT value FROM json_each(?))`;
  return {
    latest: db.prepare(`SELECT seq, id, due_ms, quiet_until_ms, ${started} AS started FROM alerts WHERE fingerprint = ? ORDER BY seq DESC LIMIT 1`),
    addOccurrence: db.prepare(`UPDATE alerts SET occurrences = occurrences + 1, last_at_ms = max(last_at_ms, ?) WHERE id = ? AND NOT ${started}`),
    insertAlert: db.prepare(
      'INSERT INTO alerts (id, fingerprint, alert, occurrences, last_at_ms, due_ms, quiet_until_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    insertDelivery: db.prepare(
      'INSERT INTO deliveries (alert_seq, channel, delivered_ms, attempts, first_due_ms, next_attempt_ms) VALUES (?, ?, NULL, 0, ?, ?)',
    ),
    due: db.prepare(
      `SELECT a.alert, a.occurrences, a.last_at_ms, d.channel, d.attempts, d.first_due_ms, d.last_error
       FROM deliveries d JOIN alerts a ON a.seq = d.alert_seq
       WHERE d.delivered_ms IS NULL AND d.next_attempt_ms <= ? AND ${pendingOf('d.channel')}
       ORDER BY d.next_attempt_ms, d.alert_seq, d.channel LIMIT ?`,
    ),
    nextDue: db.prepare(`SELECT min(next_attempt_ms) AS next FROM deliveries WHERE delivered_ms IS NULL AND ${pendingOf('channel')}`),
    markDelivered: db.prepare(
      `UPDATE deliveries SET delivered_ms = ?, last_attempt_ms = ?
       WHERE alert_seq = (SELECT seq FROM alerts WHERE id = ?) AND channel = ? AND delivered_ms IS NULL`,
    ),
    markFailed: db.prepare(
      `UPDATE deliveries SET attempts = attempts + 1, last_error = ?, last_attempt_ms = ?, next_attempt_ms = ?
       WHERE alert_seq = (SELECT seq FROM alerts WHERE id = ?) AND channel = ? AND delivered_ms IS NULL`,
    ),
    countDelivered: db.prepare(
      'INSERT INTO channel_totals (channel, delivered, failed_attempts) VALUES (?, 1, 0) ON CONFLICT (channel) DO UPDATE SET delivered = delivered + 1',
    ),
    countFailed: db.prepare(
      'INSERT INTO channel_totals (channel, delivered, failed_attempts) VALUES (?, 0, 1) ON CONFLICT (channel) DO UPDATE SET failed_attempts = failed_attempts + 1',
    ),
    totals: db.prepare('SELECT channel, delivered, failed_attempts FROM channel_totals'),
    pending: db.prepare('SELECT channel, count(*) AS pending, min(first_due_ms) AS oldest FROM deliveries WHERE delivered_ms IS NULL GROUP BY channel'),
    lastErrors: db.prepare(
      `SELECT channel, last_error FROM (
         SELECT channel, last_error, row_number() OVER (PARTITION BY channel ORDER BY last_attempt_ms DESC, alert_seq DESC) AS rn
         FROM deliveries WHERE delivered_ms IS NULL AND last_error IS NOT NULL)
       WHERE rn = 1`,
    ),
  };
}
