import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseS3Endpoint, S3_REGION_NAME } from '../infra/s3-client/s3-client-environment.js';

/**
 * `holdfast server` configuration, parsed once at start-up into a frozen object. Sources, in
 * increasing precedence: defaults, the config file (JSON), HOLDFAST_* environment variables,
 * command-line flags. Every invalid value stops start-up with a message that names the key,
 * where it came from, and the fix. Unknown keys are errors too: a typo must not silently fall
 * back to a default.
 */
export interface ServerConfig {
  readonly dataDir: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly region: string;
  /** Base domain for virtual-host-style addressing (`bucket.<domain>`); path style always works. */
  readonly virtualHostDomain: string | undefined;
  /** Objects up to this size are stored inside the metadata row. */
  readonly inlineObjectBytes: number;
  /** Multipart uploads older than this are aborted and their parts deleted. */
  readonly multipartExpiryHours: number;
  /** How long SIGTERM waits for in-flight requests. */
  readonly shutdownGraceSeconds: number;
  /** A forward clock jump beyond this pauses retention expiry until an operator confirms the time. */
  readonly clockJumpToleranceHours: number;
  /** HTTPS: PEM certificate chain and private key (both or neither). */
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  /** Serve plain HTTP on a non-loopback address anyway (e.g. behind a TLS-terminating proxy). */
  readonly allowPlaintextNetwork: boolean;
  /** Where every audit entry is also written: stdout (JSON lines), syslog, or nowhere. */
  readonly auditLogStream: 'stdout' | 'syslog' | 'none';
  /** `udp://host:port` or `tcp://host:port` of the syslog receiver (auditLogStream = syslog). */
  readonly auditSyslog: { readonly protocol: 'udp' | 'tcp'; readonly host: string; readonly port: number } | undefined;
  /** How often the audit chain head is signed and stored as a compliance-locked checkpoint. */
  readonly auditCheckpointMinutes: number;
  /** Compliance retention of checkpoint objects. */
  readonly auditCheckpointRetentionDays: number;
  /** Compliance retention of evidence records (job runs, drills, baselines) in holdfast-system-evidence. */
  readonly evidenceRetentionDays: number;
  /** Alert channels (config file only: webhook, smtp, log); validated by the alerts module. */
  readonly alertChannels: unknown;
  /** PostgreSQL archives whose newest WAL is watched (RPO metric and alert); validated at start-up. */
  readonly pgArchiveWatches: unknown;
  readonly pgArchiveCheckSeconds: number;
  /** Scheduled backup jobs (src/backup/jobs/job-config.ts validates them at start-up). */
  readonly jobs: unknown;
  /** Months between configuration reviews per component (src/domain/config-guard/review-calendar.ts validates them at start-up). */
  readonly reviewFrequencies: unknown;
  /** How often the server looks for overdue configuration reviews. */
  readonly reviewCheckSeconds: number;
  /**
   * PostgreSQL connection URL for the configuration guard's records (baselines, drift, change
   * requests, reviews); unset = DATA/metadata/config-guard.sqlite. May hold a password: never logged.
   */
  readonly configGuardPostgresUrl: string | undefined;
  /** The PostgreSQL schema (namespace) of those tables; several vaults can share one database. */
  readonly configGuardPostgresSchema: string;
  /**
   * PostgreSQL connection URL for the vault's metadata (buckets, versions, identities, settings);
   * unset = DATA/metadata/vault.sqlite. Object bytes go where blobS3Endpoint says. May hold a
   * password: never logged.
   */
  readonly metadataPostgresUrl: string | undefined;
  /**
   * The PostgreSQL schema of the metadata tables. One server at a time uses it, unless every
   * server on it is a clusterNode.
   */
  readonly metadataPostgresSchema: string;
  /**
   * This server is one of several stateless nodes sharing metadataPostgresSchema and the S3 blob
   * prefix (behind a load balancer), instead of the one server of that schema. Requires the
   * metadata in PostgreSQL, the blobs in S3, the configuration guard in PostgreSQL and a shared
   * secretBoxKeyFile. A single-node server and cluster nodes refuse each other on one schema.
   */
  readonly clusterNode: boolean;
  /**
   * The 32-byte key that seals stored secrets, as a file (e.g. a mounted secret); unset =
   * DATA/keys/secret-box.key, created on first start. Cluster nodes must all name the same key.
   */
  readonly secretBoxKeyFile: string | undefined;
  /**
   * S3-compatible endpoint whose bucket blobS3Bucket holds the object bytes (scale-out);
   * unset = DATA/blobs. Path-style requests.
   */
  readonly blobS3Endpoint: string | undefined;
  readonly blobS3Bucket: string | undefined;
  /** Key prefix inside blobS3Bucket, '' or ending in '/': blobs go under PREFIX/blobs/. */
  readonly blobS3Prefix: string;
  readonly blobS3Region: string;
  /** Extra trusted CA certificates (PEM) for an https blobS3Endpoint with a private CA. */
  readonly blobS3CaFile: string | undefined;
  /** Names of the environment variables that hold the backend's access key (never the key itself, so a config file holds no secret). */
  readonly blobS3AccessKeyIdEnv: string;
  readonly blobS3SecretAccessKeyEnv: string;
  /** Hours between integrity scrub passes; 0 turns the scheduled scrub off (`holdfast admin scrub run` still works). */
  readonly scrubIntervalHours: number;
  /** The share of stored versions each pass re-reads, continuing where the last one stopped: 1 = all. */
  readonly scrubFraction: number;
  /** Read throttle of a scrub pass, so it never starves requests. */
  readonly scrubBytesPerSecond: number;
}

