import { createHash } from 'node:crypto';
import type { PolicyReference } from '../policy-reference.js';
import type { Severity } from '../severity.js';

export { describePolicy, type PolicyReference } from '../policy-reference.js';

/** The policy sentences secret scanning serves (Configuration Management Policy §4.1 and §4.3). */
export const SECRETS_NOT_IN_SOURCE: PolicyReference = Object.freeze({
  policy: 'Configuration Management',
  section: '4.1',
  statement: "Secrets and credentials are stored in Render's encrypted environment variable system, not in source code.",
});

export const NO_COMMITTED_CREDENTIALS: PolicyReference = Object.freeze({
  policy: 'Configuration Management',
  section: '4.3',
  statement: 'GitHub secret scanning prevents accidental commit of credentials.',
});

/** How the secret was written where it was found. */
export type SecretEncoding = 'plain' | 'base64' | 'joined-lines';

export interface FindingLocation {
  /** Relative to the scanned root (or the repository), with `/`. */
  readonly path: string;
  readonly line: number;
  readonly column: number;
  /** Set in --git mode: the commit that added the line. */
  readonly commit?: string;
  readonly author?: string;
  readonly date?: string;
}

export interface SuppressionState {
  readonly kind: 'inline' | 'baseline';
  /** active: the finding is suppressed; expired and invalid suppressions leave it a finding. */
  readonly status: 'active' | 'expired' | 'invalid';
  readonly reason?: string;
  readonly owner?: string;
  readonly expires?: string;
}

/**
 * A secret found. It never holds the secret itself: only a short redacted prefix and a
 * fingerprint, so nothing built from a finding (table, JSON, SARIF, logs) can leak it.
 */
export interface SecretFinding {
  readonly ruleId: string;
  readonly title: string;
  readonly severity: Severity;
  readonly fix: string;
  readonly fingerprint: string;
  readonly redacted: string;
  readonly encoding: SecretEncoding;
  readonly location: FindingLocation;
  readonly policy: PolicyReference;
  readonly suppression?: SuppressionState;
  /** Why a suppression did not apply (expired, incomplete), for the reader. */
  readonly note?: string;
}

export function isSuppressed(finding: SecretFinding): boolean {
  return finding.suppression?.status === 'active';
}

/**
 * SHA-256 of the rule id and the secret, truncated to 128 bits: stable across moves and commits
 * (a baseline entry follows the secret, not the line), and useless for recovering the secret.
 */
export function secretFingerprint(ruleId: string, secret: string): string {
  return createHash('sha256').update(ruleId).update('\0').update(secret).digest('hex').slice(0, 32);
}

/** At most the first four characters (fewer for short secrets), then an ellipsis. */
export function redactSecret(secret: string): string {
  const shown = Math.min(4, Math.floor(secret.length / 4));
  return `${secret.slice(0, shown)}…`;
}
