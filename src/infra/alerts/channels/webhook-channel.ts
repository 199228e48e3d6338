import http from 'node:http';
import https from 'node:https';
import type { AlertChannel } from '../../../domain/alerts/alert-channel.js';
import type { SecurityAlert } from '../../../domain/alerts/security-alert.js';
import type { Secret } from '../../../domain/secret.js';
import type { Clock } from '../../clock.js';
import { slackPayload } from './slack-payload.js';
import { WEBHOOK_SIGNATURE_HEADER, signWebhookBody } from './webhook-signature.js';

export type WebhookFormat = 'json' | 'slack';

export interface WebhookChannelOptions {
  readonly name: string;
  /** http: or https:. May itself be a credential (a Slack webhook URL is): only its origin is ever shown. */
  readonly url: string;
  /** Signs each request (see webhook-signature.ts); omitted, requests are unsigned. */
  readonly secret?: Secret | undefined;
  /** `json` (default): `{ type: 'alert', version: 1, alert }`; `slack`: a Slack incoming-webhook message. */
  readonly format?: WebhookFormat | undefined;
  /** Whole request, connect to last response byte (default 10 s). */
  readonly timeoutMs?: number | undefined;
  /** Extra CA certificates (PEM) to trust for https, e.g. an internal CA. */
  readonly ca?: string | undefined;
  readonly clock: Clock;
}

/** The JSON body of the `json` format. */
export interface WebhookAlertBody {
  readonly type: 'alert';
  readonly version: 1;
  readonly alert: SecurityAlert;
}

/**
 * POSTs each alert to a URL. Success is a 2xx answer; anything else — a redirect, a 4xx, a 5xx,
 * a timeout — rejects and the dispatcher retries. A 4xx other than 408/429 will not fix itself,
 * so its error says so (it is still retried: the receiver may be fixed meanwhile, and dropping
 * a security alert is worse than retrying it).
 */
export class WebhookChannel implements AlertChannel {
  readonly name: string;
  readonly #url: URL;
  readonly #secret: Secret | undefined;
  readonly #format: WebhookFormat;
  readonly #timeoutMs: number;
  readonly #ca: string | undefined;
  readonly #clock: Clock;

  constructor(options: WebhookChannelOptions) {
    this.name = options.name;
    this.#url = new URL(options.url);
    if (this.#url.protocol !== 'http:' && this.#url.protocol !== 'https:') {
      throw new Error(`Webhook channel ${options.name}: the URL must start with http:// or https://.`);
    }
    this.#secret = options.secret;
    this.#format = options.format ?? 'json';
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#ca = options.ca;
    this.#clock = options.clock;
  }

  async deliver(alert: SecurityAlert): Promise<void> {
    const payload = this.#format === 'slack' ? slackPayload(alert) : ({ type: 'alert', version: 1, alert } satisfies WebhookAlertBody);
    const body = Buffer.from(JSON.stringify(payload));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'user-agent': 'holdfast-alerts/1',
      'x-holdfast-alert-id': alert.id,
    };
    if (this.#secret !== undefined) {
      headers[WEBHOOK_SIGNATURE_HEADER] = signWebhookBody(this.#secret.reveal(), body, Math.floor(this.#clock.nowMs() / 1000));
    }
    const status = await this.#post(body, headers);
    if (status >= 200 && status < 300) return;
    const where = `webhook ${this.name}: ${this.#url.origin} answered HTTP ${status}`;
    if (status >= 300 && status < 400) throw new Error(`${where} (a redirect; redirects are not followed — configure the final URL)`);
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      throw new Error(`${where} (a client error that retrying alone will not fix: check the URL, secret and receiver; still retrying)`);
    }
    throw new Error(where);
  }

  #post(body: Buffer, headers: Record<string, string>): Promise<number> {
    const transport = this.#url.protocol === 'https:' ? https : http;
    return new Promise<number>((resolve, reject) => {
      const signal = AbortSignal.timeout(this.#timeoutMs);
      const fail = (error: unknown) => reject(new Error(`webhook ${this.name}: POST to ${this.#url.origin} failed: ${this.#explain(error, signal)}`));
      const request = transport.request(
        this.#url,
        { method: 'POST', headers, signal, ...(this.#ca === undefined ? {} : { ca: this.#ca }) },
        (response) => {
          // The body is not needed; read it to the end so the socket is released, within the timeout.
          response.on('error', fail);
          response.on('end', () => resolve(response.statusCode ?? 0));
          response.resume();
        },
      );
      request.on('error', fail);
      request.end(body);
    });
  }

  /** Error text without the URL's path or query (they may carry a token). */
  #explain(error: unknown, signal: AbortSignal): string {
    if (signal.aborted) return `no complete answer within ${this.#timeoutMs} ms`;
    const e = error as NodeJS.ErrnoException;
    return e.code === undefined ? 'the connection failed' : `${e.code}${e.syscall === undefined ? '' : ` (${e.syscall})`}`;
  }
}