/** The documented default port; 127.0.0.1 only, so a first start never listens on the network. */
export const DEFAULT_PORT = 9470;
export const DEFAULT_HOST = '127.0.0.1';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Source = { readonly value: unknown; readonly origin: string };

interface KeySpec {
  readonly env: string;
  readonly flag?: string;
  readonly parse: (value: unknown, origin: string) => unknown;
}

function fail(key: string, origin: string, value: unknown, problem: string, fix: string): never {
  throw new ConfigError(`Invalid configuration: ${key} = ${JSON.stringify(value)} (from ${origin}) ${problem}. Fix: ${fix}`);
}

function positiveInt(key: string, max: number) {
  return (value: unknown, origin: string): number => {
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > max) fail(key, origin, value, `is not a whole number between 0 and ${max}`, `set ${key} to a number such as the default`);
    return n;
  };
}

function parseListen(value: unknown, origin: string): { host: string; port: number } {
  const text = typeof value === 'string' ? value.trim() : '';
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port > 65535) {
    fail('listen', origin, value, 'is not HOST:PORT', `use e.g. --listen ${DEFAULT_HOST}:${DEFAULT_PORT} (port 0 picks a free port)`);
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

function bool(key: string) {
  return (value: unknown, origin: string): boolean => {
    if (value === true || value === 'true' || value === '1') return true;
    if (value === false || value === 'false' || value === '0') return false;
    return fail(key, origin, value, 'is not a boolean', `set ${key} to true or false`);
  };
}

function existingFile(key: string) {
  return (value: unknown, origin: string): string => {
    if (typeof value !== 'string' || value.trim() === '') fail(key, origin, value, 'is empty', `give the path of a PEM file, e.g. one made by \`holdfast cert\``);
    return isAbsolute(value) ? value : resolve(value);
  };
}

function parseSyslog(value: unknown, origin: string): { protocol: 'udp' | 'tcp'; host: string; port: number } {
  const match = typeof value === 'string' ? /^(udp|tcp):\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim()) : null;
  if (match === null || Number(match[3]) > 65535) {
    fail('auditSyslog', origin, value, 'is not udp://HOST:PORT or tcp://HOST:PORT', 'use e.g. udp://127.0.0.1:514');
  }
  return { protocol: match[1] as 'udp' | 'tcp', host: match[2]!.replace(/^\[|\]$/g, ''), port: Number(match[3]) };
}

