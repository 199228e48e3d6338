import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isRecord, textOf } from './attribute-values.js';

/**
 * What to collect: the inputs of `holdfast config collect|check`, from flags or from a sources
 * file (YAML or JSON) that a team keeps beside its infrastructure code. Paths in a sources file
 * are relative to the file. Connection strings are not written in it: `connectionEnv` names the
 * environment variable that holds one (a URL without a password is also accepted as `connection`).
 *
 * ```yaml
 * version: 1
 * terraform: [infra/terraform.tfstate, { path: infra/plan.json, stack: staging }]
 * zones: [{ path: dns/example.com.zone, origin: example.com }]
 * env: [{ path: deploy/.env.production, name: production }, { path: render-env.json, name: api }]
 * images: [build/app.tar]
 * dockerfiles: [Dockerfile]
 * manifests: [deploy/k8s]
 * vaults: [{ endpoint: https://vault.internal:9470, name: main, buckets: [backups] }]
 * postgres: [{ connectionEnv: AUDIT_DATABASE_URL, name: main }]
 * rules: { backupBuckets: "backup|wal-archive" }
 * suppressions:
 *   - { rule: network-ssh-open-to-world, resource: aws_security_group.bastion, reason: "...", owner: ana@example.org, expires: 2026-09-30 }
 * ```
 */
export interface PathSource {
  readonly path: string;
}
export interface TerraformSource extends PathSource {
  readonly stack?: string;
}
export interface ZoneSource extends PathSource {
  readonly origin?: string;
}
export interface EnvironmentSource extends PathSource {
  readonly name?: string;
}
export interface VaultSource {
  readonly endpoint: string;
  readonly name?: string;
  readonly buckets?: readonly string[];
}
export interface PostgresSource {
  /** A libpq URL or key=value string; undefined means libpq's PG* environment variables. */
  readonly connection?: string;
  readonly name?: string;
}

export interface ConfigSources {
  readonly terraform: readonly TerraformSource[];
  readonly zones: readonly ZoneSource[];
  readonly env: readonly EnvironmentSource[];
  readonly images: readonly PathSource[];
  readonly dockerfiles: readonly PathSource[];
  readonly manifests: readonly PathSource[];
  readonly vaults: readonly VaultSource[];
  readonly postgres: readonly PostgresSource[];
}

/** Rule settings and suppressions a sources file may carry, for `config check`. */
export interface SourcesFileExtras {
  readonly backupBuckets?: string;
  readonly suppressions: readonly unknown[];
}

export const NO_SOURCES: ConfigSources = Object.freeze({ terraform: [], zones: [], env: [], images: [], dockerfiles: [], manifests: [], vaults: [], postgres: [] });

export class SourcesFileError extends Error {
  override readonly name = 'SourcesFileError';
}

export function countSources(sources: ConfigSources): number {
  return Object.values(sources).reduce<number>((sum, list) => sum + (list as unknown[]).length, 0);
}

export function mergeSources(a: ConfigSources, b: ConfigSources): ConfigSources {
  return {
    terraform: [...a.terraform, ...b.terraform],
    zones: [...a.zones, ...b.zones],
    env: [...a.env, ...b.env],
    images: [...a.images, ...b.images],
    dockerfiles: [...a.dockerfiles, ...b.dockerfiles],
    manifests: [...a.manifests, ...b.manifests],
    vaults: [...a.vaults, ...b.vaults],
    postgres: [...a.postgres, ...b.postgres],
  };
}

const KEYS = new Set(['version', 'terraform', 'zones', 'env', 'images', 'dockerfiles', 'manifests', 'vaults', 'postgres', 'rules', 'suppressions']);

