import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigCollectError } from '../guard/config/collect-config-items.js';
import { CONFIG_COMPONENTS, type ConfigCollection } from '../guard/config/config-item.js';
import { parseSourcesFile, SourcesFileError } from '../guard/config/config-sources.js';
import { BackupPatternError, checkConfigItems } from '../guard/config/rules/check-config-items.js';
import { blockingConfigFindings, renderConfigCheckJson, renderConfigCheckSarif, renderConfigCheckTable } from '../guard/config/rules/config-report.js';
import { CONFIG_RULES } from '../guard/config/rules/config-rules.js';
import { parseSuppressions, SuppressionError } from '../guard/config/rules/config-suppressions.js';
import { describePolicy } from '../guard/policy-reference.js';
import { isSeverity, SEVERITIES } from '../guard/severity.js';
import { systemClock, type Clock } from '../infra/clock.js';
import { S3ClientConfigError } from '../infra/s3-client/s3-client-environment.js';
import { collectFromFlags, CONFIG_INPUT_OPTIONS, CONFIG_INPUTS_HELP, ConfigInputError, hasInputFlags, readConfigCollection, readInputText } from './config-inputs.js';
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

${CONFIG_INPUTS_HELP}

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
  ...CONFIG_INPUT_OPTIONS,
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

function summary(collection: ConfigCollection): string {
  const counts = CONFIG_COMPONENTS.map((component) => [component, collection.items.filter((item) => item.component === component).length] as const).filter(([, count]) => count > 0);
  const lines = counts.map(([component, count]) => `  ${component.padEnd(12)} ${count}`);
  return `${collection.items.length} item(s) from ${collection.inputs.length} input(s) at ${collection.collectedAt}\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`;
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
    if (hasInputFlags(values, io.env)) throw new UsageError('--items checks a written collection; do not give inputs with it.');
    collection = readConfigCollection(values.items);
    for (const file of values.sources ?? []) {
      const parsed = parseSourcesFile(readInputText(file, '--sources'), file, io.env);
      backupBuckets = parsed.extras.backupBuckets ?? backupBuckets;
      suppressions.push(...parsed.extras.suppressions);
    }
  } else {
    const collected = await collectFromFlags(values, io, 'config');
    collection = collected.collection;
    backupBuckets = collected.backupBuckets;
    suppressions.push(...collected.suppressions);
    suppressionsSource = collected.suppressionsSource;
  }
  const parsedSuppressions = parseSuppressions(suppressions, suppressionsSource);
  if (values.suppressions !== undefined) {
    const { parse } = await import('yaml');
    const raw = parse(readInputText(values.suppressions, '--suppressions')) as unknown;
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
        const { collection } = await collectFromFlags(values, io, 'config');
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
    if (error instanceof UsageError || error instanceof ConfigInputError || parseError || error instanceof SourcesFileError || error instanceof SuppressionError || error instanceof BackupPatternError || error instanceof S3ClientConfigError) {
      io.stderr(`holdfast config: ${error.message}\n${error instanceof UsageError || error instanceof ConfigInputError || parseError ? CONFIG_USAGE : ''}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigCollectError) {
      io.stderr(`holdfast config: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}
