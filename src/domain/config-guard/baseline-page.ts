import type { AttributeValue, ConfigComponent, ConfigItem } from '../../guard/config/config-item.js';
import { CONFIG_COMPONENTS } from '../../guard/config/config-item.js';
import { canonicalJson, compareText } from './config-diff.js';
import type { Baseline } from './config-guard-records.js';

/**
 * The "Baseline Configuration Settings" document the Configuration Management Policy refers to
 * (§5: "Baseline configuration settings for the application are documented in Baseline
 * Configuration Settings"), generated from an approved baseline so the document and the checked
 * state cannot disagree. The component table is the policy's §4.2 table.
 */

interface ComponentPolicy {
  readonly title: string;
  readonly method: string;
  readonly driftRisk: string;
}

/** §4.2 "Infrastructure Configuration", plus the components the collectors add. */
export const COMPONENT_POLICY: Readonly<Record<ConfigComponent, ComponentPolicy>> = {
  container: { title: 'Compute (containers)', method: 'Immutable container images', driftRisk: 'None — containers are replaced, not modified' },
  network: { title: 'Networking', method: 'Security groups, NACLs', driftRisk: 'Reviewed quarterly' },
  dns: { title: 'DNS / Edge', method: 'DNS provider dashboard and zone files', driftRisk: 'Changes logged' },
  storage: { title: 'Storage (S3)', method: 'Bucket policies, versioning, Object Lock', driftRisk: 'Reviewed quarterly' },
  iam: { title: 'Storage access (IAM)', method: 'IAM policies', driftRisk: 'Reviewed quarterly' },
  environment: { title: 'Application configuration', method: 'Platform environment variables (fingerprints only)', driftRisk: 'Changes follow the Change Management Policy' },
  database: { title: 'Database', method: 'Managed PostgreSQL settings', driftRisk: 'Checked against the baseline' },
};

export type PageFormat = 'md' | 'html';

export function renderBaselinePage(baseline: Baseline, format: PageFormat): string {
  return format === 'md' ? markdown(baseline) : html(baseline);
}

/** Each attribute as one row: its JSON path under the item and its value as JSON. */
export function attributeRows(attributes: { readonly [key: string]: AttributeValue }, prefix = ''): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (const key of Object.keys(attributes).sort(compareText)) {
    const value = attributes[key]!;
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) rows.push(...attributeRows(value as { readonly [key: string]: AttributeValue }, path));
    else rows.push([path, canonicalJson(value)]);
  }
  return rows;
}

function grouped(baseline: Baseline): Array<[ConfigComponent, ConfigItem[]]> {
  return CONFIG_COMPONENTS.map((c) => [c, baseline.items.filter((i) => i.component === c).sort((a, b) => compareText(a.resourceId, b.resourceId))] as [ConfigComponent, ConfigItem[]]).filter(([, items]) => items.length > 0);
}

function approvalFacts(b: Baseline): Array<[string, string]> {
  return [
    ['Baseline', b.id],
    ['Status', b.status],
    ['Proposed by', `${b.proposedBy}, ${iso(b.proposedMs)}`],
    ['Approved by', b.decision === undefined ? '—' : `${b.decision.by}, ${iso(b.decision.atMs)}`],
    ...(b.decision?.comment === undefined ? [] : [['Approval comment', b.decision.comment] as [string, string]]),
    ['Origin', b.origin.kind === 'capture' ? 'captured collection' : `change request ${b.origin.changeId} applied by ${b.origin.appliedBy} to ${b.origin.basedOn}`],
    ['Collected at', b.collectedAt],
    ['Items', String(b.itemCount)],
    ['Digest (SHA-256)', b.digest],
    ['Evidence', b.evidence === undefined ? '—' : b.evidence.location],
  ];
}

function markdown(b: Baseline): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const out: string[] = ['# Baseline Configuration Settings', '', `Generated from approved baseline \`${b.id}\`. Do not edit by hand: change the configuration through a reviewed change request.`, ''];
  out.push('## Approval', '', '| | |', '|---|---|', ...approvalFacts(b).map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`), '');
  out.push('## Components', '', '| Component | Configuration method | Drift risk | Items |', '|---|---|---|---|');
  for (const c of CONFIG_COMPONENTS) {
    const p = COMPONENT_POLICY[c];
    out.push(`| ${p.title} | ${p.method} | ${p.driftRisk} | ${b.items.filter((i) => i.component === c).length} |`);
  }
  out.push('');
  for (const [component, items] of grouped(b)) {
    out.push(`## ${COMPONENT_POLICY[component].title}`, '', `Drift risk: ${COMPONENT_POLICY[component].driftRisk}.`, '');
    for (const item of items) {
      out.push(`### \`${cell(item.resourceId)}\``, '', `Kind: \`${cell(item.kind)}\`${item.source === '' ? '' : ` · source: \`${cell(item.source)}\``}`, '');
      const rows = attributeRows(item.attributes);
      if (rows.length === 0) out.push('_No attributes._', '');
      else out.push('| Setting | Value |', '|---|---|', ...rows.map(([k, v]) => `| \`${cell(k)}\` | \`${cell(v)}\` |`), '');
    }
  }
  return `${out.join('\n')}\n`;
}

function html(b: Baseline): string {
  const e = escapeHtml;
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Baseline Configuration Settings</title>',
    '<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}code{font-size:.9em}</style>',
    '</head><body>',
    '<h1>Baseline Configuration Settings</h1>',
    `<p>Generated from approved baseline <code>${e(b.id)}</code>. Do not edit by hand: change the configuration through a reviewed change request.</p>`,
    '<h2>Approval</h2><table>',
    ...approvalFacts(b).map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`),
    '</table><h2>Components</h2><table><tr><th>Component</th><th>Configuration method</th><th>Drift risk</th><th>Items</th></tr>',
    ...CONFIG_COMPONENTS.map((c) => `<tr><td>${e(COMPONENT_POLICY[c].title)}</td><td>${e(COMPONENT_POLICY[c].method)}</td><td>${e(COMPONENT_POLICY[c].driftRisk)}</td><td>${b.items.filter((i) => i.component === c).length}</td></tr>`),
    '</table>',
  ];
  for (const [component, items] of grouped(b)) {
    parts.push(`<h2>${e(COMPONENT_POLICY[component].title)}</h2><p>Drift risk: ${e(COMPONENT_POLICY[component].driftRisk)}.</p>`);
    for (const item of items) {
      parts.push(`<h3><code>${e(item.resourceId)}</code></h3><p>Kind: <code>${e(item.kind)}</code>${item.source === '' ? '' : ` · source: <code>${e(item.source)}</code>`}</p>`);
      const rows = attributeRows(item.attributes);
      parts.push(rows.length === 0 ? '<p><em>No attributes.</em></p>' : `<table><tr><th>Setting</th><th>Value</th></tr>${rows.map(([k, v]) => `<tr><td><code>${e(k)}</code></td><td><code>${e(v)}</code></td></tr>`).join('')}</table>`);
    }
  }
  parts.push('</body></html>');
  return `${parts.join('\n')}\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
