import { createTransport } from 'nodemailer';
import type { AlertChannel } from '../../../domain/alerts/alert-channel.js';
import type { SecurityAlert } from '../../../domain/alerts/security-alert.js';
import type { Secret } from '../../../domain/secret.js';
import { alertHeadline, alertText } from './alert-text.js';

/**
 * How to protect the connection when `secure` (implicit TLS, usually port 465) is off:
 * - `required` (default): STARTTLS (RFC 3207) or no delivery — alerts name identities and
 *   buckets, and a password must never cross the network in clear;
 * - `opportunistic`: STARTTLS when the server offers it, plain text otherwise (a relay on
 *   localhost that has no TLS).
 */
export type StartTlsPolicy = 'required' | 'opportunistic';

export interface SmtpChannelOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Implicit TLS from the first byte (SMTPS, RFC 8314 §3.3). */
  readonly secure?: boolean | undefined;
  readonly startTls?: StartTlsPolicy | undefined;
  readonly username?: string | undefined;
  readonly password?: Secret | undefined;
  readonly from: string;
  readonly to: readonly string[];
  /** Connect, greeting and per-command inactivity limit (default 15 s). */
  readonly timeoutMs?: number | undefined;
  /** Extra CA certificates (PEM) to trust, e.g. an internal CA or a test's self-signed certificate. */
  readonly ca?: string | undefined;
}

/**
 * Sends each alert as a plain-text email: subject `[Holdfast] <severity>: <title>`, a body with
 * every field, and `Message-ID: <alert id.channel@holdfast.alerts>` so a mail client folds a
 * redelivery into the first copy.
 *
 * Built on nodemailer rather than a hand-written client: it is dependency-free and has no
 * install script, and it already gets right the parts that are easy to get wrong — STARTTLS
 * with downgrade refusal, SASL mechanism choice, dot-stuffing and line-length limits
 * (RFC 5321 §4.5.2, §4.5.3.1.6), RFC 2047 encoding of non-ASCII subjects.
 */
export class SmtpChannel implements AlertChannel {
  readonly name: string;
  readonly #from: string;
  readonly #to: readonly string[];
  readonly #transport: ReturnType<typeof createTransport>;
  readonly #redact: (text: string) => string;

  constructor(options: SmtpChannelOptions) {
    this.name = options.name;
    this.#from = options.from;
    this.#to = options.to;
    const secure = options.secure ?? false;
    const policy = options.startTls ?? 'required';
    const timeoutMs = options.timeoutMs ?? 15_000;
    this.#transport = createTransport({
      host: options.host,
      port: options.port,
      secure,
      requireTLS: !secure && policy === 'required',
      opportunisticTLS: !secure && policy === 'opportunistic',
      ...(options.username === undefined || options.password === undefined
        ? {}
        : { auth: { user: options.username, pass: options.password.reveal() } }),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
      tls: { minVersion: 'TLSv1.2', ...(options.ca === undefined ? {} : { ca: options.ca }) },
      logger: false,
      debug: false,
    });
    this.#redact = redactor(options.username, options.password);
  }

  async deliver(alert: SecurityAlert): Promise<void> {
    try {
      await this.#transport.sendMail({
        from: this.#from,
        to: [...this.#to],
        subject: alertHeadline(alert),
        text: alertText(alert),
        messageId: `<${alert.id}.${this.name}@holdfast.alerts>`,
        date: new Date(alert.atMs),
        headers: { 'X-Holdfast-Alert-Id': alert.id, 'X-Holdfast-Rule': alert.rule, 'X-Holdfast-Severity': alert.severity },
      });
    } catch (error) {
      const e = error as { message?: unknown; code?: unknown };
      const message = typeof e.message === 'string' ? e.message : String(error);
      const code = typeof e.code === 'string' ? ` [${e.code}]` : '';
      // No `cause`: the original error carries the transport's state, and whatever logs this
      // error must not be able to reach credentials through it.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(`smtp ${this.name}: ${this.#redact(message)}${code}`);
    }
  }
}

/**
 * Belt and braces: nodemailer keeps the AUTH command out of its error messages, but a server's
 * reply is quoted in them, and a broken server could echo what it received. Remove the password
 * and the SASL PLAIN/LOGIN encodings that contain it.
 */
function redactor(username: string | undefined, password: Secret | undefined): (text: string) => string {
  if (password === undefined || password.reveal() === '') return (text) => text;
  const pass = password.reveal();
  const forms = [pass, Buffer.from(pass).toString('base64'), Buffer.from(`\0${username ?? ''}\0${pass}`).toString('base64')];
  return (text) => forms.reduce((t, form) => t.split(form).join('**redacted**'), text);
}