/** Parses a sources file's text (YAML, which JSON also is); `file` resolves relative paths and names errors. */
export function parseSourcesFile(text: string, file: string, env: NodeJS.ProcessEnv = process.env): { sources: ConfigSources; extras: SourcesFileExtras } {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new SourcesFileError(`${file} is not YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(raw)) throw new SourcesFileError(`${file} must be a mapping with keys such as terraform, zones, env, images, manifests, vaults, postgres`);
  for (const key of Object.keys(raw)) if (!KEYS.has(key)) throw new SourcesFileError(`${file}: unknown key "${key}"; the keys are ${[...KEYS].join(', ')}`);
  if (raw.version !== undefined && raw.version !== 1) throw new SourcesFileError(`${file}: version ${textOf(raw.version)} is not supported (use version: 1)`);
  const base = dirname(resolve(file));
  const at = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  const list = (key: string): unknown[] => {
    const value = raw[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw new SourcesFileError(`${file}: "${key}" must be a list`);
    return value;
  };
  const paths = <T extends PathSource>(key: string, extra: readonly string[] = []): T[] =>
    list(key).map((entry, index) => {
      if (typeof entry === 'string') return { path: at(entry) } as T;
      if (!isRecord(entry) || typeof entry.path !== 'string') throw new SourcesFileError(`${file}: ${key}[${index}] must be a path or { path: ... }`);
      const out: Record<string, string> = { path: at(entry.path) };
      for (const name of extra) {
        if (entry[name] === undefined) continue;
        if (typeof entry[name] !== 'string') throw new SourcesFileError(`${file}: ${key}[${index}].${name} must be a string`);
        out[name] = entry[name];
      }
      return out as unknown as T;
    });
  const vaults = list('vaults').map((entry, index): VaultSource => {
    if (!isRecord(entry) || typeof entry.endpoint !== 'string') throw new SourcesFileError(`${file}: vaults[${index}] needs an "endpoint" URL (credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`);
    if (entry.buckets !== undefined && !(Array.isArray(entry.buckets) && entry.buckets.every((bucket) => typeof bucket === 'string'))) throw new SourcesFileError(`${file}: vaults[${index}].buckets must be a list of bucket names`);
    return { endpoint: entry.endpoint, ...(typeof entry.name === 'string' ? { name: entry.name } : {}), ...(Array.isArray(entry.buckets) ? { buckets: entry.buckets } : {}) };
  });
  const postgres = list('postgres').map((entry, index): PostgresSource => {
    if (!isRecord(entry)) throw new SourcesFileError(`${file}: postgres[${index}] must be { connectionEnv: VARIABLE } or { connection: URL-without-password }`);
    let connection: string | undefined;
    if (typeof entry.connectionEnv === 'string') {
      connection = env[entry.connectionEnv];
      if (connection === undefined || connection === '') throw new SourcesFileError(`${file}: postgres[${index}].connectionEnv names ${entry.connectionEnv}, which is not set; export it (a libpq URL) before running`);
    } else if (typeof entry.connection === 'string') {
      if (/^postgres(?:ql)?:\/\/[^/@]*:[^/@]*@/.test(entry.connection) || /\bpassword=/.test(entry.connection)) {
        throw new SourcesFileError(`${file}: postgres[${index}].connection holds a password; keep it out of the file: use connectionEnv, PGPASSWORD or ~/.pgpass`);
      }
      connection = entry.connection;
    }
    return { ...(connection === undefined ? {} : { connection }), ...(typeof entry.name === 'string' ? { name: entry.name } : {}) };
  });
  const rules = raw.rules;
  if (rules !== undefined && (!isRecord(rules) || (rules.backupBuckets !== undefined && typeof rules.backupBuckets !== 'string'))) throw new SourcesFileError(`${file}: "rules" may only hold backupBuckets: "<regular expression>"`);
  const suppressions = raw.suppressions ?? [];
  if (!Array.isArray(suppressions)) throw new SourcesFileError(`${file}: "suppressions" must be a list`);
  return {
    sources: {
      terraform: paths<TerraformSource>('terraform', ['stack']),
      zones: paths<ZoneSource>('zones', ['origin']),
      env: paths<EnvironmentSource>('env', ['name']),
      images: paths('images'),
      dockerfiles: paths('dockerfiles'),
      manifests: paths('manifests'),
      vaults,
      postgres,
    },
    extras: { ...(isRecord(rules) && typeof rules.backupBuckets === 'string' ? { backupBuckets: rules.backupBuckets } : {}), suppressions },
  };
}
