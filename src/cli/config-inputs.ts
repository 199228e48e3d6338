import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { collectConfigItems } from '../guard/config/collect-config-items.js';
import type { ConfigCollection } from '../guard/config/config-item.js';
import { countSources, mergeSources, NO_SOURCES, parseSourcesFile, type ConfigSources, type VaultSource } from '../guard/config/config-sources.js';
import { s3VaultBucketReader, type VaultAdminBucketView, type VaultBucketReader } from '../guard/config/collectors/vault-bucket-collector.js';
import type { Clock } from '../infra/clock.js';
import { S3Client } from '../infra/s3-client/s3-client.js';
import { s3ClientOptionsFromEnvironment } from '../infra/s3-client/s3-client-environment.js';
import { AdminClient, AdminRequestError } from './admin-client.js';

/**
 * The input flags of `holdfast config collect|check`, `holdfast baseline capture` and
 * `holdfast drift check`, parsed in one place so the three commands read the same inputs the same
 * way: collectors run in the CLI process and the server only ever sees the resulting collection.
 */

export const CONFIG_INPUT_OPTIONS = {
  sources: { type: 'string', multiple: true },
  terraform: { type: 'string', multiple: true },
  zone: { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  image: { type: 'string', multiple: true },
  dockerfile: { type: 'string', multiple: true },
  manifests: { type: 'string', multiple: true },
  'vault-endpoint': { type: 'string', multiple: true },
  'vault-buckets': { type: 'string' },
  'vault-name': { type: 'string' },
  postgres: { type: 'string', multiple: true },
} as const;

export const CONFIG_INPUTS_HELP = `INPUTS (each may be repeated):
  --sources FILE           a YAML/JSON file listing the inputs below (what teams keep in the repo)
  --terraform FILE[:STACK] terraform.tfstate (v4) or \`terraform show -json\` of a state or plan
  --zone FILE[:ORIGIN]     a BIND zone file; ORIGIN when it has no $ORIGIN or SOA
  --env FILE[:NAME]        a .env file or a platform's JSON export (names and SHA-256 only)
  --image PATH             an image archive (docker save tarball or OCI layout)
  --dockerfile FILE        a Dockerfile
  --manifests PATH         Kubernetes YAML and compose files under PATH
  --vault-endpoint URL     a Holdfast vault (credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
                           or AWS_PROFILE); --vault-buckets a,b (default: every bucket listed),
                           --vault-name NAME (default: the endpoint's host:port)
  --postgres CONNSTR       a PostgreSQL server (libpq URL or key=value, without the password:
                           it comes from PGPASSWORD or ~/.pgpass); "env" uses PG* variables only`;

/** The values of CONFIG_INPUT_OPTIONS as parseArgs returns them. */
export interface ConfigInputValues {
  readonly sources?: string[];
  readonly terraform?: string[];
  readonly zone?: string[];
  readonly env?: string[];
  readonly image?: string[];
  readonly dockerfile?: string[];
  readonly manifests?: string[];
  readonly 'vault-endpoint'?: string[];
  readonly 'vault-buckets'?: string;
  readonly 'vault-name'?: string;
  readonly postgres?: string[];
}

export interface ConfigInputIo {
  readonly stderr: (text: string) => void;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv;
  readonly interactive: boolean;
}

/** The input flags are wrong (a missing file, a password on the command line): exit 2 with the fix. */
export class ConfigInputError extends Error {
  override readonly name = 'ConfigInputError';
}

export interface FlagSources {
  readonly sources: ConfigSources;
  /** `rules.backupBuckets` of the last sources file that set it. */
  readonly backupBuckets?: string;
  readonly suppressions: unknown[];
  /** The sources file the suppressions came from, to name it in errors. */
  readonly suppressionsSource: string;
}

/** `FILE:SUFFIX` → [FILE, SUFFIX], unless the whole text names an existing path. */
function splitSuffix(text: string): [string, string | undefined] {
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || existsSync(text)) return [text, undefined];
  return [text.slice(0, colon), text.slice(colon + 1) || undefined];
}

