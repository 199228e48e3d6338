import { describePolicy } from '../policy-reference.js';
import { renderSarifLog, SARIF_LEVEL, sarifPhysicalLocation, sarifRule } from '../report/sarif-log.js';
import { textTable } from '../report/text-table.js';
import { severityRank, type Severity } from '../severity.js';
import { DEPENDENCIES_SCANNED, type DependencyFinding } from './dependency-finding.js';
import type { DatabaseAge, ScanWarning } from './dependency-scan.js';
import type { ManifestProblem } from './manifests/find-manifests.js';
import type { ManifestKind } from './manifests/package-manifest.js';
import { describeSeverity } from './vulnerability-severity.js';

/** Everything `scan deps` produced; rendered as a table, JSON or SARIF. */
export interface DependencyScanReport {
  readonly root: string;
  readonly database: string;
  readonly failOn: Severity;
  readonly manifests: ReadonlyArray<{ readonly path: string; readonly kind: ManifestKind; readonly packages: number }>;
  readonly problems: readonly ManifestProblem[];
  readonly findings: readonly DependencyFinding[];
  readonly warnings: readonly ScanWarning[];
  readonly databaseAges: readonly DatabaseAge[];
  readonly packagesChecked: number;
  readonly durationMs: number;
}

export function blockingDependencyFindings(report: DependencyScanReport): DependencyFinding[] {
  return report.findings.filter((finding) => severityRank(finding.severity) >= severityRank(report.failOn));
}

function ordered(findings: readonly DependencyFinding[]): DependencyFinding[] {
  return [...findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.file.localeCompare(b.file) || a.package.localeCompare(b.package) || a.vulnerabilityId.localeCompare(b.vulnerabilityId));
}

export function summarizeDependencies(report: DependencyScanReport) {
  const bySeverity: Record<string, number> = {};
  for (const finding of report.findings) bySeverity[finding.severity] = (bySeverity[finding.severity] ?? 0) + 1;
  return {
    findings: report.findings.length,
    blocking: blockingDependencyFindings(report).length,
    bySeverity,
    manifests: report.manifests.length,
    packages: report.manifests.reduce((sum, manifest) => sum + manifest.packages, 0),
    packagesChecked: report.packagesChecked,
    unreadable: report.problems.length,
    warnings: report.warnings.length,
    durationMs: Math.round(report.durationMs),
  };
}

export function renderDependencyJson(report: DependencyScanReport): string {
  return `${JSON.stringify(
    {
      tool: 'holdfast scan deps',
      root: report.root,
      failOn: report.failOn,
      policy: DEPENDENCIES_SCANNED,
      database: { path: report.database, ecosystems: report.databaseAges },
      summary: summarizeDependencies(report),
      warnings: report.warnings,
      problems: report.problems,
      manifests: report.manifests,
      findings: ordered(report.findings),
    },
    null,
    2,
  )}\n`;
}

function cveOf(finding: DependencyFinding): string {
  return finding.aliases.filter((alias) => alias.startsWith('CVE-')).join(' ');
}

/** A table for people: one row per finding, then the fixes per package, warnings and the policy. */
export function renderDependencyTable(report: DependencyScanReport): string {
  const out: string[] = [];
  const findings = ordered(report.findings);
  if (findings.length > 0) {
    const rows = findings.map((finding) => [
      finding.severity,
      finding.vulnerabilityId,
      cveOf(finding),
      finding.package + (finding.dev === true ? ' (dev)' : ''),
      finding.version,
      finding.fixedVersion ?? (finding.lastAffected === undefined ? 'none' : `> ${finding.lastAffected}`),
      `${finding.file}:${finding.line}`,
      describeSeverity(finding.severityDetail),
    ]);
    out.push(textTable([['SEVERITY', 'VULNERABILITY', 'ALIASES', 'PACKAGE', 'INSTALLED', 'FIXED IN', 'FILE', 'SCORE'], ...rows]));
    out.push('', 'How to fix:');
    const fixes = new Map<string, string[]>();
    for (const finding of findings) {
      const key = `${finding.file}: ${finding.fix}`;
      fixes.set(key, [...(fixes.get(key) ?? []), finding.vulnerabilityId]);
    }
    for (const [fix, ids] of fixes) out.push(`  ${fix} — ${ids.join(', ')}`);
    out.push('', `Policy: ${describePolicy(DEPENDENCIES_SCANNED)}`);
  }
  if (report.warnings.length > 0 || report.problems.length > 0) {
    out.push('', 'Warnings:');
    for (const warning of report.warnings) out.push(`  ${warning.message}`);
    for (const problem of report.problems) out.push(`  ${problem.path} was not read: ${problem.message}`);
  }
  const summary = summarizeDependencies(report);
  const severities = Object.entries(summary.bySeverity).map(([severity, count]) => `${count} ${severity}`).join(', ');
  const ages = report.databaseAges.map((age) => `${age.ecosystem} ${age.ageDays} d`).join(', ');
  if (out.length > 0) out.push('');
  out.push(
    `${summary.findings} vulnerable finding(s)${severities === '' ? '' : ` (${severities})`}, ${summary.blocking} at or above ${report.failOn}; ` +
      `checked ${summary.packagesChecked} of ${summary.packages} packages in ${summary.manifests} file(s) in ${(report.durationMs / 1000).toFixed(2)} s` +
      (ages === '' ? '' : `; advisory data age: ${ages}`),
  );
  return `${out.join('\n')}\n`;
}

