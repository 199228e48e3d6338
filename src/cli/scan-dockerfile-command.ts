import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import type { BaselineFinding } from '../guard/baseline/baseline-finding.js';
import { checkDockerfile } from '../guard/baseline/dockerfile/dockerfile-checks.js';
import { loadSecretRules } from '../guard/secrets/secret-rules.js';
import { BaselineUsageError, emitBaselineReport, OUTPUT_OPTIONS, OUTPUT_USAGE, outputChoice, processBaselineIo, runBaselineCommand, type BaselineScanIo } from './baseline-scan-cli.js';
import { EXIT_OK } from './exit-codes.js';

export const SCAN_DOCKERFILE_USAGE = `Usage:
  holdfast scan dockerfile [PATH] [--build-arg NAME=VALUE]... [--format table|json|sarif] [--json]
                           [--sarif FILE] [--fail-on low|medium|high|critical]

scan dockerfile checks Dockerfiles against the Configuration Management Policy's baseline: base
images not pinned by digest or on \`latest\`, a final stage running as root, EXPOSE 22, ADD from
URLs, secrets and default credentials in ENV/ARG (and anywhere in the file), apt-get install
without --no-install-recommends, sudo, chmod 777. PATH (default .) is a Dockerfile or a
directory searched for Dockerfile, Dockerfile.*, *.Dockerfile and Containerfile.

  --build-arg NAME=VALUE   a value for an ARG, as docker build --build-arg gives it
${OUTPUT_USAGE}

Exit codes: 0 nothing at or above --fail-on, 1 failure, 2 usage error, 4 findings.
`;

const DOCKERFILE_NAME = /^(?:Dockerfile|Containerfile)(?:\..+)?$|\.(?:dockerfile|Dockerfile)$/;
const SKIPPED = new Set(['node_modules', '.git', 'vendor', 'dist']);

function findDockerfiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.isDirectory() && !SKIPPED.has(entry.name)) found.push(...findDockerfiles(join(dir, entry.name)));
    else if (entry.isFile() && DOCKERFILE_NAME.test(entry.name)) found.push(join(dir, entry.name));
  }
  return found;
}

export async function runScanDockerfileCommand(args: string[], io: BaselineScanIo = processBaselineIo): Promise<number> {
  return runBaselineCommand('dockerfile', SCAN_DOCKERFILE_USAGE, io, async () => {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { ...OUTPUT_OPTIONS, 'build-arg': { type: 'string', multiple: true } } });
    if (values.help === true) {
      io.stdout(SCAN_DOCKERFILE_USAGE);
      return EXIT_OK;
    }
    const output = outputChoice(values);
    const buildArgs = new Map<string, string>();
    for (const pair of values['build-arg'] ?? []) {
      const equals = pair.indexOf('=');
      if (equals <= 0) throw new BaselineUsageError(`--build-arg takes NAME=VALUE, not "${pair}".`);
      buildArgs.set(pair.slice(0, equals), pair.slice(equals + 1));
    }
    if (positionals.length > 1) throw new BaselineUsageError(`scan dockerfile takes one PATH, not "${positionals.join(' ')}".`);
    const path = resolve(positionals[0] ?? '.');
    if (!existsSync(path)) throw new BaselineUsageError(`${path} does not exist; pass a Dockerfile or the directory that holds it.`);
    const isDirectory = statSync(path).isDirectory();
    const root = isDirectory ? path : dirname(path);
    const files = isDirectory ? findDockerfiles(path) : [path];
    if (files.length === 0) throw new BaselineUsageError(`found no Dockerfile under ${path}; pass the file itself if it has another name (scan dockerfile build/app.docker).`);
    const started = performance.now();
    const ruleSet = loadSecretRules();
    const findings: BaselineFinding[] = [];
    const unresolved: string[] = [];
    const stages: string[] = [];
    for (const file of files) {
      const name = relative(root, file).split(sep).join('/');
      const result = checkDockerfile(readFileSync(file, 'utf8'), name, { ruleSet, buildArgs });
      findings.push(...result.findings);
      unresolved.push(...result.unresolved.map((line) => `${name}:${line}`));
      stages.push(...result.stages.map((stage) => `${name}:${stage.line} ${stage.image}${stage.name === undefined ? '' : ` AS ${stage.name}`}`));
    }
    const facts = { dockerfiles: files.length, stages, ...(unresolved.length === 0 ? {} : { baseNotJudged: unresolved.map((where) => `${where} (an ARG without a value; pass --build-arg)`) }) };
    return emitBaselineReport({ scanner: 'dockerfile', root, target: path, failOn: output.failOn, findings, problems: [], facts, filesScanned: files.length, durationMs: performance.now() - started }, output, io, false);
  });
}
