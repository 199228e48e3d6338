import { describePolicy, isSuppressed, type SecretFinding } from './secret-finding.js';
import { textTable as table } from '../report/text-table.js';
import { severityRank, type Severity } from '../severity.js';
import type { SourceStats } from './text-unit.js';

export type ScanMode = 'working-tree' | 'git-history' | 'staged';

/** Everything a scan produced; rendered as a table, JSON or SARIF. Holds no secret. */
export interface SecretScanReport {
  readonly mode: ScanMode;
  /** Absolute path of the scanned tree or repository. */
  readonly root: string;
  readonly failOn: Severity;
  readonly findings: readonly SecretFinding[];
  readonly stats: SourceStats;
  readonly durationMs: number;
}

/** The findings that decide the exit code: not suppressed, at or above the --fail-on severity. */
export function blockingFindings(report: SecretScanReport): SecretFinding[] {
  return report.findings.filter((finding) => !isSuppressed(finding) && severityRank(finding.severity) >= severityRank(report.failOn));
}

export function summarize(report: SecretScanReport) {
  const open = report.findings.filter((finding) => !isSuppressed(finding));
  const bySeverity: Record<string, number> = {};
  for (const finding of open) bySeverity[finding.severity] = (bySeverity[finding.severity] ?? 0) + 1;
  return {
    findings: open.length,
    suppressed: report.findings.length - open.length,
    blocking: blockingFindings(report).length,
    bySeverity,
    scanned: { units: report.stats.units, bytes: report.stats.bytes },
    skipped: {
      binary: report.stats.skippedBinary,
      overSizeCap: report.stats.skippedLarge,
      unreadable: report.stats.skippedUnreadable,
      directories: report.stats.skippedDirectories,
    },
    durationMs: Math.round(report.durationMs),
  };
}

export function renderJson(report: SecretScanReport): string {
  return `${JSON.stringify({ tool: 'holdfast scan secrets', mode: report.mode, root: report.root, failOn: report.failOn, summary: summarize(report), findings: report.findings }, null, 2)}\n`;
}

function locationText(finding: SecretFinding): string {
  return `${finding.location.path}:${finding.location.line}:${finding.location.column}`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A table for people: one row per finding, then how to fix each rule that fired. */
export function renderTable(report: SecretScanReport): string {
  const out: string[] = [];
  const history = report.mode === 'git-history';
  const ordered = [...report.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  if (ordered.length > 0) {
    const header = ['SEVERITY', 'RULE', 'LOCATION', ...(history ? ['COMMIT', 'AUTHOR', 'DATE'] : []), 'SECRET', 'FINGERPRINT', 'STATUS'];
    const rows = ordered.map((finding) => [
      finding.severity,
      finding.ruleId,
      locationText(finding),
      ...(history ? [finding.location.commit?.slice(0, 12) ?? '', finding.location.author ?? '', finding.location.date ?? ''] : []),
      finding.redacted + (finding.encoding === 'plain' ? '' : ` (${finding.encoding})`),
      finding.fingerprint.slice(0, 12),
      isSuppressed(finding) ? `suppressed (${finding.suppression!.kind}, until ${finding.suppression!.expires})` : 'open',
    ]);
    out.push(table([header, ...rows]));
    const notes = ordered.filter((finding) => finding.note !== undefined);
    if (notes.length > 0) {
      out.push('', 'Notes:');
      for (const finding of notes) out.push(`  ${locationText(finding)} ${finding.ruleId}: ${finding.note}`);
    }
    out.push('', 'How to fix:');
    const seen = new Set<string>();
    for (const finding of ordered) {
      if (seen.has(finding.ruleId) || isSuppressed(finding)) continue;
      seen.add(finding.ruleId);
      out.push(`  ${finding.ruleId}: ${finding.fix}`);
    }
    out.push('', `Policy: ${describePolicy(ordered[0]!.policy)}`, '');
  }
  const summary = summarize(report);
  const severities = Object.entries(summary.bySeverity).map(([severity, count]) => `${count} ${severity}`).join(', ');
  const skipped = [
    summary.skipped.binary > 0 ? `${summary.skipped.binary} binary` : '',
    summary.skipped.overSizeCap > 0 ? `${summary.skipped.overSizeCap} over the size cap` : '',
    summary.skipped.unreadable > 0 ? `${summary.skipped.unreadable} unreadable` : '',
    summary.skipped.directories.length > 0 ? `directories ${summary.skipped.directories.slice(0, 5).join(', ')}${summary.skipped.directories.length > 5 ? ', …' : ''} (--all-files scans them)` : '',
  ].filter((part) => part !== '');
  const unit = report.mode === 'working-tree' ? 'files' : 'changed files';
  out.push(
    `${summary.findings} open finding(s)${severities === '' ? '' : ` (${severities})`}, ${summary.suppressed} suppressed, ${summary.blocking} at or above ${report.failOn}; ` +
      `scanned ${summary.scanned.units} ${unit} (${formatBytes(summary.scanned.bytes)}) in ${(summary.durationMs / 1000).toFixed(2)} s` +
      (skipped.length === 0 ? '' : `; skipped ${skipped.join(', ')}`),
  );
  return `${out.join('\n')}\n`;
}