export const DEPENDENCY_FINGERPRINT_KEY = 'holdfastDependencyFingerprint/v1';

/**
 * SARIF 2.1.0: one rule per vulnerability (its OSV id, as code-scanning UIs expect from
 * dependency scanners), one result per vulnerable package in a manifest, located at the
 * manifest line, fingerprinted by vulnerability, ecosystem, package and file so upgrading to a
 * still-affected version keeps the same alert.
 */
export function renderDependencySarif(report: DependencyScanReport, toolVersion: string): string {
  const findings = ordered(report.findings);
  const rules = new Map<string, { index: number; rule: unknown }>();
  for (const finding of findings) {
    if (rules.has(finding.vulnerabilityId)) continue;
    const score = finding.severityDetail.cvss?.score;
    rules.set(finding.vulnerabilityId, {
      index: rules.size,
      rule: sarifRule({
        id: finding.vulnerabilityId,
        title: finding.summary ?? `${finding.vulnerabilityId} in ${finding.package}`,
        description: `${finding.summary ?? finding.vulnerabilityId}${finding.aliases.length === 0 ? '' : ` (${finding.aliases.join(', ')})`}. Serves ${describePolicy(DEPENDENCIES_SCANNED)}`,
        help: finding.fix,
        severity: finding.severity,
        tags: ['dependency', 'vulnerability', ...finding.aliases],
        ...(score === undefined ? {} : { securitySeverity: score.toFixed(1) }),
        ...(finding.advisoryUrl === undefined ? {} : { helpUri: finding.advisoryUrl }),
      }),
    });
  }
  const results = findings.map((finding) => ({
    ruleId: finding.vulnerabilityId,
    ruleIndex: rules.get(finding.vulnerabilityId)!.index,
    level: SARIF_LEVEL[finding.severity],
    message: { text: `${finding.package} ${finding.version} (${finding.ecosystem}) is affected by ${[finding.vulnerabilityId, ...finding.aliases].join(', ')}: ${finding.fix}. Serves ${describePolicy(finding.policy)}` },
    locations: [sarifPhysicalLocation(finding.file, finding.line)],
    partialFingerprints: { [DEPENDENCY_FINGERPRINT_KEY]: finding.fingerprint },
    properties: {
      severity: finding.severity,
      ecosystem: finding.ecosystem,
      package: finding.package,
      version: finding.version,
      ...(finding.fixedVersion === undefined ? {} : { fixedVersion: finding.fixedVersion }),
      aliases: finding.aliases,
      paths: finding.paths,
      policy: describePolicy(finding.policy),
      ...(finding.severityDetail.cvss === undefined ? {} : { cvss: finding.severityDetail.cvss }),
    },
  }));
  return renderSarifLog({
    toolName: 'holdfast-dependency-scan',
    toolVersion,
    root: report.root,
    automationId: 'holdfast-dependency-scan/',
    rules: [...rules.values()].map((entry) => entry.rule),
    results,
    properties: { warnings: report.warnings.map((warning) => warning.message), databaseAges: report.databaseAges },
  });
}
