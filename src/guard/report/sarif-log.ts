import { pathToFileURL } from 'node:url';
import type { Severity } from '../severity.js';

/**
 * The SARIF 2.1.0 envelope every scanner writes (OASIS,
 * https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html): one run, the tool's rules,
 * results whose locations are relative to SRCROOT (the scanned root, §3.14.14), and partial
 * fingerprints (§3.27.17) so code-scanning UIs recognise a result across runs. Each scanner
 * builds its own rules and results; this module owns the shape they share.
 */
export const SARIF_LEVEL: Readonly<Record<Severity, string>> = { critical: 'error', high: 'error', medium: 'warning', low: 'note' };
/** GitHub code scanning reads `security-severity` (0–10) to rank security results. */
export const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };

export interface SarifRuleDescription {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly help: string;
  readonly severity: Severity;
  readonly tags: readonly string[];
  /** Overrides the severity's default `security-severity` (e.g. a CVSS base score). */
  readonly securitySeverity?: string;
  readonly helpUri?: string;
}

/** `kebab-case-id` → `KebabCaseId`, SARIF's `name` (§3.49.7) for ids that are not identifiers. */
export function sarifRuleName(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

export function sarifRule(rule: SarifRuleDescription) {
  return {
    id: rule.id,
    name: sarifRuleName(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.description },
    help: { text: rule.help },
    ...(rule.helpUri === undefined ? {} : { helpUri: rule.helpUri }),
    defaultConfiguration: { level: SARIF_LEVEL[rule.severity] },
    properties: { tags: ['security', ...rule.tags], precision: 'high', 'security-severity': rule.securitySeverity ?? SECURITY_SEVERITY[rule.severity] },
  };
}

/** A relative path with `/` as a URI reference: each segment percent-encoded. */
export function sarifUri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function sarifPhysicalLocation(path: string, line: number, column?: number) {
  return {
    physicalLocation: {
      artifactLocation: { uri: sarifUri(path), uriBaseId: 'SRCROOT' },
      region: column === undefined ? { startLine: line } : { startLine: line, startColumn: column },
    },
  };
}

export interface SarifRunDescription {
  readonly toolName: string;
  readonly toolVersion: string;
  readonly informationUri?: string;
  /** Absolute path of the scanned root; result locations are relative to it. */
  readonly root: string;
  /** `automationDetails.id` (§3.17.4): "category/run" — a trailing `/` leaves the run unnamed. */
  readonly automationId: string;
  readonly rules: readonly unknown[];
  readonly results: readonly unknown[];
  readonly properties?: Readonly<Record<string, unknown>>;
}

export function renderSarifLog(run: SarifRunDescription): string {
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: run.toolName,
            semanticVersion: run.toolVersion,
            ...(run.informationUri === undefined ? {} : { informationUri: run.informationUri }),
            rules: run.rules,
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: `${pathToFileURL(run.root).href.replace(/\/?$/, '/')}` } },
        automationDetails: { id: run.automationId },
        results: run.results,
        ...(run.properties === undefined ? {} : { properties: run.properties }),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
