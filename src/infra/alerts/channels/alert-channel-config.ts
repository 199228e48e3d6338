import { Secret } from '../../../domain/secret.js';
import type { StartTlsPolicy } from './smtp-channel.js';
import type { WebhookFormat } from './webhook-channel.js';

/**
 * The `alerts.channels` setting: a JSON array of channels, parsed once at start-up into frozen
 * objects. Every mistake stops start-up with a message naming the channel (index and name), the
 * field, and the fix; unknown fields are mistakes too, so a typo never falls back to a default.
 *
 *   [
 *     { "kind": "webhook", "name": "siem", "url": "https://siem.example/hook", "format": "json" },
 *     { "kind": "webhook", "name": "slack", "url": "https://hooks.slack.com/services/…", "format": "slack" },
 *     { "kind": "smtp", "name": "ops-mail", "host": "smtp.example", "port": 587, "username": "holdfast",
 *       "from": "holdfast@example", "to": ["oncall@example"] },
 *     { "kind": "log", "name": "log" }
 *   ]
 *
 * Secrets are best kept out of the file: `HOLDFAST_ALERT_<NAME>_SECRET` (a webhook's signing
 * secret) and `HOLDFAST_ALERT_<NAME>_PASSWORD` (an SMTP password), where <NAME> is the channel
 * name upper-cased with `-` as `_` (channel `ops-mail` → `HOLDFAST_ALERT_OPS_MAIL_PASSWORD`).
 * The environment wins over the file. Secret values and URLs (a Slack URL is a credential) are
 * never repeated in error messages.
 */
export type AlertChannelConfig = WebhookChannelConfig | SmtpChannelConfig | LogChannelConfig;

export interface WebhookChannelConfig {
  readonly kind: 'webhook';
  readonly name: string;
  readonly url: string;
  readonly secret: Secret | undefined;
  readonly format: WebhookFormat;
  readonly timeoutMs: number;
  /** PEM file of extra CAs to trust for https. */
  readonly caFile: string | undefined;
}

export interface SmtpChannelConfig {
  readonly kind: 'smtp';
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly startTls: StartTlsPolicy;
  readonly username: string | undefined;
  readonly password: Secret | undefined;
  readonly from: string;
  readonly to: readonly string[];
  readonly timeoutMs: number;
  readonly caFile: string | undefined;
}

export interface LogChannelConfig {
  readonly kind: 'log';
  readonly name: string;
}

/**
 * A mistake in the alerts configuration. Its message is ready for the operator (it names the
 * channel, field and fix); the server's config loader rethrows it as its ConfigError.
 */
export class AlertConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlertConfigError';
  }
}

const FIELDS = {
  webhook: ['kind', 'name', 'url', 'secret', 'format', 'timeoutMs', 'caFile'],
  smtp: ['kind', 'name', 'host', 'port', 'secure', 'startTls', 'username', 'password', 'from', 'to', 'timeoutMs', 'caFile'],
  log: ['kind', 'name'],
} as const;

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** A bare address: no display name, no list separators, nothing that could end a header line. */
const ADDRESS = /^[^\s@<>,;:"()[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const MIN_SECRET_LENGTH = 16;

/** The environment variable that may hold a channel's secret or password. */
export function alertSecretEnvName(channel: string, what: 'SECRET' | 'PASSWORD'): string {
  return `HOLDFAST_ALERT_${channel.toUpperCase().replace(/-/g, '_')}_${what}`;
}

/**
 * @param value the parsed JSON of `alerts.channels` (undefined: no channels)
 * @param env the process environment, for secrets
 * @param origin where the value came from, for messages (e.g. the config file path)
 */
export function parseAlertChannelsConfig(
  value: unknown,
  env: Readonly<Record<string, string | undefined>> = {},
  origin = 'the configuration',
): readonly AlertChannelConfig[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) {
    throw new AlertConfigError(`Invalid configuration: alerts.channels (from ${origin}) is not a list. Fix: set it to a JSON array of channels, e.g. [{ "kind": "log", "name": "log" }].`);
  }
  const seen = new Set<string>();
  return Object.freeze(
    value.map((entry: unknown, index) => {
      const channel = parseChannel(entry, index, env, origin);
      if (seen.has(channel.name)) {
        throw new AlertConfigError(`Invalid configuration: alerts.channels[${index}] (from ${origin}) reuses the name "${channel.name}". Fix: give every channel its own name.`);
      }
      seen.add(channel.name);
      return Object.freeze(channel);
    }),
  );
}

