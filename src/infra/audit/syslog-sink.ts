import { type Socket as UdpSocket, createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { type Socket, connect } from 'node:net';
import { hostname as osHostname } from 'node:os';
import type { AuditEntry } from '../../domain/audit/audit-entry.js';
import type { AuditEntrySink } from './json-lines-sink.js';
import { auditLogLine } from './json-lines-sink.js';

export interface SyslogSinkOptions {
  readonly host: string;
  readonly port: number;
  /** UDP (RFC 5426): one message per datagram. TCP (RFC 6587): octet-counting framing, reconnects. */
  readonly protocol: 'udp' | 'tcp';
  /** APP-NAME, e.g. 'holdfast'. */
  readonly appName: string;
  /** Default 13, "log audit" (RFC 5424 §6.2.1, Table 1). */
  readonly facility?: number | undefined;
  /** HOSTNAME field; default this machine's host name. */
  readonly hostname?: string | undefined;
  /** Node id, added to each message's JSON. */
  readonly chain?: string | undefined;
  /** Bytes kept while the receiver is unreachable or slow; beyond this, entries are dropped and counted. */
  readonly maxPendingBytes?: number | undefined;
  readonly onError?: ((error: unknown) => void) | undefined;
}

const MAX_RECONNECT_DELAY_MS = 30_000;
const BOM = '\uFEFF';

/**
 * One RFC 5424 message:
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA BOM MSG
 * PRI = facility × 8 + severity (§6.2.1): informational (6) for ok/allowed, notice (5) for
 * denied, warning (4) for error. TIMESTAMP is the entry's time (RFC 3339, UTC, milliseconds).
 * MSGID is "audit", STRUCTURED-DATA is nil ("-"), and MSG is the entry's JSON line (as the
 * stdout sink writes it, without the newline), UTF-8 with the BOM that §6.4 requires for UTF-8.
 * Header fields are PRINTUSASCII only, cut to their maximum lengths (§6).
 */
export function formatSyslogMessage(
  entry: AuditEntry,
  header: { readonly facility: number; readonly hostname: string; readonly appName: string; readonly procId: string },
  chain?: string,
): Buffer {
  const severity = entry.result === 'error' ? 4 : entry.result === 'denied' ? 5 : 6;
  const timestamp = Number.isFinite(entry.timeMs) ? new Date(entry.timeMs).toISOString() : '-';
  const fields = [
    `<${header.facility * 8 + severity}>1`,
    timestamp,
    printable(header.hostname, 255),
    printable(header.appName, 48),
    printable(header.procId, 128),
    'audit',
    '-',
  ];
  return Buffer.from(`${fields.join(' ')} ${BOM}${auditLogLine(entry, chain).slice(0, -1)}`, 'utf8');
}

function printable(value: string, max: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '-').slice(0, max);
  return cleaned === '' ? '-' : cleaned;
}

/**
 * Sends every entry to a syslog receiver. Like the stdout sink it never blocks or throws:
 * messages wait (bounded by maxPendingBytes) while the receiver is unreachable or slow, and
 * are dropped and counted beyond that. Delivery is best effort by nature (UDP may lose
 * datagrams silently; a TCP connection that dies loses what was in flight): the audit chain in
 * the store is the record, this is its copy for centralized logging. TLS (RFC 5425) is not
 * offered; over untrusted networks, run a local relay.
 */
export function createSyslogSink(options: SyslogSinkOptions): AuditEntrySink {
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new Error(`syslog port ${options.port} is invalid`);
  const facility = options.facility ?? 13;
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) throw new Error(`syslog facility ${facility} is invalid (0 to 23)`);
  const header = { facility, hostname: options.hostname ?? osHostname(), appName: options.appName, procId: String(process.pid) };
  const format = (entry: AuditEntry) => formatSyslogMessage(entry, header, options.chain);
  return options.protocol === 'udp' ? new UdpSyslogSink(options, format) : new TcpSyslogSink(options, format);
}

abstract class QueueingSink implements AuditEntrySink {
  protected readonly options: SyslogSinkOptions;
  readonly #format: (entry: AuditEntry) => Buffer;
  readonly #maxPendingBytes: number;
  protected pending: Buffer[] = [];
  protected pendingBytes = 0;
  #dropped = 0;
  protected closed = false;

  constructor(options: SyslogSinkOptions, format: (entry: AuditEntry) => Buffer) {
    this.options = options;
    this.#format = format;
    this.#maxPendingBytes = options.maxPendingBytes ?? 4 * 1024 * 1024;
  }

  get droppedEntries(): number {
    return this.#dropped;
  }

