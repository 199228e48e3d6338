import { describePolicy } from '../policy-reference.js';
import { renderSarifLog, SARIF_LEVEL, sarifPhysicalLocation, sarifRule, sarifUri } from '../report/sarif-log.js';
import { textTable } from '../report/text-table.js';
import { severityRank, type Severity } from '../severity.js';
import type { BaselineFinding } from './baseline-finding.js';
import { rulesFor, type BaselineScanner } from './baseline-rules.js';

/** A file that could not be read (or a layer that could not be decompressed), for the report. */
export interface BaselineProblem {
  readonly path: string;
  readonly message: string;
}

/** Everything one `scan image|dockerfile|manifests` run produced. */
export interface BaselineScanReport {
  readonly scanner: BaselineScanner;
  /** Absolute; SARIF locations are relative to it. */
  readonly root: string;
  /** What was scanned, as given. */
  readonly target: string;
  readonly failOn: Severity;
  readonly findings: readonly BaselineFinding[];
  readonly problems: readonly BaselineProblem[];
  /** What the scan learned, for people and the compliance view (base image, user, package count…). */
  readonly facts: Readonly<Record<string, unknown>>;
  readonly filesScanned: number;
  readonly durationMs: number;
}

export function blockingBaselineFindings(report: BaselineScanReport): BaselineFinding[] {
  return report.findings.filter((finding) => severityRank(finding.severity) >= severityRank(report.failOn));
}

function ordered(findings: readonly BaselineFinding[]): BaselineFinding[] {
  return [...findings].sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || a.location.path.localeCompare(b.location.path) || (a.location.line ?? 0) - (b.location.line ?? 0) || a.ruleId.localeCompare(b.ruleId) || a.evidence.localeCompare(b.evidence),
  );
}

function where(finding: BaselineFinding): string {
  const { path, line, within } = finding.location;
  return `${path}${line === undefined ? '' : `:${line}`}${within === undefined ? '' : ` ${within}`}`;
}

export function summarizeBaseline(report: BaselineScanReport) {
  const bySeverity: Record<string, number> = {};
  for (const finding of report.findings) bySeverity[finding.severity] = (bySeverity[finding.severity] ?? 0) + 1;
  return { findings: report.findings.length, blocking: blockingBaselineFindings(report).length, bySeverity, filesScanned: report.filesScanned, unreadable: report.problems.length, durationMs: Math.round(report.durationMs) };
}

export function renderBaselineJson(report: BaselineScanReport): string {
  return `${JSON.stringify({ tool: `holdfast scan ${report.scanner}`, target: report.target, root: report.root, failOn: report.failOn, summary: summarizeBaseline(report), facts: report.facts, problems: report.problems, findings: ordered(report.findings) }, null, 2)}\n`;
}

function describeFact(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ');
  if (value === undefined || value === null) return 'unknown';
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** Findings, then each rule's fix and policy sentence once, the facts, problems and a summary. */
export function renderBaselineTable(report: BaselineScanReport): string {
  const out: string[] = [];
  const findings = ordered(report.findings);
  if (findings.length > 0) {
    out.push(textTable([['SEVERITY', 'RULE', 'WHERE', 'EVIDENCE'], ...findings.map((finding) => [finding.severity, finding.ruleId, where(finding), finding.evidence])]));
    out.push('', 'How to fix:');
    const seen = new Set<string>();
    for (const finding of findings) {
      const key = `${finding.ruleId}\0${finding.fix}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(`  ${finding.ruleId}: ${finding.fix}`);
    }
    out.push('', 'Policy:');
    const policies = new Map<string, Set<string>>();
    for (const finding of findings) policies.set(describePolicy(finding.policy), (policies.get(describePolicy(finding.policy)) ?? new Set()).add(finding.ruleId));
    for (const [policy, ids] of policies) out.push(`  ${policy} — ${[...ids].join(', ')}`);
  }
  const facts = Object.entries(report.facts);
  if (facts.length > 0) {
    if (out.length > 0) out.push('');
    out.push(...facts.map(([key, value]) => `${key}: ${describeFact(value)}`));
  }
  if (report.problems.length > 0) {
    out.push('', 'Not read (the result is incomplete):');
    for (const problem of report.problems) out.push(`  ${problem.path}: ${problem.message}`);
  }
  const summary = summarizeBaseline(report);
  const severities = Object.entries(summary.bySeverity).map(([severity, count]) => `${count} ${severity}`).join(', ');
  if (out.length > 0) out.push('');
  out.push(`${summary.findings} finding(s)${severities === '' ? '' : ` (${severities})`}, ${summary.blocking} at or above ${report.failOn}; ${report.filesScanned} file(s) read in ${(report.durationMs / 1000).toFixed(2)} s`);
  return `${out.join('\n')}\n`;
}

export const BASELINE_FINGERPRINT_KEY = 'holdfastBaselineFingerprint/v1';

/**
 * SARIF 2.1.0: every rule of the scanner (stable ids, so code-scanning UIs keep their alerts),
 * one result per finding, at the file and line for Dockerfiles and manifests; for an image at the
 * image file, with the place inside the image as a logical location (§3.33).
 */
export function renderBaselineSarif(report: BaselineScanReport, toolVersion: string): string {
  const rules = rulesFor(report.scanner);
  const index = new Map(rules.map((entry, position) => [entry.id, position]));
  const results = ordered(report.findings).map((finding) => {
    const physical = finding.location.line === undefined ? { physicalLocation: { artifactLocation: { uri: sarifUri(finding.location.path), uriBaseId: 'SRCROOT' } } } : sarifPhysicalLocation(finding.location.path, finding.location.line);
    return {
      ruleId: finding.ruleId,
      ruleIndex: index.get(finding.ruleId)!,
      level: SARIF_LEVEL[finding.severity],
      message: { text: `${finding.title}: ${finding.evidence}. ${finding.fix} Serves ${describePolicy(finding.policy)}` },
      locations: [{ ...physical, ...(finding.location.within === undefined ? {} : { logicalLocations: [{ fullyQualifiedName: finding.location.within }] }) }],
      partialFingerprints: { [BASELINE_FINGERPRINT_KEY]: finding.fingerprint },
      properties: { severity: finding.severity, policy: describePolicy(finding.policy) },
    };
  });
  return renderSarifLog({
    toolName: `holdfast-${report.scanner}-scan`,
    toolVersion,
    root: report.root,
    automationId: `holdfast-${report.scanner}-scan/`,
    rules: rules.map((entry) =>
      sarifRule({ id: entry.id, title: entry.title, description: `${entry.title}. Serves ${describePolicy(entry.policy)}`, help: entry.fix, severity: entry.severity, tags: ['configuration', report.scanner] }),
    ),
    results,
    properties: { facts: report.facts, problems: report.problems },
  });
}
