import type { AlertChannel } from '../../../domain/alerts/alert-channel.js';
import type { SecurityAlert } from '../../../domain/alerts/security-alert.js';

/** Receives one complete JSON text per alert, without a trailing newline. */
export type LogLineWriter = (line: string) => void;

/**
 * Writes each alert as one JSON line `{ "type": "alert", ...alert }` through the server's log,
 * where a log shipper (journald, Loki, a SIEM) can pick it up. It fails only if the writer
 * throws.
 */
export class LogChannel implements AlertChannel {
  readonly name: string;
  readonly #write: LogLineWriter;

  constructor(name: string, write: LogLineWriter) {
    this.name = name;
    this.#write = write;
  }

  async deliver(alert: SecurityAlert): Promise<void> {
    this.#write(JSON.stringify({ type: 'alert', ...alert }));
  }
}