function postgresUrl(key: string, unsetMeans: string) {
  return (value: unknown, origin: string): string => {
    // The value is not echoed back: a connection URL may carry a password.
    if (typeof value !== 'string' || !/^postgres(ql)?:\/\//.test(value)) {
      throw new ConfigError(`Invalid configuration: ${key} (from ${origin}) is not a postgres:// or postgresql:// URL. Fix: use e.g. postgres://holdfast@db.internal:5432/holdfast, or unset it ${unsetMeans}.`);
    }
    return value;
  };
}

function schemaName(key: string) {
  return (value: unknown, origin: string): string => {
    if (typeof value !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(value)) fail(key, origin, value, 'is not a schema name', 'use lower-case letters, digits and _ (at most 63), e.g. holdfast');
    return value;
  };
}

function s3Endpoint(value: unknown, origin: string): string {
  try {
    if (typeof value !== 'string') throw new Error('the endpoint is not a URL.');
    return parseS3Endpoint(value).toString();
  } catch (error) {
    // The value is not echoed back (parseS3Endpoint does not either): it may hold user:password.
    throw new ConfigError(
      `Invalid configuration: blobS3Endpoint (from ${origin}) is not an http:// or https:// URL of scheme, host and port: ${(error as Error).message} ` +
        'Fix: use e.g. https://s3.eu-west-1.amazonaws.com or http://10.0.0.5:9000 (credentials go in the variables named by blobS3AccessKeyIdEnv/blobS3SecretAccessKeyEnv, not the URL).',
    );
  }
}

/** https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (the general-purpose rules, dots allowed). */
function s3BucketName(value: unknown, origin: string): string {
  if (typeof value !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value)) fail('blobS3Bucket', origin, value, 'is not an S3 bucket name', 'use 3–63 lower-case letters, digits, dots and hyphens, e.g. holdfast-blobs');
  return value;
}

function s3Prefix(value: unknown, origin: string): string {
  if (typeof value !== 'string' || value.startsWith('/') || value.length > 512 || [...value].some((c) => c.charCodeAt(0) < 0x20)) {
    fail('blobS3Prefix', origin, value, 'is not a key prefix', 'use e.g. vault-1/ (no leading /), or leave it empty');
  }
  return value === '' || value.endsWith('/') ? value : `${value}/`;
}

function regionName(value: unknown, origin: string): string {
  if (typeof value !== 'string' || !S3_REGION_NAME.test(value)) fail('blobS3Region', origin, value, 'is not a region name', 'use the backend region, e.g. us-east-1');
  return value;
}

function envName(key: string) {
  return (value: unknown, origin: string): string => {
    // The value is not echoed back: what is refused here is most likely the key itself, pasted.
    if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
      throw new ConfigError(`Invalid configuration: ${key} (from ${origin}) is not an environment variable name. Fix: give the name of the variable, e.g. HOLDFAST_BLOB_S3_ACCESS_KEY_ID, not its value.`);
    }
    return value;
  };
}

/**
 * An environment variable name as a message may show it: a conventional upper-case name, or
 * else only the setting that names it. A pasted secret of letters and digits alone is a valid
 * name; AWS secrets are mixed-case, so it is not shown.
 */
export function shownEnvName(name: string, key: string): string {
  return /^[A-Z_][A-Z0-9_]*$/.test(name) ? name : `named by ${key}`;
}

/** A share in (0, 1], e.g. 0.25 for a quarter. */
function fraction(key: string) {
  return (value: unknown, origin: string): number => {
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*(0|1)?(\.\d+)?\s*$/.test(value) && value.trim() !== '' ? Number(value) : NaN;
    if (!(n > 0 && n <= 1)) fail(key, origin, value, 'is not a number greater than 0 and at most 1', `set ${key} to 1 to read everything each pass, or e.g. 0.25 to read a quarter (every version within four passes)`);
    return n;
  };
}

