import { pathToFileURL } from 'node:url';
import { describePolicy, isSuppressed, type SecretFinding } from './secret-finding.js';
import type { SecretScanReport } from './secret-report.js';
import type { SecretRule, SecretRuleSet, Severity } from './secret-rules.js';

/**
 * SARIF 2.1.0 (OASIS, https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html) for code
 * scanning UIs. Rule ids are the rule file's ids; `partialFingerprints` carries the secret's
 * fingerprint so a UI recognises the same secret across runs and moves (§3.27.17); suppressed
 * findings stay in the log with a `suppressions` entry (§3.35) rather than vanishing.
 */
const LEVEL: Readonly<Record<Severity, string>> = { critical: 'error', high: 'error', medium: 'warning', low: 'note' };
/** GitHub code scanning reads `security-severity` (0–10) to rank security results. */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };
export const FINGERPRINT_KEY = 'holdfastSecretFingerprint/v1';

function ruleName(id: string): string {
  return id.split('-').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
}

function describeRule(rule: SecretRule) {
  return {
    id: rule.id,
    name: ruleName(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: `${rule.title}. Secrets do not belong in source code or its history.` },
    help: { text: rule.fix },
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: { tags: ['security', 'secret', ...rule.tags], precision: 'high', 'security-severity': SECURITY_SEVERITY[rule.severity] },
  };
}

function uriOf(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function result(finding: SecretFinding, ruleIndex: number) {
  const suppression = finding.suppression;
  return {
    ruleId: finding.ruleId,
    ruleIndex,
    level: LEVEL[finding.severity],
    message: {
      text:
        `${finding.title}: ${finding.redacted} (fingerprint ${finding.fingerprint}${finding.encoding === 'plain' ? '' : `, ${finding.encoding}`}). ` +
        `${finding.fix} Serves ${describePolicy(finding.policy)}${finding.note === undefined ? '' : ` Note: ${finding.note}.`}`,
    },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: uriOf(finding.location.path), uriBaseId: 'SRCROOT' },
          region: { startLine: finding.location.line, startColumn: finding.location.column },
        },
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: finding.fingerprint },
    properties: {
      severity: finding.severity,
      encoding: finding.encoding,
      policy: describePolicy(finding.policy),
      ...(finding.location.commit === undefined ? {} : { commit: finding.location.commit, author: finding.location.author, date: finding.location.date }),
      ...(finding.note === undefined ? {} : { note: finding.note }),
    },
    ...(suppression !== undefined && isSuppressed(finding)
      ? {
          suppressions: [
            {
              kind: suppression.kind === 'inline' ? 'inSource' : 'external',
              status: 'accepted',
              justification: `${suppression.reason} (owner ${suppression.owner}, expires ${suppression.expires})`,
            },
          ],
        }
      : {}),
  };
}

export function renderSarif(report: SecretScanReport, ruleSet: SecretRuleSet, toolVersion: string): string {
  const index = new Map(ruleSet.rules.map((rule, position) => [rule.id, position]));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'holdfast-secret-scan',
            semanticVersion: toolVersion,
            rules: ruleSet.rules.map(describeRule),
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: `${pathToFileURL(report.root).href.replace(/\/?$/, '/')}` } },
        automationDetails: { id: `holdfast-secret-scan/${report.mode}/` },
        results: report.findings.map((finding) => result(finding, index.get(finding.ruleId) ?? -1)),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