  write(entry: AuditEntry): void {
    if (this.closed) return this.countDropped(1);
    const message = this.#format(entry);
    if (this.pendingBytes + message.length > this.#maxPendingBytes) return this.countDropped(1);
    this.pending.push(message);
    this.pendingBytes += message.length;
    this.pump();
  }

  protected countDropped(count: number): void {
    this.#dropped += count;
  }

  protected take(): Buffer | undefined {
    const message = this.pending.shift();
    if (message !== undefined) this.pendingBytes -= message.length;
    return message;
  }

  protected report(error: unknown): void {
    this.options.onError?.(error);
  }

  protected abstract pump(): void;
  abstract close(): Promise<void>;
}

class UdpSyslogSink extends QueueingSink {
  #socket: UdpSocket | undefined;
  #connecting: Promise<void> | undefined;
  #inFlight = 0;
  #idle: Array<() => void> = [];

  protected pump(): void {
    if (this.#socket === undefined) {
      if (this.#connecting !== undefined) return;
      this.#connecting = this.#connect().catch((error: unknown) => {
        this.report(error);
        this.countDropped(this.pending.length);
        this.pending = [];
        this.pendingBytes = 0;
        this.#connecting = undefined;
        this.#settleIdle();
      });
      return;
    }
    for (let message = this.take(); message !== undefined; message = this.take()) {
      this.#inFlight += 1;
      this.#socket.send(message, (error) => {
        this.#inFlight -= 1;
        if (error) {
          this.countDropped(1);
          this.report(error);
        }
        this.#settleIdle();
      });
    }
  }

  async #connect(): Promise<void> {
    // Resolved once: a lookup per datagram would cost more than the datagram.
    const { address, family } = await lookup(this.options.host);
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    socket.on('error', (error) => this.report(error));
    await new Promise<void>((resolve) => socket.connect(this.options.port, address, resolve));
    socket.unref();
    this.#socket = socket;
    this.pump();
  }

  #settleIdle(): void {
    if (this.#inFlight === 0 && this.pending.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0 || this.#inFlight > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    this.closed = true;
    this.#socket?.close();
  }
}

class TcpSyslogSink extends QueueingSink {
  #socket: Socket | undefined;
  #connected = false;
  #blocked = false;
  #reconnectDelayMs = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;

  protected pump(): void {
    if (this.closed && this.#socket === undefined) return;
    if (this.#socket === undefined) {
      if (this.#reconnectTimer === undefined) this.#connect();
      return;
    }
    if (!this.#connected || this.#blocked) return;
    const chunks: Buffer[] = [];
    for (let message = this.take(); message !== undefined; message = this.take()) {
      // RFC 6587 §3.4.1 octet counting: MSG-LEN SP SYSLOG-MSG.
      chunks.push(Buffer.from(`${message.length} `, 'ascii'), message);
    }
    if (chunks.length === 0) return;
    if (!this.#socket.write(Buffer.concat(chunks))) this.#blocked = true;
  }

  #connect(): void {
    const socket = connect({ host: this.options.host, port: this.options.port });
    this.#socket = socket;
    socket.unref();
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.#connected = true;
      this.#reconnectDelayMs = 0;
      this.pump();
    });
    socket.on('drain', () => {
      this.#blocked = false;
      this.pump();
    });
    socket.on('error', (error) => this.report(error));
    socket.on('close', () => {
      this.#socket = undefined;
      this.#connected = false;
      this.#blocked = false;
      if (this.closed) return;
      this.#reconnectDelayMs = Math.min(Math.max(100, this.#reconnectDelayMs * 2), MAX_RECONNECT_DELAY_MS);
      this.#reconnectTimer = setTimeout(() => {
        this.#reconnectTimer = undefined;
        if (this.pending.length > 0) this.#connect();
      }, this.#reconnectDelayMs);
      this.#reconnectTimer.unref();
    });
  }

  /** Sends what is pending if connected (waiting up to 2 s for that), then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    const socket = this.#socket;
    if (socket !== undefined) {
      const done = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const giveUp = setTimeout(() => socket.destroy(), 2_000);
      const finish = () => {
        // The socket buffers whatever it is given; at close, everything pending goes to it.
        this.#blocked = false;
        this.pump();
        socket.end();
      };
      if (this.#connected) finish();
      else socket.once('connect', finish);
      await done;
      clearTimeout(giveUp);
    }
    // Whatever never reached a connection is lost: counted, not silent.
    this.countDropped(this.pending.length);
    this.pending = [];
    this.pendingBytes = 0;
  }
}
