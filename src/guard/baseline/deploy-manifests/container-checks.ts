import type { SecretRuleSet } from '../../secrets/secret-rules.js';
import { NO_SSH_ACCESS, type BaselineFinding, type BaselineLocation } from '../baseline-finding.js';
import type { BaselineLists } from '../baseline-lists.js';
import { baselineFinding } from '../baseline-rules.js';
import { checkEnvironmentVariable, describeEnvironmentIssue } from '../environment-checks.js';
import { hasUnresolvedVariable, imagePinning, parseImageReference } from '../image-reference.js';

/** Checks a Kubernetes container and a compose service share: image, ports, environment. */
export interface ContainerCheckContext {
  readonly ruleSet: SecretRuleSet;
  readonly lists: BaselineLists;
  readonly findings: BaselineFinding[];
}

export function checkImageReference(image: unknown, location: BaselineLocation, context: ContainerCheckContext): void {
  if (typeof image !== 'string' || hasUnresolvedVariable(image)) return;
  const reference = parseImageReference(image);
  if (reference === undefined) return;
  const pinning = imagePinning(reference);
  if (pinning === 'latest') context.findings.push(baselineFinding('manifest-image-latest', { evidence: `image ${image}${reference.tag === undefined ? ' (no tag: latest)' : ''}`, location, subject: image }));
  else if (pinning === 'tag') context.findings.push(baselineFinding('manifest-image-unpinned', { evidence: `image ${image} has no @sha256: digest`, location, subject: image }));
}

export function checkPort(port: number, written: string, location: BaselineLocation, context: ContainerCheckContext): void {
  const admin = context.lists.adminPorts.get(port);
  if (admin === undefined) return;
  context.findings.push(baselineFinding('manifest-admin-port', { evidence: `port ${written} (${admin.service})`, location, subject: String(port), severity: admin.severity, ...(port === 22 ? { policy: NO_SSH_ACCESS } : {}) }));
}

export function checkVariable(name: string, value: string, location: BaselineLocation, context: ContainerCheckContext): void {
  const issue = checkEnvironmentVariable({ name, value }, context.ruleSet, context.lists);
  if (issue === undefined) return;
  const evidence = describeEnvironmentIssue(issue);
  if (issue.kind === 'default-credential') context.findings.push(baselineFinding('manifest-default-credential', { evidence, location, subject: name }));
  else if (issue.kind === 'secret') context.findings.push(baselineFinding('manifest-env-secret', { evidence, location, subject: issue.fingerprint, severity: issue.severity }));
  else context.findings.push(baselineFinding('manifest-env-secret-literal', { evidence, location, subject: `${name}\0${issue.fingerprint}` }));
}

export function dangerousCapabilities(values: unknown, lists: BaselineLists): string[] {
  if (!Array.isArray(values)) return [];
  return values.map((value) => String(value).toUpperCase().replace(/^CAP_/, '')).filter((capability) => lists.dangerousCapabilities.has(capability));
}
