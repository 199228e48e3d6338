import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { collectConfigItems, ConfigCollectError } from '../guard/config/collect-config-items.js';
import { CONFIG_COMPONENTS, type ConfigCollection } from '../guard/config/config-item.js';
import { countSources, mergeSources, NO_SOURCES, parseSourcesFile, SourcesFileError, type ConfigSources, type VaultSource } from '../guard/config/config-sources.js';
import { s3VaultBucketReader, type VaultAdminBucketView, type VaultBucketReader } from '../guard/config/collectors/vault-bucket-collector.js';
import { BackupPatternError, checkConfigItems } from '../guard/config/rules/check-config-items.js';
import { blockingConfigFindings, renderConfigCheckJson, renderConfigCheckSarif, renderConfigCheckTable } from '../guard/config/rules/config-report.js';
import { CONFIG_RULES } from '../guard/config/rules/config-rules.js';
import { parseSuppressions, SuppressionError } from '../guard/config/rules/config-suppressions.js';
import { describePolicy } from '../guard/policy-reference.js';
import { isSeverity, SEVERITIES } from '../guard/severity.js';
import { systemClock, type Clock } from '../infra/clock.js';
import { S3Client } from '../infra/s3-client/s3-client.js';
import { S3ClientConfigError, s3ClientOptionsFromEnvironment } from '../infra/s3-client/s3-client-environment.js';
import { AdminClient, AdminRequestError } from './admin-client.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS_FOUND, EXIT_USAGE } from './exit-codes.js';
import { packageVersion } from './package-version.js';

export const CONFIG_USAGE = `Usage:
  holdfast config collect [INPUTS] [--out FILE] [--json]
  holdfast config check   [INPUTS | --items FILE] [--suppressions FILE] [--backup-buckets REGEX]
                          [--format table|json|sarif] [--json] [--sarif FILE] [--fail-on SEVERITY]
  holdfast config rules   [--json]

collect reads what a team already has into normalized configuration items (the input of
baselines and drift); check judges them against the Configuration Management and Backup & Data
Immutability policies. Input formats: src/guard/config/README.md.

INPUTS (each may be repeated):
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
                           it comes from PGPASSWORD or ~/.pgpass); "env" uses PG* variables only

  --out FILE           write the collection (JSON) to FILE
  --items FILE         check a collection written by collect --out instead of reading inputs
  --suppressions FILE  YAML/JSON list of { rule, resource, reason, owner, expires }
  --backup-buckets RE  which buckets hold backups: a regular expression over names and tags
                       (default "backup")
  --fail-on SEVERITY   the lowest severity that makes the exit code 4 (default low: any finding)

Exit codes: 0 no open finding at or above --fail-on, 1 an input could not be read,
2 usage error, 4 findings.
`;

export interface ConfigCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv;
  readonly interactive: boolean;
}

const processIo: ConfigCommandIo = { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text), clock: systemClock, env: process.env, interactive: process.stderr.isTTY === true };

class UsageError extends Error {}

