import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { systemClock, type Clock } from '../infra/clock.js';
import { GitError, gitHistoryUnits, gitTopLevel, stagedUnits } from '../guard/secrets/git-history-source.js';
import { ForeignHookError, installPreCommitHook, shellQuote } from '../guard/secrets/pre-commit-hook.js';
import { renderSarif } from '../guard/secrets/sarif-report.js';
import { NO_COMMITTED_CREDENTIALS, SECRETS_NOT_IN_SOURCE, isSuppressed, type SecretFinding } from '../guard/secrets/secret-finding.js';
import { blockingFindings, renderJson, renderTable, type ScanMode, type SecretScanReport } from '../guard/secrets/secret-report.js';
import { describeRules, isSeverity, loadSecretRules, RuleFileError, SEVERITIES, type SecretRuleSet, type Severity } from '../guard/secrets/secret-rules.js';
import { scanTreeInParallel } from '../guard/secrets/parallel-tree-scan.js';
import { scanUnits } from '../guard/secrets/secret-scan.js';
import { BaselineFileError, expiryInstant, parseBaseline, writeBaselineFile, type Baseline } from '../guard/secrets/suppressions.js';
import { emptySourceStats, type TextUnit } from '../guard/secrets/text-unit.js';
import { DEFAULT_EXCLUDED_DIRECTORIES, DEFAULT_MAX_FILE_BYTES, workingTreeUnits } from '../guard/secrets/working-tree-source.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS_FOUND, EXIT_USAGE } from './exit-codes.js';
import { packageVersion } from './package-version.js';

const USAGE = `Usage:
  holdfast scan secrets [PATH] [--git | --staged] [--format table|json|sarif] [--json] [--sarif FILE]
                        [--fail-on ${SEVERITIES.join('|')}] [--rules FILE] [--baseline FILE]
                        [--write-baseline FILE [--owner NAME] [--reason TEXT] [--expires YYYY-MM-DD]]
                        [--max-file-size BYTES[K|M]] [--all-files] [--threads N] [--list-rules]
  holdfast scan install-hook [REPO] [--force] [--hook-command CMD]
  holdfast scan deps [PATH] …   known vulnerabilities in lockfiles and dpkg databases (holdfast scan deps --help)
  holdfast scan image IMAGE …   an image's baseline: root, ports, SSH, packages, base, secrets (scan image --help)
  holdfast scan dockerfile [PATH] …   Dockerfile baseline: pinned bases, USER, EXPOSE 22, ADD URLs, secrets
  holdfast scan manifests [PATH] …    Kubernetes and compose: privileged, root, host access, images, secrets

scan secrets looks for credentials (cloud keys, tokens, private keys, database URLs with
passwords, …) in PATH (default .): the working tree by default; with --git every commit of the
repository's history (each finding with commit, author and date); with --staged only what
\`git commit\` is about to record (the pre-commit check). Nothing is sent over the network; a
secret is shown only as its first characters and a fingerprint.

  --fail-on       the lowest severity that makes the exit code 4 (default high)
  --rules         a rule file that adds, replaces or disables rules (src/guard/secrets/README.md)
  --baseline      accept the findings listed in FILE until their expiry dates
  --write-baseline  write every open finding to FILE (reason, owner, and expiry default to
                  "accepted when the baseline was written", "unassigned", today + 90 days)
  --max-file-size skip larger files (default 5M)
  --all-files     also scan ${DEFAULT_EXCLUDED_DIRECTORIES.join(' and ')} directories
  --threads       scan a working tree on N threads (default 1; up to N times as fast on N idle cores)
  --list-rules    print the rules in the rule-file format and exit

install-hook writes .git/hooks/pre-commit (or core.hooksPath) running \`scan secrets --staged\`.
Exit codes: 0 no finding at or above --fail-on, 1 failure, 2 usage error, 4 findings.
`;

export interface ScanCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly clock: Clock;
}

const processIo: ScanCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  clock: systemClock,
};

class UsageError extends Error {}

const DAY_MS = 24 * 3600 * 1000;

