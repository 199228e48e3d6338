/**
 * The alert queue schema, in its own database file (`DATA/metadata/alerts.sqlite`) so a storm
 * of alerts never competes with object metadata writes for the same write lock.
 *
 * `alerts.alert` holds the alert as first raised (JSON); `occurrences` and `last_at_ms` grow as
 * identical events are coalesced into it. A delivery is pending while `delivered_ms` is NULL.
 * `channel_totals` holds counters that only grow, so metrics stay monotonic even if delivered
 * rows are purged one day.
 */
export const alertQueueSchema = `
CREATE TABLE IF NOT EXISTS alerts (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  fingerprint TEXT NOT NULL,
  alert TEXT NOT NULL,
  occurrences INTEGER NOT NULL,
  last_at_ms INTEGER NOT NULL,
  due_ms INTEGER NOT NULL,
  quiet_until_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS alerts_by_fingerprint ON alerts (fingerprint, seq);

CREATE TABLE IF NOT EXISTS deliveries (
  alert_seq INTEGER NOT NULL REFERENCES alerts (seq),
  channel TEXT NOT NULL,
  delivered_ms INTEGER,
  attempts INTEGER NOT NULL,
  first_due_ms INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  last_attempt_ms INTEGER,
  last_error TEXT,
  PRIMARY KEY (alert_seq, channel)
) STRICT;
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (next_attempt_ms, alert_seq, channel) WHERE delivered_ms IS NULL;

CREATE TABLE IF NOT EXISTS channel_totals (
  channel TEXT PRIMARY KEY,
  delivered INTEGER NOT NULL,
  failed_attempts INTEGER NOT NULL
) STRICT;
`;
