import { createHash } from 'node:crypto';
import type { PolicyReference } from '../policy-reference.js';
import type { Severity } from '../severity.js';

/**
 * The Configuration Management Policy sentences the baseline checks serve, quoted exactly from
 * configuration-management-policy.txt. The policy has no sentence on least privilege; running as
 * root, privileged containers and host namespaces are checked against §3's "Server-level access
 * is disabled.", since each is a way from a container to the server under it.
 */
export const MINIMAL_BASE_IMAGES: PolicyReference = Object.freeze({ policy: 'Configuration Management', section: '5', statement: 'Container images are built from standard, minimal base images.' });
export const NO_NON_ESSENTIALS: PolicyReference = Object.freeze({ policy: 'Configuration Management', section: '5', statement: 'Non-essential services, ports, and packages are not included in container images.' });
export const NO_DEFAULT_CREDENTIALS: PolicyReference = Object.freeze({ policy: 'Configuration Management', section: '5', statement: 'Default credentials are never used; all authentication is through SSO/MFA or scoped API keys.' });
export const NO_SSH_ACCESS: PolicyReference = Object.freeze({ policy: 'Configuration Management', section: '3', statement: 'No SSH access — Server-level access is disabled.' });
export const IMMUTABLE_CONTAINERS: PolicyReference = Object.freeze({ policy: 'Configuration Management', section: '3', statement: 'Containers are not modified after deployment; changes require building and deploying a new image.' });
export const SECRETS_IN_ENVIRONMENT_SYSTEM: PolicyReference = Object.freeze({ policy: 'Configuration Management', section: '4.1', statement: "Secrets and credentials are stored in Render's encrypted environment variable system, not in source code." });

/** Where a finding is: a file and line (Dockerfile, manifest), or a place inside an image. */
export interface BaselineLocation {
  /** A file relative to the scanned root, with `/`; for images the image file or directory. */
  readonly path: string;
  readonly line?: number;
  /** Inside an image: `config.User`, `config.Env`, `/etc/passwd`; in a manifest: `Deployment/web container app`. */
  readonly within?: string;
}

export interface BaselineFinding {
  readonly ruleId: string;
  readonly title: string;
  readonly severity: Severity;
  /** What was seen; secrets only as a redacted prefix. */
  readonly evidence: string;
  readonly fix: string;
  readonly policy: PolicyReference;
  readonly location: BaselineLocation;
  /** Stable across runs: rule, location (path and `within`, not the line) and subject. */
  readonly fingerprint: string;
}

export function baselineFingerprint(ruleId: string, location: BaselineLocation, subject: string): string {
  return createHash('sha256').update([ruleId, location.path, location.within ?? '', subject].join('\0')).digest('hex').slice(0, 32);
}
