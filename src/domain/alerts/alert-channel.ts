import type { SecurityAlert } from './security-alert.js';

/**
 * Somewhere alerts go: a webhook, a mailbox, the log. Implementations live in
 * `src/infra/alerts/channels/`.
 */
export interface AlertChannel {
  /** Unique among the configured channels; delivery rows are keyed by it, so keep it stable. */
  readonly name: string;
  /**
   * MUST resolve only once the receiver accepted the alert (HTTP 2xx, SMTP 250 after DATA, the
   * line written) and reject otherwise; the dispatcher retries rejections with backoff.
   * MUST NOT put secrets (webhook secret, SMTP password, a URL's path or query) into the error
   * message: it is stored as the delivery's last error and shown to operators.
   * MUST bound its own time (a timeout), so one dead receiver cannot stall the dispatcher.
   */
  deliver(alert: SecurityAlert): Promise<void>;
}