/** At least 64 KiB/s: a slower scrub would never finish a real vault. */
function bytesPerSecond(key: string) {
  const parseInt = positiveInt(key, 100 * 1024 ** 3);
  return (value: unknown, origin: string): number => {
    const n = parseInt(value, origin);
    if (n < 64 * 1024) fail(key, origin, value, 'is below 65536 (64 KiB/s)', `set ${key} to a read rate the disk can spare, e.g. 33554432 (32 MiB/s)`);
    return n;
  };
}

const SPECS: Record<string, KeySpec> = {
  dataDir: {
    env: 'HOLDFAST_DATA_DIR',
    flag: 'data',
    parse: (value, origin) => {
      if (typeof value !== 'string' || value.trim() === '') fail('dataDir', origin, value, 'is empty', 'pass --data DIR with the directory that holds the vault');
      return isAbsolute(value) ? value : resolve(value);
    },
  },
  listen: { env: 'HOLDFAST_LISTEN', flag: 'listen', parse: parseListen },
  region: {
    env: 'HOLDFAST_REGION',
    flag: 'region',
    parse: (value, origin) => {
      if (typeof value !== 'string' || !/^[a-z]{2}(-[a-z0-9]+)+-?\d*$|^[a-z0-9-]{2,32}$/.test(value)) {
        fail('region', origin, value, 'is not a region name', 'use a name like us-east-1');
      }
      return value;
    },
  },
  virtualHostDomain: {
    env: 'HOLDFAST_VIRTUAL_HOST_DOMAIN',
    flag: 'virtual-host-domain',
    parse: (value, origin) => {
      if (typeof value !== 'string' || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(value)) {
        fail('virtualHostDomain', origin, value, 'is not a DNS domain', 'use a domain like s3.example.internal whose *.domain resolves to this server');
      }
      return value;
    },
  },
  inlineObjectBytes: { env: 'HOLDFAST_INLINE_OBJECT_BYTES', parse: positiveInt('inlineObjectBytes', 1024 * 1024) },
  multipartExpiryHours: { env: 'HOLDFAST_MULTIPART_EXPIRY_HOURS', parse: positiveInt('multipartExpiryHours', 24 * 365) },
  shutdownGraceSeconds: { env: 'HOLDFAST_SHUTDOWN_GRACE_SECONDS', parse: positiveInt('shutdownGraceSeconds', 3600) },
  clockJumpToleranceHours: { env: 'HOLDFAST_CLOCK_JUMP_TOLERANCE_HOURS', parse: positiveInt('clockJumpToleranceHours', 24 * 365) },
  tlsCertFile: { env: 'HOLDFAST_TLS_CERT_FILE', flag: 'tls-cert', parse: existingFile('tlsCertFile') },
  tlsKeyFile: { env: 'HOLDFAST_TLS_KEY_FILE', flag: 'tls-key', parse: existingFile('tlsKeyFile') },
  allowPlaintextNetwork: { env: 'HOLDFAST_ALLOW_PLAINTEXT_NETWORK', flag: 'allow-plaintext-network', parse: bool('allowPlaintextNetwork') },
  auditLogStream: {
    env: 'HOLDFAST_AUDIT_LOG_STREAM',
    parse: (value, origin) => {
      if (value !== 'stdout' && value !== 'syslog' && value !== 'none') fail('auditLogStream', origin, value, 'is not stdout, syslog or none', 'pick one of stdout, syslog, none');
      return value;
    },
  },
  auditSyslog: { env: 'HOLDFAST_AUDIT_SYSLOG', parse: parseSyslog },
  auditCheckpointMinutes: { env: 'HOLDFAST_AUDIT_CHECKPOINT_MINUTES', parse: positiveInt('auditCheckpointMinutes', 24 * 60) },
  auditCheckpointRetentionDays: { env: 'HOLDFAST_AUDIT_CHECKPOINT_RETENTION_DAYS', parse: positiveInt('auditCheckpointRetentionDays', 36500) },
  evidenceRetentionDays: { env: 'HOLDFAST_EVIDENCE_RETENTION_DAYS', parse: positiveInt('evidenceRetentionDays', 36500) },
  alertChannels: { env: 'HOLDFAST_ALERT_CHANNELS', parse: (value) => (typeof value === 'string' ? parseJsonSetting('alertChannels', value) : value) },
  pgArchiveWatches: { env: 'HOLDFAST_PG_ARCHIVE_WATCHES', parse: (value) => (typeof value === 'string' ? parseJsonSetting('pgArchiveWatches', value) : value) },
  pgArchiveCheckSeconds: { env: 'HOLDFAST_PG_ARCHIVE_CHECK_SECONDS', parse: positiveInt('pgArchiveCheckSeconds', 3600) },
  jobs: { env: 'HOLDFAST_JOBS', parse: (value) => (typeof value === 'string' ? parseJsonSetting('jobs', value) : value) },
  reviewFrequencies: { env: 'HOLDFAST_REVIEW_FREQUENCIES', parse: (value) => (typeof value === 'string' ? parseJsonSetting('reviewFrequencies', value) : value) },
  reviewCheckSeconds: {
    env: 'HOLDFAST_REVIEW_CHECK_SECONDS',
    parse: (value, origin) => {
      const n = positiveInt('reviewCheckSeconds', 24 * 3600)(value, origin);
      if (n < 1) fail('reviewCheckSeconds', origin, value, 'is 0', 'use at least 1 (the default is 3600)');
      return n;
    },
  },
  configGuardPostgresUrl: { env: 'HOLDFAST_CONFIG_GUARD_POSTGRES_URL', parse: postgresUrl('configGuardPostgresUrl', 'to keep the records in SQLite') },
  configGuardPostgresSchema: { env: 'HOLDFAST_CONFIG_GUARD_POSTGRES_SCHEMA', parse: schemaName('configGuardPostgresSchema') },
  metadataPostgresUrl: { env: 'HOLDFAST_METADATA_POSTGRES_URL', parse: postgresUrl('metadataPostgresUrl', 'to keep the metadata in DATA/metadata/vault.sqlite') },
  metadataPostgresSchema: { env: 'HOLDFAST_METADATA_POSTGRES_SCHEMA', parse: schemaName('metadataPostgresSchema') },
  blobS3Endpoint: { env: 'HOLDFAST_BLOB_S3_ENDPOINT', parse: s3Endpoint },
  blobS3Bucket: { env: 'HOLDFAST_BLOB_S3_BUCKET', parse: s3BucketName },
  blobS3Prefix: { env: 'HOLDFAST_BLOB_S3_PREFIX', parse: s3Prefix },
  blobS3Region: { env: 'HOLDFAST_BLOB_S3_REGION', parse: regionName },
  blobS3CaFile: { env: 'HOLDFAST_BLOB_S3_CA_FILE', parse: existingFile('blobS3CaFile') },
  blobS3AccessKeyIdEnv: { env: 'HOLDFAST_BLOB_S3_ACCESS_KEY_ID_ENV', parse: envName('blobS3AccessKeyIdEnv') },
  blobS3SecretAccessKeyEnv: { env: 'HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY_ENV', parse: envName('blobS3SecretAccessKeyEnv') },
  scrubIntervalHours: { env: 'HOLDFAST_SCRUB_INTERVAL_HOURS', parse: positiveInt('scrubIntervalHours', 24 * 366) },
  scrubFraction: { env: 'HOLDFAST_SCRUB_FRACTION', parse: fraction('scrubFraction') },
  scrubBytesPerSecond: { env: 'HOLDFAST_SCRUB_BYTES_PER_SECOND', parse: bytesPerSecond('scrubBytesPerSecond') },
  clusterNode: { env: 'HOLDFAST_CLUSTER_NODE', parse: bool('clusterNode') },
  secretBoxKeyFile: {
    env: 'HOLDFAST_SECRET_BOX_KEY_FILE',
    parse: (value, origin) => {
      if (typeof value !== 'string' || value.trim() === '') fail('secretBoxKeyFile', origin, value, 'is empty', 'give the path of a file holding 32 random bytes (e.g. `head -c 32 /dev/urandom`), the same on every node');
      return isAbsolute(value) ? value : resolve(value);
    },
  },
};

