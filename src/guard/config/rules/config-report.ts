import { describePolicy } from '../../policy-reference.js';
import { renderSarifLog, SARIF_LEVEL, sarifRule, sarifUri } from '../../report/sarif-log.js';
import { textTable } from '../../report/text-table.js';
import { severityRank, type Severity } from '../../severity.js';
import type { ConfigFinding } from './config-finding.js';
import { CONFIG_RULES } from './config-rules.js';
import { isOpen } from './config-suppressions.js';

/** What `holdfast config check` reports: findings, which of them block (at or above --fail-on), and what was checked. */
export interface ConfigCheckReport {
  readonly root: string;
  readonly failOn: Severity;
  readonly items: number;
  readonly inputs: readonly { readonly kind: string; readonly location: string }[];
  readonly findings: readonly ConfigFinding[];
}

export function blockingConfigFindings(report: ConfigCheckReport): ConfigFinding[] {
  return report.findings.filter((finding) => isOpen(finding) && severityRank(finding.severity) >= severityRank(report.failOn));
}

export function summarizeConfigCheck(report: ConfigCheckReport) {
  const open = report.findings.filter(isOpen);
  const bySeverity: Record<string, number> = {};
  for (const finding of open) bySeverity[finding.severity] = (bySeverity[finding.severity] ?? 0) + 1;
  return { items: report.items, findings: open.length, blocking: blockingConfigFindings(report).length, suppressed: report.findings.length - open.length, expiredSuppressions: open.filter((finding) => finding.suppression?.status === 'expired').length, bySeverity };
}

export function renderConfigCheckJson(report: ConfigCheckReport): string {
  return `${JSON.stringify({ tool: 'holdfast config check', failOn: report.failOn, summary: summarizeConfigCheck(report), inputs: report.inputs, findings: report.findings }, null, 2)}\n`;
}

export function renderConfigCheckTable(report: ConfigCheckReport): string {
  const out: string[] = [];
  const open = report.findings.filter(isOpen);
  if (open.length > 0) {
    out.push(textTable([['SEVERITY', 'RULE', 'RESOURCE', 'EVIDENCE'], ...open.map((finding) => [finding.severity, finding.ruleId, `${finding.component} ${finding.resourceId}`, finding.evidence])]));
    out.push('', 'How to fix:');
    for (const id of new Set(open.map((finding) => finding.ruleId))) out.push(`  ${id}: ${open.find((finding) => finding.ruleId === id)!.fix}`);
    out.push('', 'Policy:');
    const policies = new Map<string, Set<string>>();
    for (const finding of open) policies.set(describePolicy(finding.policy), (policies.get(describePolicy(finding.policy)) ?? new Set()).add(finding.ruleId));
    for (const [policy, ids] of policies) out.push(`  ${policy} — ${[...ids].join(', ')}`);
    const expired = open.filter((finding) => finding.suppression?.status === 'expired');
    if (expired.length > 0) {
      out.push('', 'Expired suppressions (the findings are open again):');
      for (const finding of expired) out.push(`  ${finding.ruleId} ${finding.resourceId}: expired ${finding.suppression!.expires} (owner ${finding.suppression!.owner}; reason: ${finding.suppression!.reason})`);
    }
  }
  const suppressed = report.findings.filter((finding) => !isOpen(finding));
  if (suppressed.length > 0) {
    if (out.length > 0) out.push('');
    out.push('Suppressed:');
    for (const finding of suppressed) out.push(`  ${finding.ruleId} ${finding.resourceId} until ${finding.suppression!.expires} (owner ${finding.suppression!.owner}; reason: ${finding.suppression!.reason})`);
  }
  const summary = summarizeConfigCheck(report);
  const severities = Object.entries(summary.bySeverity).map(([severity, count]) => `${count} ${severity}`).join(', ');
  if (out.length > 0) out.push('');
  out.push(`${summary.findings} finding(s)${severities === '' ? '' : ` (${severities})`}, ${summary.blocking} at or above ${report.failOn}, ${summary.suppressed} suppressed; ${report.items} item(s) from ${report.inputs.length} input(s)`);
  return `${out.join('\n')}\n`;
}

export const CONFIG_FINGERPRINT_KEY = 'holdfastConfigFingerprint/v1';

/** SARIF 2.1.0: file inputs as physical locations, the resource as a logical location; suppressed findings carry `suppressions` (§3.27.23). */
export function renderConfigCheckSarif(report: ConfigCheckReport, toolVersion: string): string {
  const index = new Map(CONFIG_RULES.map((entry, position) => [entry.id, position]));
  const results = report.findings.map((finding) => {
    const isFile = !/^[a-z]+:\/\//.test(finding.source);
    return {
      ruleId: finding.ruleId,
      ruleIndex: index.get(finding.ruleId)!,
      level: SARIF_LEVEL[finding.severity],
      message: { text: `${finding.title}: ${finding.evidence}. ${finding.fix} Serves ${describePolicy(finding.policy)}` },
      locations: [{ ...(isFile ? { physicalLocation: { artifactLocation: { uri: sarifUri(finding.source), uriBaseId: 'SRCROOT' } } } : {}), logicalLocations: [{ fullyQualifiedName: `${finding.component}/${finding.resourceId}`, kind: 'resource' }] }],
      partialFingerprints: { [CONFIG_FINGERPRINT_KEY]: finding.fingerprint },
      ...(finding.suppression?.status === 'active' ? { suppressions: [{ kind: 'external', status: 'accepted', justification: `${finding.suppression.reason} (owner ${finding.suppression.owner}, until ${finding.suppression.expires})` }] } : {}),
      properties: { severity: finding.severity, policy: describePolicy(finding.policy), component: finding.component, resourceId: finding.resourceId },
    };
  });
  return renderSarifLog({
    toolName: 'holdfast-config-check',
    toolVersion,
    root: report.root,
    automationId: 'holdfast-config-check/',
    rules: CONFIG_RULES.map((entry) => sarifRule({ id: entry.id, title: entry.title, description: `${entry.title}. Serves ${describePolicy(entry.policy)}`, help: entry.fix, severity: entry.severity, tags: ['configuration', entry.component] })),
    results,
  });
}
