import type { CoalescingState, QueueDecision } from './coalescing.js';
import type { SecurityAlert } from './security-alert.js';

/**
 * The durable outbox of alerts: one row per alert and one delivery row per (alert, channel).
 * SQLite (embedded) and PostgreSQL (scale-out) implement it; `alert-queue-store-contract.ts`
 * is the test suite every implementation must pass.
 */
export interface AlertQueueStore {
  /**
   * Reads the newest alert with this fingerprint, calls `decide` with it and applies the
   * decision: insert the alert (plus one pending delivery per channel, due at `dueMs`), or add
   * one occurrence to the named alert.
   * MUST run read, decide and write atomically with respect to every other `enqueue`: two
   * concurrent calls for one fingerprint see each other's result (the second sees the first).
   * (SQLite: one writer at a time does it. PostgreSQL: there may be no row to lock yet, so take
   * `pg_advisory_xact_lock` on a hash of the fingerprint first — docs §13.3.5 Advisory Locks.)
   * MUST be durable (on disk, fsync'd) before the promise resolves.
   * `CoalescingState.started` MUST be true once any delivery of that alert was attempted
   * (`markFailed`) or completed (`markDelivered`).
   * Resolves to the applied decision.
   */
  enqueue(fingerprint: string, decide: (latest: CoalescingState | undefined) => QueueDecision): Promise<QueueDecision>;

  /**
   * Pending deliveries for the named channels whose next attempt is due at or before `nowMs`,
   * earliest first (ties in enqueue order), at most `limit`. The alert carries its current
   * `occurrences` and `lastAtMs`. MUST NOT return delivered rows or rows of other channels (a
   * channel that is cooling down, or no longer configured, is simply not named).
   */
  due(nowMs: number, limit: number, channels: readonly string[]): Promise<readonly PendingDelivery[]>;

  /** The earliest next attempt of any pending delivery for the named channels; undefined if none. */
  nextDueMs(channels: readonly string[]): Promise<number | undefined>;

  /**
   * MUST durably mark the delivery delivered (it is never returned by `due` again) and count it.
   * MUST be a no-op for an unknown or already delivered row.
   */
  markDelivered(alertId: string, channel: string, atMs: number): Promise<void>;

  /**
   * MUST durably record one failed attempt: attempts + 1, the error (truncated to 1,000
   * characters), and the next attempt time. MUST count the failure in the totals even if the
   * row is later delivered or purged. MUST be a no-op for an unknown or delivered row.
   */
  markFailed(alertId: string, channel: string, failure: DeliveryFailure): Promise<void>;

  /** Counts for metrics; totals (delivered, failedAttempts) only ever grow. */
  stats(nowMs: number): Promise<AlertQueueStats>;

  /** Waits for queued writes, then releases the database. No method may be called after. */
  close(): Promise<void>;
}

export interface PendingDelivery {
  readonly alert: SecurityAlert;
  readonly channel: string;
  /** Failed attempts so far. */
  readonly attempts: number;
  /** When the first attempt was due: the start of "how long has this been failing". */
  readonly firstDueMs: number;
  readonly lastError: string | undefined;
}

export interface DeliveryFailure {
  readonly atMs: number;
  readonly nextAttemptMs: number;
  readonly error: string;
}

export interface ChannelQueueStats {
  /** Deliveries not yet accepted by the receiver (including held, coalescing ones). */
  readonly pending: number;
  /** Total deliveries accepted, ever. */
  readonly delivered: number;
  /** Total failed attempts, ever. */
  readonly failedAttempts: number;
  /** Age of the oldest overdue pending delivery (now minus its first due time); 0 when none. */
  readonly oldestPendingMs: number;
  /** The last error of the pending delivery that failed most recently, if any. */
  readonly lastError: string | undefined;
}

export interface AlertQueueStats {
  readonly pending: number;
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly oldestPendingMs: number;
  readonly byChannel: Readonly<Record<string, ChannelQueueStats>>;
}

/** Longest error text a store keeps per delivery. */
export const MAX_DELIVERY_ERROR_LENGTH = 1000;
