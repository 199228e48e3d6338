import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { scanDeploymentManifests } from '../guard/baseline/deploy-manifests/manifest-scan.js';
import { loadSecretRules } from '../guard/secrets/secret-rules.js';
import { BaselineUsageError, emitBaselineReport, OUTPUT_OPTIONS, OUTPUT_USAGE, outputChoice, processBaselineIo, runBaselineCommand, type BaselineScanIo } from './baseline-scan-cli.js';
import { EXIT_OK } from './exit-codes.js';

export const SCAN_MANIFESTS_USAGE = `Usage:
  holdfast scan manifests [PATH] [--format table|json|sarif] [--json] [--sarif FILE]
                          [--fail-on low|medium|high|critical] [--strict]

scan manifests checks Kubernetes YAML (multi-document; Pods, Deployments, StatefulSets,
DaemonSets, Jobs, CronJobs, Lists, Secrets) and compose files under PATH (default .) against the
Configuration Management Policy's baseline: privileged containers, privilege escalation, root,
writable root filesystems, host namespaces and hostPath, added capabilities, unpinned and
\`latest\` images, port 22, secrets and default credentials in environment values.

  --strict   exit 1 when a YAML file cannot be parsed (a Helm template, say); by default it is
             reported and skipped
${OUTPUT_USAGE}

Exit codes: 0 nothing at or above --fail-on, 1 failure, 2 usage error, 4 findings.
`;

export async function runScanManifestsCommand(args: string[], io: BaselineScanIo = processBaselineIo): Promise<number> {
  return runBaselineCommand('manifests', SCAN_MANIFESTS_USAGE, io, async () => {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { ...OUTPUT_OPTIONS, strict: { type: 'boolean' } } });
    if (values.help === true) {
      io.stdout(SCAN_MANIFESTS_USAGE);
      return EXIT_OK;
    }
    const output = outputChoice(values);
    if (positionals.length > 1) throw new BaselineUsageError(`scan manifests takes one PATH, not "${positionals.join(' ')}".`);
    const path = resolve(positionals[0] ?? '.');
    if (!existsSync(path)) throw new BaselineUsageError(`${path} does not exist; pass a YAML file or the directory that holds the manifests.`);
    const started = performance.now();
    const result = scanDeploymentManifests(path, loadSecretRules());
    if (result.filesScanned === 0) throw new BaselineUsageError(`found no .yaml or .yml file under ${path}; pass the manifests' directory or file.`);
    return emitBaselineReport({ scanner: 'manifests', root: result.root, target: path, failOn: output.failOn, findings: result.findings, problems: result.problems, facts: result.facts, filesScanned: result.filesScanned, durationMs: performance.now() - started }, output, io, values.strict === true);
  });
}
