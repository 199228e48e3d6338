import { createHash } from 'node:crypto';
import type { PolicyReference } from '../policy-reference.js';
import type { Severity } from '../severity.js';
import type { SeverityAssessment } from './vulnerability-severity.js';

/** Configuration Management Policy §4.3, quoted exactly; every dependency finding serves it. */
export const DEPENDENCIES_SCANNED: PolicyReference = Object.freeze({
  policy: 'Configuration Management',
  section: '4.3',
  statement: 'Dependencies are tracked and scanned for known vulnerabilities as part of the SDLC.',
});

/** A known vulnerability in an installed or locked package. */
export interface DependencyFinding {
  readonly vulnerabilityId: string;
  /** Other ids for the same vulnerability (CVE-…, GHSA-…). */
  readonly aliases: readonly string[];
  readonly summary?: string;
  readonly advisoryUrl?: string;
  readonly modified: string;
  readonly severity: Severity;
  readonly severityDetail: SeverityAssessment;
  readonly ecosystem: string;
  /** Debian and Ubuntu: the source package. */
  readonly package: string;
  readonly version: string;
  /** The manifest (relative to the scanned root) and the entry's line in it. */
  readonly file: string;
  readonly line: number;
  /** npm install paths, or the Debian binary packages built from the source package. */
  readonly paths: readonly string[];
  readonly dev?: boolean;
  /** The lowest fixed version above the installed one, when the advisory names one. */
  readonly fixedVersion?: string;
  readonly lastAffected?: string;
  readonly fix: string;
  readonly policy: PolicyReference;
  /** Stable across runs and version bumps: vulnerability, ecosystem, package and file. */
  readonly fingerprint: string;
}

export function dependencyFingerprint(vulnerabilityId: string, ecosystem: string, name: string, file: string): string {
  return createHash('sha256').update([vulnerabilityId, ecosystem, name, file].join('\0')).digest('hex').slice(0, 32);
}