function parseJsonSetting(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`Invalid configuration: ${key} is not valid JSON (${(e as Error).message}). Fix: give valid JSON (a list, or an object for reviewFrequencies).`);
  }
}

const DEFAULTS: Record<string, unknown> = {
  dataDir: 'data',
  listen: `${DEFAULT_HOST}:${DEFAULT_PORT}`,
  region: 'us-east-1',
  virtualHostDomain: undefined,
  inlineObjectBytes: 64 * 1024,
  multipartExpiryHours: 24 * 7,
  shutdownGraceSeconds: 30,
  clockJumpToleranceHours: 24,
  allowPlaintextNetwork: false,
  auditLogStream: 'stdout',
  auditCheckpointMinutes: 15,
  auditCheckpointRetentionDays: 400,
  evidenceRetentionDays: 400,
  alertChannels: [],
  pgArchiveWatches: [],
  pgArchiveCheckSeconds: 30,
  jobs: [],
  reviewFrequencies: {},
  reviewCheckSeconds: 3600,
  configGuardPostgresSchema: 'holdfast',
  metadataPostgresSchema: 'holdfast',
  blobS3Prefix: '',
  blobS3Region: 'us-east-1',
  blobS3AccessKeyIdEnv: 'HOLDFAST_BLOB_S3_ACCESS_KEY_ID',
  blobS3SecretAccessKeyEnv: 'HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY',
  scrubIntervalHours: 24,
  scrubFraction: 1,
  scrubBytesPerSecond: 32 * 1024 * 1024,
  clusterNode: false,
};

