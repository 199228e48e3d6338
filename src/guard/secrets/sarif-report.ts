import { renderSarifLog, SARIF_LEVEL, sarifPhysicalLocation, sarifRule } from '../report/sarif-log.js';
import { describePolicy, isSuppressed, type SecretFinding } from './secret-finding.js';
import type { SecretScanReport } from './secret-report.js';
import type { SecretRule, SecretRuleSet } from './secret-rules.js';

/**
 * SARIF 2.1.0 (OASIS, https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html) for code
 * scanning UIs. Rule ids are the rule file's ids; `partialFingerprints` carries the secret's
 * fingerprint so a UI recognises the same secret across runs and moves (§3.27.17); suppressed
 * findings stay in the log with a `suppressions` entry (§3.35) rather than vanishing.
 */
export const FINGERPRINT_KEY = 'holdfastSecretFingerprint/v1';

function describeRule(rule: SecretRule) {
  return sarifRule({
    id: rule.id,
    title: rule.title,
    description: `${rule.title}. Secrets do not belong in source code or its history.`,
    help: rule.fix,
    severity: rule.severity,
    tags: ['secret', ...rule.tags],
  });
}

function result(finding: SecretFinding, ruleIndex: number) {
  const suppression = finding.suppression;
  return {
    ruleId: finding.ruleId,
    ruleIndex,
    level: SARIF_LEVEL[finding.severity],
    message: {
      text:
        `${finding.title}: ${finding.redacted} (fingerprint ${finding.fingerprint}${finding.encoding === 'plain' ? '' : `, ${finding.encoding}`}). ` +
        `${finding.fix} Serves ${describePolicy(finding.policy)}${finding.note === undefined ? '' : ` Note: ${finding.note}.`}`,
    },
    locations: [sarifPhysicalLocation(finding.location.path, finding.location.line, finding.location.column)],
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
  return renderSarifLog({
    toolName: 'holdfast-secret-scan',
    toolVersion,
    root: report.root,
    automationId: `holdfast-secret-scan/${report.mode}/`,
    rules: ruleSet.rules.map(describeRule),
    results: report.findings.map((finding) => result(finding, index.get(finding.ruleId) ?? -1)),
  });
}