export function readInputText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigInputError(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path.`);
  }
}

/** The inputs named by flags and sources files (files are read here; nothing is collected yet). */
export function sourcesFromFlags(values: ConfigInputValues, env: NodeJS.ProcessEnv): FlagSources {
  let sources: ConfigSources = NO_SOURCES;
  let backupBuckets: string | undefined;
  const suppressions: unknown[] = [];
  let suppressionsSource = '--sources';
  for (const file of values.sources ?? []) {
    const parsed = parseSourcesFile(readInputText(file, '--sources'), file, env);
    sources = mergeSources(sources, parsed.sources);
    backupBuckets = parsed.extras.backupBuckets ?? backupBuckets;
    suppressions.push(...parsed.extras.suppressions);
    suppressionsSource = file;
  }
  const postgres = (values.postgres ?? []).map((text) => {
    if (/^postgres(?:ql)?:\/\/[^/@]*:[^/@]*@/.test(text) || /\bpassword=/.test(text)) {
      throw new ConfigInputError('--postgres holds a password, which other users can read in the process list; pass it in PGPASSWORD or ~/.pgpass instead.');
    }
    return text === 'env' ? {} : { connection: text };
  });
  const buckets = values['vault-buckets']?.split(',').map((bucket) => bucket.trim()).filter((bucket) => bucket !== '');
  const vaults = (values['vault-endpoint'] ?? []).map((endpoint): VaultSource => ({ endpoint, ...(values['vault-name'] === undefined ? {} : { name: values['vault-name'] }), ...(buckets === undefined ? {} : { buckets }) }));
  if (values['vault-endpoint'] === undefined && (buckets !== undefined || values['vault-name'] !== undefined)) throw new ConfigInputError('--vault-buckets and --vault-name go with --vault-endpoint URL.');
  sources = mergeSources(sources, {
    terraform: (values.terraform ?? []).map((text) => {
      const [path, stack] = splitSuffix(text);
      return { path: resolve(path), ...(stack === undefined ? {} : { stack }) };
    }),
    zones: (values.zone ?? []).map((text) => {
      const [path, origin] = splitSuffix(text);
      return { path: resolve(path), ...(origin === undefined ? {} : { origin }) };
    }),
    env: (values.env ?? []).map((text) => {
      const [path, name] = splitSuffix(text);
      return { path: resolve(path), ...(name === undefined ? {} : { name }) };
    }),
    images: (values.image ?? []).map((path) => ({ path: resolve(path) })),
    dockerfiles: (values.dockerfile ?? []).map((path) => ({ path: resolve(path) })),
    manifests: (values.manifests ?? []).map((path) => ({ path: resolve(path) })),
    vaults,
    postgres,
  });
  return { sources, ...(backupBuckets === undefined ? {} : { backupBuckets }), suppressions, suppressionsSource };
}

/** Whether any input flag (other than --sources) was given: `--items` excludes them. */
export function hasInputFlags(values: ConfigInputValues, env: NodeJS.ProcessEnv): boolean {
  return countSources(sourcesFromFlags({ ...values, sources: [] }, env).sources) > 0;
}

/** The CLI's vault reader: S3 with the AWS_* credentials, and the admin API with the same key for bounds and protection. */
function vaultReader(io: ConfigInputIo, command: string): (vault: VaultSource) => VaultBucketReader {
  return (vault) => {
    const options = s3ClientOptionsFromEnvironment(vault.endpoint, io.env);
    const client = new S3Client({ ...options, clock: io.clock, retry: { attempts: 2, baseDelayMs: 200, maxDelayMs: 1_000 } });
    const admin = new AdminClient(options.endpoint, { accessKeyId: options.credentials.accessKeyId, secretAccessKey: options.credentials.secretAccessKey }, options.region, options.ca);
    let adminAllowed = true;
    const adminView = async (bucket: string): Promise<VaultAdminBucketView | undefined> => {
      if (!adminAllowed) return undefined;
      try {
        const view = (await admin.call('GET', `buckets/${encodeURIComponent(bucket)}`)) as { retentionBounds?: VaultAdminBucketView['retentionBounds']; protected?: boolean };
        return { retentionBounds: view.retentionBounds ?? null, protected: view.protected === true };
      } catch (error) {
        // A key without admin rights still collects what S3 shows; the items then carry no bounds.
        if (error instanceof AdminRequestError && error.status === 403) {
          adminAllowed = false;
          io.stderr(`holdfast ${command}: ${vault.endpoint}: these credentials may not read the admin API (${error.code}); retention bounds and protection are not collected.\n`);
          return undefined;
        }
        throw error;
      }
    };
    return s3VaultBucketReader(client, adminView);
  };
}

/**
 * Runs the collectors over the inputs the flags name. `command` prefixes progress and warnings
 * (`holdfast config`, `holdfast drift`); progress is shown only on a terminal.
 */
export async function collectFromFlags(values: ConfigInputValues, io: ConfigInputIo, command: string): Promise<FlagSources & { collection: ConfigCollection }> {
  const flagSources = sourcesFromFlags(values, io.env);
  if (countSources(flagSources.sources) === 0) throw new ConfigInputError('no inputs: give --sources FILE, or --terraform, --zone, --env, --image, --dockerfile, --manifests, --vault-endpoint or --postgres.');
  const collection = await collectConfigItems(flagSources.sources, {
    clock: io.clock,
    env: io.env,
    vaultReader: vaultReader(io, command),
    onInput: (index, total, kind, location) => {
      if (io.interactive) io.stderr(`\r\x1b[2Kholdfast ${command}: reading ${index + 1}/${total} ${kind} ${location}${index + 1 === total ? '\n' : ''}`);
    },
  });
  return { ...flagSources, collection };
}

/** Reads a collection written by `holdfast config collect --out FILE`, checking its format. */
export function readConfigCollection(path: string): ConfigCollection {
  let raw: unknown;
  try {
    raw = JSON.parse(readInputText(path, '--items'));
  } catch (error) {
    if (error instanceof ConfigInputError) throw error;
    throw new ConfigInputError(`--items ${path} is not JSON; pass a file written by \`holdfast config collect --out FILE\`.`);
  }
  const collection = raw as Partial<ConfigCollection>;
  if (collection.format !== 'holdfast-config-items/1' || !Array.isArray(collection.items)) throw new ConfigInputError(`--items ${path} is not a holdfast-config-items/1 collection; write one with \`holdfast config collect --out FILE\`.`);
  return raw as ConfigCollection;
}

/** One line per input read, with how many items it gave: what an operator checks before trusting a baseline. */
export function describeInputs(collection: ConfigCollection): string {
  const perSource = new Map<string, number>();
  for (const item of collection.items) perSource.set(item.source, (perSource.get(item.source) ?? 0) + 1);
  const lines = collection.inputs.map((input) => `  ${input.kind.padEnd(16)} ${input.location}${perSource.has(input.location) ? ` (${perSource.get(input.location)} items)` : ''}`);
  return `read ${collection.inputs.length} input(s), ${collection.items.length} item(s):\n${lines.join('\n')}\n`;
}