function parseChannel(entry: unknown, index: number, env: Readonly<Record<string, string | undefined>>, origin: string): AlertChannelConfig {
  const at = (field: string, name?: string) => `alerts.channels[${index}]${name === undefined ? '' : ` ("${name}")`}.${field} (from ${origin})`;
  const fail = (field: string, name: string | undefined, problem: string, fix: string): never => {
    throw new AlertConfigError(`Invalid configuration: ${at(field, name)} ${problem}. Fix: ${fix}`);
  };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new AlertConfigError(`Invalid configuration: alerts.channels[${index}] (from ${origin}) is not an object. Fix: write each channel as { "kind": ..., "name": ..., ... }.`);
  }
  const raw = entry as Record<string, unknown>;
  const kind = raw['kind'];
  if (kind !== 'webhook' && kind !== 'smtp' && kind !== 'log') {
    return fail('kind', undefined, `is ${JSON.stringify(kind) ?? 'missing'}`, 'set "kind" to "webhook", "smtp" or "log"');
  }
  const name = raw['name'];
  if (typeof name !== 'string' || !NAME.test(name)) {
    return fail('name', undefined, `is ${JSON.stringify(name) ?? 'missing'}`, 'name the channel with 1–32 lower-case letters, digits or "-" (it names its environment variables and queue rows), e.g. "ops-mail"');
  }
  for (const field of Object.keys(raw)) {
    if (!(FIELDS[kind] as readonly string[]).includes(field)) {
      fail(field, name, `is not a ${kind} channel setting`, `remove it or fix its spelling; ${kind} channels take ${FIELDS[kind].join(', ')}`);
    }
  }

  const optionalString = (field: string): string | undefined => {
    const v = raw[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') return fail(field, name, 'is not a non-empty string', `set ${field} to text, or remove it`);
    return v;
  };
  const timeoutMs = (fallback: number): number => {
    const v = raw['timeoutMs'] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 100 || v > 120_000) {
      return fail('timeoutMs', name, `= ${JSON.stringify(v)} is not a whole number of milliseconds between 100 and 120000`, `use e.g. ${fallback}`);
    }
    return v;
  };
  const secret = (field: 'secret' | 'password', envWhat: 'SECRET' | 'PASSWORD', minLength: number): Secret | undefined => {
    const envName = alertSecretEnvName(name, envWhat);
    const fromEnv = env[envName];
    if (fromEnv !== undefined && fromEnv !== '') {
      if (fromEnv.length < minLength) fail(field, name, `from ${envName} is shorter than ${minLength} characters`, `use a longer random value in ${envName}`);
      return new Secret(fromEnv);
    }
    const v = raw[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length < Math.max(1, minLength)) {
      return fail(field, name, `is not text of at least ${Math.max(1, minLength)} characters (value not shown)`, `set ${envName} in the environment instead of writing it in the file`);
    }
    return new Secret(v);
  };
  const wrongEnv = (envWhat: 'SECRET' | 'PASSWORD', instead: string) => {
    const envName = alertSecretEnvName(name, envWhat);
    if (env[envName] !== undefined && env[envName] !== '') {
      fail('kind', name, `is ${kind}, which takes no ${envWhat.toLowerCase()}, but ${envName} is set`, `unset ${envName}${instead}`);
    }
  };

  if (kind === 'log') {
    wrongEnv('SECRET', '');
    wrongEnv('PASSWORD', '');
    return { kind, name };
  }

  if (kind === 'webhook') {
    wrongEnv('PASSWORD', ` (a webhook's signing secret goes in ${alertSecretEnvName(name, 'SECRET')})`);
    const url = raw['url'];
    let parsed: URL | undefined;
    try {
      parsed = typeof url === 'string' ? new URL(url) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      fail('url', name, 'is missing or not an http:// or https:// URL (value not shown: it may hold a token)', 'set url to the receiver\'s full https:// address');
    }
    const format = raw['format'] ?? 'json';
    if (format !== 'json' && format !== 'slack') fail('format', name, `= ${JSON.stringify(format)} is unknown`, 'use "json" (signed JSON) or "slack" (Slack incoming-webhook message)');
    return {
      kind,
      name,
      url: url as string,
      secret: secret('secret', 'SECRET', MIN_SECRET_LENGTH),
      format: format as WebhookFormat,
      timeoutMs: timeoutMs(10_000),
      caFile: optionalString('caFile'),
    };
  }

  wrongEnv('SECRET', ` (an SMTP password goes in ${alertSecretEnvName(name, 'PASSWORD')})`);
  const host = raw['host'];
  if (typeof host !== 'string' || !/^[A-Za-z0-9.:[\]-]+$/.test(host)) fail('host', name, `= ${JSON.stringify(host) ?? 'missing'} is not a host name or address`, 'set host to the mail server, e.g. "smtp.example.org"');
  const secure = raw['secure'] ?? false;
  if (typeof secure !== 'boolean') fail('secure', name, `= ${JSON.stringify(secure)} is not true or false`, 'use true for implicit TLS (port 465), false for STARTTLS (port 587)');
  const port = raw['port'] ?? (secure ? 465 : 587);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) fail('port', name, `= ${JSON.stringify(port)} is not a port number`, 'use 587 (STARTTLS) or 465 (secure: true)');
  const startTls = raw['startTls'] ?? 'required';
  if (startTls !== 'required' && startTls !== 'opportunistic') {
    fail('startTls', name, `= ${JSON.stringify(startTls)} is unknown`, 'use "required" (the default: no TLS, no mail) or "opportunistic" (a local relay without TLS)');
  }
  if (secure && raw['startTls'] !== undefined) fail('startTls', name, 'is set together with secure: true', 'remove startTls: with secure: true the whole connection is TLS already');
  const username = optionalString('username');
  const password = secret('password', 'PASSWORD', 1);
  if ((username === undefined) !== (password === undefined)) {
    fail(username === undefined ? 'username' : 'password', name, 'is missing while the other half of the login is set', `set both username and password (the password best in ${alertSecretEnvName(name, 'PASSWORD')}), or neither`);
  }
  const from = raw['from'];
  if (typeof from !== 'string' || !ADDRESS.test(from)) fail('from', name, `= ${JSON.stringify(from) ?? 'missing'} is not a bare email address`, 'use e.g. "holdfast@example.org" (no display name)');
  const to = raw['to'];
  if (!Array.isArray(to) || to.length === 0 || to.length > 50 || !to.every((a) => typeof a === 'string' && ADDRESS.test(a))) {
    fail('to', name, `= ${JSON.stringify(to) ?? 'missing'} is not a list of 1–50 bare email addresses`, 'use e.g. ["oncall@example.org"]');
  }
  return {
    kind,
    name,
    host: host as string,
    port: port as number,
    secure: secure as boolean,
    startTls: startTls as StartTlsPolicy,
    username,
    password,
    from: from as string,
    to: Object.freeze([...(to as string[])]),
    timeoutMs: timeoutMs(15_000),
    caFile: optionalString('caFile'),
  };
}