export interface ConfigInputs {
  readonly flags: Readonly<Record<string, string | undefined>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Path of a JSON config file (--config or HOLDFAST_CONFIG). */
  readonly configFile: string | undefined;
}

export function loadServerConfig(inputs: ConfigInputs): ServerConfig {
  let fileValues: Record<string, unknown> = {};
  if (inputs.configFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(inputs.configFile, 'utf8');
    } catch (e) {
      throw new ConfigError(`Cannot read config file ${inputs.configFile}: ${(e as Error).message}. Fix: pass an existing JSON file to --config.`);
    }
    try {
      fileValues = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`Config file ${inputs.configFile} is not valid JSON: ${(e as Error).message}.`);
    }
    if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
      throw new ConfigError(`Config file ${inputs.configFile} must hold a JSON object of settings.`);
    }
    for (const key of Object.keys(fileValues)) {
      if (!(key in SPECS)) {
        throw new ConfigError(`Unknown setting "${key}" in ${inputs.configFile}. Known settings: ${Object.keys(SPECS).join(', ')}.`);
      }
    }
  }
  const config: Record<string, unknown> = {};
  /** Where each setting came from: 'default' for one nobody set. */
  const origins: Record<string, string> = {};
  for (const [key, spec] of Object.entries(SPECS)) {
    let source: Source | undefined;
    const flag = spec.flag === undefined ? undefined : inputs.flags[spec.flag];
    if (flag !== undefined) source = { value: flag, origin: `--${spec.flag}` };
    else if (inputs.env[spec.env] !== undefined && inputs.env[spec.env] !== '') source = { value: inputs.env[spec.env], origin: spec.env };
    else if (key in fileValues) source = { value: fileValues[key], origin: inputs.configFile! };
    else if (DEFAULTS[key] !== undefined) source = { value: DEFAULTS[key], origin: 'default' };
    config[key] = source === undefined ? undefined : spec.parse(source.value, source.origin);
    if (source !== undefined) origins[key] = source.origin;
  }
  if ((config['tlsCertFile'] === undefined) !== (config['tlsKeyFile'] === undefined)) {
    throw new ConfigError('Invalid configuration: tlsCertFile and tlsKeyFile go together. Fix: set both (e.g. from `holdfast cert --out DIR`), or neither for plain HTTP on loopback.');
  }
  if (config['auditLogStream'] === 'syslog' && config['auditSyslog'] === undefined) {
    throw new ConfigError('Invalid configuration: auditLogStream is syslog but auditSyslog is not set. Fix: set auditSyslog to udp://HOST:PORT or tcp://HOST:PORT.');
  }
  checkBlobS3(config, origins, inputs.env);
  checkClusterNode(config);
  return Object.freeze(config) as unknown as ServerConfig;
}

