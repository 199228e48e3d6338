import type { Clock } from '../../../infra/clock.js';
import { expiryInstant } from '../../secrets/suppressions.js';
import { isRecord } from '../attribute-values.js';
import type { ConfigFinding } from './config-finding.js';
import { configRule } from './config-rules.js';

/**
 * Accepting a finding for a while — a bastion being retired, a legacy bucket migrating — takes a
 * rule, the resource (an exact resource id, or a pattern with `*`), a reason, an owner and an
 * expiry date (the last day it holds, UTC, as for secret suppressions). An expired suppression
 * leaves the finding open with a note; one missing a term is refused when the file is read.
 */
export interface ConfigSuppression {
  readonly rule: string;
  readonly resource: string;
  readonly reason: string;
  readonly owner: string;
  readonly expires: string;
}

export class SuppressionError extends Error {
  override readonly name = 'SuppressionError';
}

export function parseSuppressions(raw: readonly unknown[], source: string): ConfigSuppression[] {
  return raw.map((entry, index) => {
    const where = `${source}: suppressions[${index}]`;
    if (!isRecord(entry)) throw new SuppressionError(`${where} must be { rule, resource, reason, owner, expires }`);
    const missing = (['rule', 'resource', 'reason', 'owner', 'expires'] as const).filter((key) => typeof entry[key] !== 'string' || (entry[key]).trim() === '');
    if (missing.length > 0) throw new SuppressionError(`${where} lacks ${missing.join(', ')}: a suppression needs a rule, a resource, a reason, an owner and an expiry date (YYYY-MM-DD)`);
    // YAML reads an unquoted 2031-03-01 as a date; a string is asked for, so quote it.
    if (expiryInstant(entry.expires as string) === undefined) throw new SuppressionError(`${where}: expires "${String(entry.expires)}" is not a date (YYYY-MM-DD)`);
    try {
      configRule(entry.rule as string);
    } catch {
      throw new SuppressionError(`${where}: there is no rule "${String(entry.rule)}" (holdfast config check --list-rules)`);
    }
    return { rule: entry.rule as string, resource: entry.resource as string, reason: entry.reason as string, owner: entry.owner as string, expires: entry.expires as string };
  });
}

function matches(pattern: string, resourceId: string): boolean {
  if (!pattern.includes('*')) return pattern === resourceId;
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(resourceId);
}

/** Each finding with the suppression that applies to it (the one expiring last), active or expired. */
export function applySuppressions(findings: readonly ConfigFinding[], suppressions: readonly ConfigSuppression[], clock: Clock): ConfigFinding[] {
  return findings.map((finding) => {
    const applicable = suppressions.filter((entry) => entry.rule === finding.ruleId && matches(entry.resource, finding.resourceId)).sort((a, b) => expiryInstant(b.expires)! - expiryInstant(a.expires)!);
    const chosen = applicable[0];
    if (chosen === undefined) return finding;
    const status: 'active' | 'expired' = clock.nowMs() >= expiryInstant(chosen.expires)! ? 'expired' : 'active';
    return Object.freeze({ ...finding, suppression: { status, reason: chosen.reason, owner: chosen.owner, expires: chosen.expires } });
  });
}

export function isOpen(finding: ConfigFinding): boolean {
  return finding.suppression?.status !== 'active';
}
