import { createHash } from 'node:crypto';
import type { PolicyReference } from '../../policy-reference.js';
import type { Severity } from '../../severity.js';
import type { ConfigComponent } from '../config-item.js';

/**
 * A configuration item that breaks a rule: which rule, how bad, which item, what was seen, how to
 * fix it and the policy sentence it serves — enough to stand as evidence on its own.
 */
export interface ConfigFinding {
  readonly ruleId: string;
  readonly title: string;
  readonly severity: Severity;
  readonly component: ConfigComponent;
  readonly resourceId: string;
  readonly kind: string;
  /** The file or endpoint the item was read from. */
  readonly source: string;
  /** What was seen; never a secret value (environment values only as fingerprints). */
  readonly evidence: string;
  readonly fix: string;
  readonly policy: PolicyReference;
  /** Stable across runs: rule, component, resource and subject (the rule within the item). */
  readonly fingerprint: string;
  readonly suppression?: ConfigSuppressionState;
}

export interface ConfigSuppressionState {
  readonly status: 'active' | 'expired';
  readonly reason: string;
  readonly owner: string;
  readonly expires: string;
}

export function configFingerprint(ruleId: string, component: string, resourceId: string, subject: string): string {
  return createHash('sha256').update([ruleId, component, resourceId, subject].join('\0')).digest('hex').slice(0, 32);
}

/**
 * The policy sentences the configuration rules serve, quoted exactly from
 * /work/shared/policies/configuration-management-policy.txt and backup-data-immutability-policy.txt.
 */
const CM = 'Configuration Management';
const BDI = 'Backup & Data Immutability';
export const CM_NO_SSH: PolicyReference = Object.freeze({ policy: CM, section: '3', statement: 'No SSH access — Server-level access is disabled.' });
export const CM_IMMUTABLE_CONTAINERS: PolicyReference = Object.freeze({ policy: CM, section: '3', statement: 'Containers are not modified after deployment; changes require building and deploying a new image.' });
export const CM_NO_DEFAULT_CREDENTIALS: PolicyReference = Object.freeze({ policy: CM, section: '5', statement: 'Default credentials are never used; all authentication is through SSO/MFA or scoped API keys.' });
export const CM_DNS_CHANGES_LOGGED: PolicyReference = Object.freeze({ policy: CM, section: '6', statement: 'Cloudflare logs all DNS, WAF, and network configuration changes.' });
export const BDI_OBJECT_LOCK_COMPLIANCE: PolicyReference = Object.freeze({ policy: BDI, section: '4.1', statement: 'Object Lock is configured in compliance mode, ensuring that no user — including administrators — can alter or delete protected objects until the retention period expires.' });
export const BDI_VERSIONING: PolicyReference = Object.freeze({ policy: BDI, section: '4.2', statement: 'S3 bucket versioning is enabled, maintaining a complete history of all object versions.' });
export const BDI_SEPARATION_OF_DUTIES: PolicyReference = Object.freeze({ policy: BDI, section: '4.3', statement: 'IAM policies enforce separation of duties between backup creation and backup deletion.' });
export const BDI_WRITE_RESTRICTED: PolicyReference = Object.freeze({ policy: BDI, section: '4.3', statement: 'Write and delete access to backup storage is restricted to automated backup processes only.' });
/** No policy sentence names TLS; the purpose's "unauthorized modification" is what plain HTTP allows in transit. */
export const BDI_PURPOSE: PolicyReference = Object.freeze({ policy: BDI, section: '1', statement: 'This policy defines how Synthetic Users ensures the integrity, immutability, and recoverability of backup data to protect against data loss, corruption, ransomware, and unauthorized modification.' });
