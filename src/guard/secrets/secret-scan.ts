import type { Clock } from '../../infra/clock.js';
import { readableText } from './latin1-text.js';
import { redactSecret, secretFingerprint, type PolicyReference, type SecretFinding } from './secret-finding.js';
import type { SecretRuleSet } from './secret-rules.js';
import { scanText } from './secret-scanner.js';
import { baselineEntryFor, judgeSuppression, parseInlineMarker, type Baseline, type SuppressionTerms } from './suppressions.js';
import type { TextUnit } from './text-unit.js';

export interface SecretScanOptions {
  readonly ruleSet: SecretRuleSet;
  /** Decides whether suppressions have expired; injected so tests never depend on today. */
  readonly clock: Clock;
  readonly baseline?: Baseline;
  /** The policy sentence the findings serve (§4.1 for a tree, §4.3 for commits). */
  readonly policy: PolicyReference;
}

/** The inline marker on text line `index` (0-based) or on the line just above it in the file. */
function markerFor(lines: readonly string[], unit: TextUnit, index: number, ruleId: string): SuppressionTerms | undefined {
  const candidates = [index];
  const numbers = unit.lines?.numbers;
  if (index > 0 && (numbers === undefined || numbers[index - 1] === numbers[index]! - 1)) candidates.push(index - 1);
  for (const candidate of candidates) {
    const terms = parseInlineMarker(readableText(lines[candidate] ?? '', unit.decoding ?? 'utf8'));
    if (terms !== undefined && (terms.rule === undefined || terms.rule === ruleId)) return terms;
  }
  return undefined;
}

/** The findings of one unit, with suppressions applied. The secrets themselves stay here. */
export function scanUnit(unit: TextUnit, options: SecretScanOptions): SecretFinding[] {
  const matches = scanText(unit.text, options.ruleSet, { decoding: unit.decoding ?? 'utf8', ...(unit.screened === undefined ? {} : { screened: unit.screened }) });
  if (matches.length === 0) return [];
  const lines = unit.text.split('\n');
  const findings: SecretFinding[] = [];
  for (const match of matches) {
    const index = match.line - 1;
    if (unit.lines !== undefined && unit.lines.added[index] !== true) continue;
    const fingerprint = secretFingerprint(match.rule.id, match.secret);
    let finding: SecretFinding = {
      ruleId: match.rule.id,
      title: match.rule.title,
      severity: match.rule.severity,
      fix: match.rule.fix,
      fingerprint,
      redacted: redactSecret(match.secret),
      encoding: match.encoding,
      location: {
        path: unit.path,
        line: unit.lines?.numbers[index] ?? match.line,
        column: match.column,
        ...(unit.commit === undefined ? {} : { commit: unit.commit.hash, author: unit.commit.author, date: unit.commit.date }),
      },
      policy: options.policy,
    };
    const marker = markerFor(lines, unit, index, match.rule.id);
    const entry = baselineEntryFor(options.baseline, match.rule.id, fingerprint);
    // An inline marker speaks for this line; a baseline entry only when no marker holds.
    const judged = [
      ...(marker === undefined ? [] : [judgeSuppression('inline', marker, options.clock)]),
      ...(entry === undefined ? [] : [judgeSuppression('baseline', entry, options.clock)]),
    ];
    const chosen = judged.find((judgement) => judgement.state.status === 'active') ?? judged[0];
    if (chosen !== undefined) finding = { ...finding, suppression: chosen.state, ...(chosen.note === undefined ? {} : { note: chosen.note }) };
    findings.push(finding);
  }
  return findings;
}

/** Scans every unit of a source, one at a time. */
export async function scanUnits(units: AsyncIterable<TextUnit>, options: SecretScanOptions): Promise<SecretFinding[]> {
  const findings: SecretFinding[] = [];
  for await (const unit of units) findings.push(...scanUnit(unit, options));
  return findings;
}