const OPTIONS = {
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
  out: { type: 'string' },
  items: { type: 'string' },
  suppressions: { type: 'string' },
  'backup-buckets': { type: 'string' },
  format: { type: 'string' },
  json: { type: 'boolean' },
  sarif: { type: 'string' },
  'fail-on': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** `FILE:SUFFIX` → [FILE, SUFFIX], unless the whole text names an existing path. */
function splitSuffix(text: string): [string, string | undefined] {
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || existsSync(text)) return [text, undefined];
  return [text.slice(0, colon), text.slice(colon + 1) || undefined];
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path.`);
  }
}

function sourcesFrom(values: Values, io: ConfigCommandIo): { sources: ConfigSources; backupBuckets?: string; suppressions: unknown[]; suppressionsSource: string } {
  let sources: ConfigSources = NO_SOURCES;
  let backupBuckets: string | undefined;
  const suppressions: unknown[] = [];
  let suppressionsSource = '--sources';
  for (const file of values.sources ?? []) {
    const parsed = parseSourcesFile(readText(file, '--sources'), file, io.env);
    sources = mergeSources(sources, parsed.sources);
    backupBuckets = parsed.extras.backupBuckets ?? backupBuckets;
    suppressions.push(...parsed.extras.suppressions);
    suppressionsSource = file;
  }
  const postgres = (values.postgres ?? []).map((text) => {
    if (/^postgres(?:ql)?:\/\/[^/@]*:[^/@]*@/.test(text) || /\bpassword=/.test(text)) {
      throw new UsageError('--postgres holds a password, which other users can read in the process list; pass it in PGPASSWORD or ~/.pgpass instead.');
    }
    return text === 'env' ? {} : { connection: text };
  });
  const buckets = values['vault-buckets']?.split(',').map((bucket) => bucket.trim()).filter((bucket) => bucket !== '');
  const vaults = (values['vault-endpoint'] ?? []).map((endpoint): VaultSource => ({ endpoint, ...(values['vault-name'] === undefined ? {} : { name: values['vault-name'] }), ...(buckets === undefined ? {} : { buckets }) }));
  if (values['vault-endpoint'] === undefined && (buckets !== undefined || values['vault-name'] !== undefined)) throw new UsageError('--vault-buckets and --vault-name go with --vault-endpoint URL.');
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

/** The CLI's vault reader: S3 with the AWS_* credentials, and the admin API with the same key for bounds and protection. */
function vaultReader(io: ConfigCommandIo): (vault: VaultSource) => VaultBucketReader {
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
          io.stderr(`holdfast config: ${vault.endpoint}: these credentials may not read the admin API (${error.code}); retention bounds and protection are not collected.\n`);
          return undefined;
        }
        throw error;
      }
    };
    return s3VaultBucketReader(client, adminView);
  };
}

async function collect(values: Values, io: ConfigCommandIo): Promise<{ collection: ConfigCollection; backupBuckets?: string; suppressions: unknown[]; suppressionsSource: string }> {
  const { sources, ...rest } = sourcesFrom(values, io);
  if (countSources(sources) === 0) throw new UsageError('no inputs: give --sources FILE, or --terraform, --zone, --env, --image, --dockerfile, --manifests, --vault-endpoint or --postgres.');
  const collection = await collectConfigItems(sources, {
    clock: io.clock,
    env: io.env,
    vaultReader: vaultReader(io),
    onInput: (index, total, kind, location) => {
      if (io.interactive) io.stderr(`\r\x1b[2Kholdfast config: reading ${index + 1}/${total} ${kind} ${location}${index + 1 === total ? '\n' : ''}`);
    },
  });
  return { collection, ...rest };
}

function summary(collection: ConfigCollection): string {
  const counts = CONFIG_COMPONENTS.map((component) => [component, collection.items.filter((item) => item.component === component).length] as const).filter(([, count]) => count > 0);
  const lines = counts.map(([component, count]) => `  ${component.padEnd(12)} ${count}`);
  return `${collection.items.length} item(s) from ${collection.inputs.length} input(s) at ${collection.collectedAt}\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`;
}

function readCollection(path: string): ConfigCollection {
  let raw: unknown;
  try {
    raw = JSON.parse(readText(path, '--items'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--items ${path} is not JSON; pass a file written by \`holdfast config collect --out FILE\`.`);
  }
  const collection = raw as Partial<ConfigCollection>;
  if (collection.format !== 'holdfast-config-items/1' || !Array.isArray(collection.items)) throw new UsageError(`--items ${path} is not a holdfast-config-items/1 collection; write one with \`holdfast config collect --out FILE\`.`);
  return raw as ConfigCollection;
}