/**
 * A cluster node keeps nothing another node needs in its data directory: what they share lives
 * in PostgreSQL and S3, and they seal secrets with one key. Each missing piece is refused here,
 * before anything is opened: a node with local blobs would answer for objects no other node can
 * read, and a node with its own sealing key would store secrets no other node can open.
 */
function checkClusterNode(config: Record<string, unknown>): void {
  if (config['clusterNode'] !== true) return;
  const missing: Array<[string, string]> = [
    ['metadataPostgresUrl', 'point every node at the same PostgreSQL database and metadataPostgresSchema'],
    ['blobS3Endpoint', 'point every node at the same blobS3Endpoint, blobS3Bucket and blobS3Prefix'],
    ['configGuardPostgresUrl', 'keep the configuration guard\'s records in PostgreSQL too (configGuardPostgresUrl, configGuardPostgresSchema), the same for every node'],
    ['secretBoxKeyFile', 'give every node the same 32-byte key file (secretBoxKeyFile); for an existing vault, copy its DATA/keys/secret-box.key'],
  ];
  for (const [key, fix] of missing) {
    if (config[key] === undefined) throw new ConfigError(`Invalid configuration: clusterNode is true but ${key} is not set: every node must share it. Fix: ${fix}, or unset clusterNode for a single server.`);
  }
  // Not yet: each job's run history and drill journal live in the data directory, so the nodes
  // would each run every schedule. Refused rather than run N times.
  if (Array.isArray(config['jobs']) && config['jobs'].length > 0) {
    throw new ConfigError('Invalid configuration: jobs are not supported on cluster nodes yet (every node would run every schedule). Fix: run the backup jobs on a single server of their own, or unset clusterNode.');
  }
}

/** The S3 blob settings go together, and the credentials they name must be in the environment. */
function checkBlobS3(config: Record<string, unknown>, origins: Readonly<Record<string, string>>, env: Readonly<Record<string, string | undefined>>): void {
  if (config['blobS3Endpoint'] === undefined && config['blobS3Bucket'] === undefined) {
    // Set without a backend they would be ignored, and the operator would believe blobs go to S3.
    for (const key of ['blobS3Prefix', 'blobS3Region', 'blobS3CaFile']) {
      const origin = origins[key];
      if (origin !== undefined && origin !== 'default') {
        throw new ConfigError(`Invalid configuration: ${key} (from ${origin}) is set but blobS3Endpoint is not, so it would be ignored. Fix: set blobS3Endpoint and blobS3Bucket to keep object bytes in S3, or unset ${key} to keep them in DATA/blobs.`);
      }
    }
    return;
  }
  if (config['blobS3Endpoint'] === undefined || config['blobS3Bucket'] === undefined) {
    throw new ConfigError('Invalid configuration: blobS3Endpoint and blobS3Bucket go together. Fix: set both to keep object bytes in that bucket, or neither to keep them in DATA/blobs.');
  }
  for (const key of ['blobS3AccessKeyIdEnv', 'blobS3SecretAccessKeyEnv']) {
    const name = config[key] as string;
    if ((env[name] ?? '').trim() === '') {
      const shown = shownEnvName(name, key);
      const which = shown === name ? `${name} (named by ${key})` : shown;
      throw new ConfigError(`Invalid configuration: blobS3Endpoint is set but the environment variable ${which} is empty. Fix: export the blob backend's access key in ${shown === name ? name : 'it'}, or point ${key} at the variable that holds it.`);
    }
  }
}