function parseSize(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_FILE_BYTES;
  const match = /^(\d+)([KMG]?)i?B?$/i.exec(value);
  if (match === null) throw new UsageError(`--max-file-size takes a number of bytes with an optional K, M or G suffix (e.g. 5M), not "${value}".`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(match[1]) * unit;
}

async function readJsonFile(path: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${flag} ${path} is not valid JSON (${(error as Error).message}); fix the file.`);
  }
}

/** `holdfast` as this process runs it: this node and this build's main.js. */
function defaultHookCommand(): string {
  const main = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
  return existsSync(main) ? [process.execPath, main].map(shellQuote).join(' ') : 'holdfast';
}

async function runInstallHook(args: string[], io: ScanCommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { force: { type: 'boolean' }, 'hook-command': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (positionals.length > 1) throw new UsageError(`install-hook takes one repository path, not "${positionals.join(' ')}".`);
  const repo = await gitTopLevel(resolve(positionals[0] ?? '.'));
  if (repo === undefined) throw new UsageError(`${resolve(positionals[0] ?? '.')} is not inside a git repository; pass the repository's path.`);
  const path = await installPreCommitHook(repo, values['hook-command'] ?? defaultHookCommand(), values.force === true);
  io.stdout(`Wrote ${path}: commits whose staged changes add a secret are refused.\n`);
  return EXIT_OK;
}

interface SecretsOptions {
  readonly mode: ScanMode;
  readonly path: string;
}

async function resolveRoot({ mode, path }: SecretsOptions): Promise<string> {
  const absolute = resolve(path);
  try {
    await stat(absolute);
  } catch {
    throw new UsageError(`${absolute} does not exist; pass the directory, file or repository to scan.`);
  }
  if (mode === 'working-tree') return absolute;
  const top = await gitTopLevel(absolute);
  if (top === undefined) throw new UsageError(`${absolute} is not inside a git repository, which --${mode === 'staged' ? 'staged' : 'git'} needs; pass the repository's path, or drop the flag to scan the files.`);
  return top;
}

function acceptIntoBaseline(findings: readonly SecretFinding[], terms: { reason: string; owner: string; expires: string }): SecretFinding[] {
  return findings.map((finding) => (isSuppressed(finding) ? finding : { ...finding, suppression: { kind: 'baseline', status: 'active', ...terms } }));
}

async function runSecrets(args: string[], io: ScanCommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      git: { type: 'boolean' },
      staged: { type: 'boolean' },
      format: { type: 'string' },
      json: { type: 'boolean' },
      sarif: { type: 'string' },
      'fail-on': { type: 'string' },
      rules: { type: 'string' },
      baseline: { type: 'string' },
      'write-baseline': { type: 'string' },
      owner: { type: 'string' },
      reason: { type: 'string' },
      expires: { type: 'string' },
      'max-file-size': { type: 'string' },
      'all-files': { type: 'boolean' },
      threads: { type: 'string' },
      'list-rules': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  let ruleSet: SecretRuleSet;
  let ruleFile: { content: unknown; source: string } | undefined;
  try {
    if (values.rules !== undefined) ruleFile = { content: await readJsonFile(values.rules, '--rules'), source: values.rules };
    ruleSet = ruleFile === undefined ? loadSecretRules() : loadSecretRules(ruleFile.content, ruleFile.source);
  } catch (error) {
    if (error instanceof RuleFileError) throw new UsageError(error.message);
    throw error;
  }
  if (values['list-rules'] === true) {
    io.stdout(`${JSON.stringify(describeRules(ruleSet), null, 2)}\n`);
    return EXIT_OK;
  }
  if (values.git === true && values.staged === true) throw new UsageError('--git and --staged exclude each other: --git reads the whole history, --staged only the next commit.');
  const mode: ScanMode = values.git === true ? 'git-history' : values.staged === true ? 'staged' : 'working-tree';
  if (values['all-files'] === true && mode !== 'working-tree') throw new UsageError('--all-files applies to working-tree scans only; drop it or --git/--staged.');
  const threads = Number(values.threads ?? 1);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new UsageError(`--threads takes a whole number from 1 to 256, not "${values.threads}".`);
  if (threads > 1 && mode !== 'working-tree') throw new UsageError('--threads applies to working-tree scans only (git history is one stream); drop it or --git/--staged.');
  const format = values.json === true ? 'json' : (values.format ?? 'table');
  if (format !== 'table' && format !== 'json' && format !== 'sarif') throw new UsageError(`--format takes table, json or sarif, not "${format}".`);
  const failOnText = values['fail-on'] ?? 'high';
  if (!isSeverity(failOnText)) throw new UsageError(`--fail-on takes one of ${SEVERITIES.join(', ')}, not "${failOnText}".`);
  const failOn: Severity = failOnText;
  const maxFileBytes = parseSize(values['max-file-size']);
  if (positionals.length > 1) throw new UsageError(`scan secrets takes one PATH, not "${positionals.join(' ')}".`);
  for (const flag of ['owner', 'reason', 'expires'] as const) {
    if (values[flag] !== undefined && values['write-baseline'] === undefined) throw new UsageError(`--${flag} is for --write-baseline FILE; add it or drop --${flag}.`);
  }
  const expires = values.expires ?? new Date(io.clock.nowMs() + 90 * DAY_MS).toISOString().slice(0, 10);
  if (expiryInstant(expires) === undefined) throw new UsageError(`--expires takes a date YYYY-MM-DD, not "${expires}".`);

  let baseline: Baseline | undefined;
  try {
    if (values.baseline !== undefined) baseline = parseBaseline(await readJsonFile(values.baseline, '--baseline'), values.baseline);
  } catch (error) {
    if (error instanceof BaselineFileError) throw new UsageError(error.message);
    throw error;
  }

  const root = await resolveRoot({ mode, path: positionals[0] ?? '.' });
  const stats = emptySourceStats();
  const tree = { maxFileBytes, excludedDirectories: values['all-files'] === true ? [] : DEFAULT_EXCLUDED_DIRECTORIES, decoding: ruleSet.textDecoding, screen: ruleSet.prefilter };
  const judging = { clock: io.clock, policy: mode === 'working-tree' ? SECRETS_NOT_IN_SOURCE : NO_COMMITTED_CREDENTIALS, ...(baseline === undefined ? {} : { baseline }) };
  const units = (): AsyncIterable<TextUnit> =>
    mode === 'working-tree'
      ? workingTreeUnits(root, tree, stats)
      : mode === 'git-history'
        ? gitHistoryUnits(root, { maxUnitBytes: maxFileBytes, decoding: ruleSet.textDecoding }, stats)
        : stagedUnits(root, { maxUnitBytes: maxFileBytes, decoding: ruleSet.textDecoding }, stats);
  const started = performance.now();
  let findings =
    threads > 1 ? await scanTreeInParallel(root, tree, { ...judging, threads, ...(ruleFile === undefined ? {} : { ruleFile }) }, stats) : await scanUnits(units(), { ruleSet, ...judging });
  const durationMs = performance.now() - started;

  if (values['write-baseline'] !== undefined) {
    const terms = { reason: values.reason ?? 'accepted when the baseline was written', owner: values.owner ?? 'unassigned', expires };
    await writeFile(values['write-baseline'], `${JSON.stringify(writeBaselineFile(findings, terms, baseline), null, 2)}\n`);
    findings = acceptIntoBaseline(findings, terms);
    io.stderr(`holdfast scan: wrote ${values['write-baseline']}; its findings are accepted until ${expires}.\n`);
  }

  const report: SecretScanReport = { mode, root, failOn, findings, stats, durationMs };
  if (values.sarif !== undefined) await writeFile(values.sarif, renderSarif(report, ruleSet, packageVersion()));
  io.stdout(format === 'json' ? renderJson(report) : format === 'sarif' ? renderSarif(report, ruleSet, packageVersion()) : renderTable(report));
  const blocking = blockingFindings(report);
  if (blocking.length === 0) return EXIT_OK;
  if (mode === 'staged') io.stderr(`holdfast: commit refused: the staged changes add ${blocking.length} secret(s). Remove them (and rotate them if they were real), or accept one with a holdfast:allow-secret marker.\n`);
  return EXIT_PROBLEMS_FOUND;
}

/** `holdfast scan …`: the configuration guard's scanners (secrets here; deps, image, dockerfile and manifests each in its own scan-*-command.ts). */
export async function runScanCommand(argv: string[], io: ScanCommandIo = processIo): Promise<number> {
  const [scanner, ...rest] = argv;
  try {
    switch (scanner) {
      case 'secrets':
        return await runSecrets(rest, io);
      case 'install-hook':
        return await runInstallHook(rest, io);
      case 'deps':
        return await (await import('./scan-deps-command.js')).runScanDepsCommand(rest, io);
      case 'image':
        return await (await import('./scan-image-command.js')).runScanImageCommand(rest, io);
      case 'dockerfile':
        return await (await import('./scan-dockerfile-command.js')).runScanDockerfileCommand(rest, io);
      case 'manifests':
        return await (await import('./scan-manifests-command.js')).runScanManifestsCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return scanner === undefined ? EXIT_USAGE : EXIT_OK;
      default:
        throw new UsageError(`unknown scanner "${scanner}"; the scanners are: secrets, deps, image, dockerfile, manifests, install-hook.`);
    }
  } catch (error) {
    const parseError = error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    if (error instanceof UsageError || parseError) {
      io.stderr(`holdfast scan: ${error.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ForeignHookError) {
      io.stderr(`holdfast scan: ${error.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`holdfast scan: ${error instanceof GitError ? error.message : ((error as Error).stack ?? String(error))}\n`);
    return EXIT_FAILURE;
  }
}