async function runCheck(values: Values, io: ConfigCommandIo): Promise<number> {
  const format = values.json === true ? 'json' : (values.format ?? 'table');
  if (format !== 'table' && format !== 'json' && format !== 'sarif') throw new UsageError(`--format takes table, json or sarif, not "${format}".`);
  const failOn = values['fail-on'] ?? 'low';
  if (!isSeverity(failOn)) throw new UsageError(`--fail-on takes one of ${SEVERITIES.join(', ')}, not "${failOn}".`);
  let collection: ConfigCollection;
  let backupBuckets: string | undefined;
  const suppressions: unknown[] = [];
  let suppressionsSource = '--suppressions';
  if (values.items !== undefined) {
    if (countSources(sourcesFrom({ ...values, sources: [] }, io).sources) > 0) throw new UsageError('--items checks a written collection; do not give inputs with it.');
    collection = readCollection(values.items);
    for (const file of values.sources ?? []) {
      const parsed = parseSourcesFile(readText(file, '--sources'), file, io.env);
      backupBuckets = parsed.extras.backupBuckets ?? backupBuckets;
      suppressions.push(...parsed.extras.suppressions);
    }
  } else {
    const collected = await collect(values, io);
    collection = collected.collection;
    backupBuckets = collected.backupBuckets;
    suppressions.push(...collected.suppressions);
    suppressionsSource = collected.suppressionsSource;
  }
  const parsedSuppressions = parseSuppressions(suppressions, suppressionsSource);
  if (values.suppressions !== undefined) {
    const { parse } = await import('yaml');
    const raw = parse(readText(values.suppressions, '--suppressions')) as unknown;
    const list = Array.isArray(raw) ? raw : (raw as { suppressions?: unknown } | null)?.suppressions;
    if (!Array.isArray(list)) throw new UsageError(`--suppressions ${values.suppressions} must be a list of { rule, resource, reason, owner, expires } (or { suppressions: [...] }).`);
    parsedSuppressions.push(...parseSuppressions(list, values.suppressions));
  }
  const pattern = values['backup-buckets'] ?? backupBuckets;
  const findings = checkConfigItems(collection.items, { clock: io.clock, ...(pattern === undefined ? {} : { backupBuckets: pattern }), suppressions: parsedSuppressions });
  const report = { root: resolve('.'), failOn: failOn, items: collection.items.length, inputs: collection.inputs.map((input) => ({ kind: input.kind, location: input.location })), findings };
  if (values.sarif !== undefined) await writeFile(values.sarif, renderConfigCheckSarif(report, packageVersion()));
  io.stdout(format === 'json' ? renderConfigCheckJson(report) : format === 'sarif' ? renderConfigCheckSarif(report, packageVersion()) : renderConfigCheckTable(report));
  return blockingConfigFindings(report).length > 0 ? EXIT_PROBLEMS_FOUND : EXIT_OK;
}

export async function runConfigCommand(args: string[], io: ConfigCommandIo = processIo): Promise<number> {
  const [verb, ...rest] = args;
  try {
    if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
      io.stdout(CONFIG_USAGE);
      return verb === undefined ? EXIT_USAGE : EXIT_OK;
    }
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: OPTIONS });
    if (values.help === true) {
      io.stdout(CONFIG_USAGE);
      return EXIT_OK;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"; inputs are given with flags (--terraform FILE, --zone FILE, ...).`);
    switch (verb) {
      case 'collect': {
        const { collection } = await collect(values, io);
        const text = `${JSON.stringify(collection, null, 2)}\n`;
        if (values.out !== undefined) await writeFile(values.out, text);
        io.stdout(values.json === true ? text : `${summary(collection)}${values.out === undefined ? '(use --out FILE or --json for the items)\n' : `written to ${values.out}\n`}`);
        return EXIT_OK;
      }
      case 'check':
        return await runCheck(values, io);
      case 'rules':
        io.stdout(values.json === true ? `${JSON.stringify(CONFIG_RULES, null, 2)}\n` : `${CONFIG_RULES.map((entry) => `${entry.id} (${entry.severity}, ${entry.component}): ${entry.title}\n  fix: ${entry.fix}\n  policy: ${describePolicy(entry.policy)}`).join('\n')}\n`);
        return EXIT_OK;
      default:
        throw new UsageError(`unknown verb "${verb}"; use collect, check or rules.`);
    }
  } catch (error) {
    const parseError = error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    if (error instanceof UsageError || parseError || error instanceof SourcesFileError || error instanceof SuppressionError || error instanceof BackupPatternError || error instanceof S3ClientConfigError) {
      io.stderr(`holdfast config: ${error.message}\n${error instanceof UsageError || parseError ? CONFIG_USAGE : ''}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigCollectError) {
      io.stderr(`holdfast config: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}
