import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SecretRuleSet } from '../../secrets/secret-rules.js';
import type { BaselineFinding } from '../baseline-finding.js';
import { BASELINE_LISTS } from '../baseline-lists.js';
import type { BaselineProblem } from '../baseline-report.js';
import type { ContainerCheckContext } from './container-checks.js';
import { checkComposeFile, isComposeFile } from './compose-checks.js';
import { checkKubernetesObject, isKubernetesObject } from './kubernetes-checks.js';
import { findManifestFiles, readManifestDocuments, relativeName } from './manifest-documents.js';

export interface ManifestScanResult {
  readonly root: string;
  readonly findings: BaselineFinding[];
  readonly problems: BaselineProblem[];
  readonly facts: Record<string, unknown>;
  readonly filesScanned: number;
}

/** Every YAML file under `path` (or the file itself): Kubernetes objects and compose files are checked, other YAML is skipped. */
export function scanDeploymentManifests(path: string, ruleSet: SecretRuleSet): ManifestScanResult {
  const absolute = resolve(path);
  const root = statSync(absolute).isDirectory() ? absolute : dirname(absolute);
  const context: ContainerCheckContext = { ruleSet, lists: BASELINE_LISTS, findings: [] };
  const problems: BaselineProblem[] = [];
  const files = findManifestFiles(absolute);
  let kubernetesObjects = 0;
  let workloads = 0;
  let composeServices = 0;
  let otherDocuments = 0;
  for (const file of files) {
    for (const document of readManifestDocuments(file, relativeName(root, file), problems)) {
      if (isKubernetesObject(document.value)) {
        kubernetesObjects++;
        workloads += checkKubernetesObject(document, context);
      } else if (isComposeFile(document.value)) composeServices += checkComposeFile(document, context);
      else otherDocuments++;
    }
  }
  return { root, findings: context.findings, problems, facts: { yamlFiles: files.length, kubernetesObjects, workloads, composeServices, otherDocuments }, filesScanned: files.length };
}
