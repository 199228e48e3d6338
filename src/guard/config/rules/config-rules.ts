import type { PolicyReference } from '../../policy-reference.js';
import type { Severity } from '../../severity.js';
import type { ConfigComponent, ConfigItem } from '../config-item.js';
import { BDI_OBJECT_LOCK_COMPLIANCE, BDI_PURPOSE, BDI_SEPARATION_OF_DUTIES, BDI_VERSIONING, CM_DNS_CHANGES_LOGGED, CM_IMMUTABLE_CONTAINERS, CM_NO_DEFAULT_CREDENTIALS, CM_NO_SSH, configFingerprint, type ConfigFinding } from './config-finding.js';

/** One rule: its stable id (SARIF ruleId, suppressions key on it: never renamed), severity, fix and policy. */
export interface ConfigRule {
  readonly id: string;
  readonly component: ConfigComponent;
  readonly title: string;
  readonly severity: Severity;
  readonly policy: PolicyReference;
  readonly fix: string;
}

const rule = (id: string, component: ConfigComponent, severity: Severity, policy: PolicyReference, title: string, fix: string): ConfigRule => Object.freeze({ id, component, severity, policy, title, fix });

export const CONFIG_RULES: readonly ConfigRule[] = Object.freeze([
  rule('network-ssh-open-to-world', 'network', 'critical', CM_NO_SSH, 'SSH (port 22) open to the whole internet', 'Remove the rule: the policy disables server-level access. For break-glass access use SSM Session Manager or an ingress limited to a VPN CIDR, added by a reviewed change and removed after.'),
  rule('network-all-ports-open-to-world', 'network', 'critical', CM_NO_SSH, 'Every port open to the whole internet', 'Allow only the ports the service answers on (443 behind a load balancer), from the load balancer\'s security group rather than 0.0.0.0/0; all ports include SSH and every admin port.'),
  rule('iam-wildcard-admin', 'iam', 'critical', BDI_SEPARATION_OF_DUTIES, 'IAM statement allows every action on every resource', 'Grant the actions the role needs on the resources it needs (e.g. s3:PutObject on arn:aws:s3:::backups/*); a backup writer must not be able to delete, and no policy needs "*" on "*" (use AWS-managed AdministratorAccess behind SSO for break-glass).'),
  rule('backup-bucket-versioning', 'storage', 'high', BDI_VERSIONING, 'Backup bucket without versioning', 'Enable versioning (aws_s3_bucket_versioning with status = "Enabled"; on a Holdfast vault: PutBucketVersioning Enabled), so an overwrite or delete keeps the previous version.'),
  rule('backup-bucket-compliance-lock', 'storage', 'high', BDI_OBJECT_LOCK_COMPLIANCE, 'Backup bucket without compliance-mode Object Lock', 'Create the bucket with Object Lock (object_lock_enabled = true) and give it a default retention in COMPLIANCE mode (aws_s3_bucket_object_lock_configuration rule.default_retention { mode = "COMPLIANCE", days = N }); governance mode can be bypassed by administrators.'),
  rule('bucket-public-access-not-blocked', 'storage', 'high', CM_NO_DEFAULT_CREDENTIALS, 'Bucket public access not fully blocked', 'Add aws_s3_bucket_public_access_block with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets all true (and the account-level block); anonymous access bypasses SSO/MFA and scoped keys altogether. Use CloudFront with origin access control to publish content.'),
  rule('bucket-policy-not-tls-only', 'storage', 'medium', BDI_PURPOSE, 'Bucket policy does not refuse plain HTTP', 'Add a Deny statement for Principal "*", Action "s3:*", both the bucket and bucket/* resources, with Condition { "Bool": { "aws:SecureTransport": "false" } }.'),
  rule('image-not-digest-pinned', 'container', 'medium', CM_IMMUTABLE_CONTAINERS, 'Image reference not pinned by digest', 'Reference the image as name:tag@sha256:… (docker buildx imagetools inspect prints the digest) so what runs is exactly what was built and reviewed; let Renovate propose digest updates.'),
  rule('container-runs-as-root', 'container', 'high', CM_NO_SSH, 'Container runs as root', 'Run as an unprivileged user: USER 10001 in the Dockerfile, securityContext.runAsNonRoot: true and runAsUser: 10001 in Kubernetes, user: "10001" in compose.'),
  rule('env-default-credential', 'environment', 'high', CM_NO_DEFAULT_CREDENTIALS, 'Credential variable set to a well-known default', 'Generate a unique value per environment (openssl rand -base64 32), set it in the platform\'s encrypted environment, and rotate wherever the default was used.'),
  rule('dns-wildcard-cname-external', 'dns', 'medium', CM_DNS_CHANGES_LOGGED, 'Wildcard CNAME to a name outside the zone', 'Replace the wildcard with explicit records for the names in use; a wildcard to a third party hands every subdomain to whoever holds that name (subdomain takeover when the target is released).'),
  rule('postgres-trust-auth', 'database', 'high', CM_NO_DEFAULT_CREDENTIALS, 'PostgreSQL accepts connections without a password (trust)', 'Replace trust with scram-sha-256 (or cert) in pg_hba.conf and reload (SELECT pg_reload_conf()); trust lets anyone who reaches the port log in as any role, superusers included.'),
  rule('postgres-ssl-off', 'database', 'medium', CM_NO_DEFAULT_CREDENTIALS, 'PostgreSQL serves connections without TLS', 'Set ssl = on with ssl_cert_file/ssl_key_file and use hostssl lines in pg_hba.conf, so passwords and data do not cross the network in clear.'),
  rule('postgres-md5-passwords', 'database', 'low', CM_NO_DEFAULT_CREDENTIALS, 'PostgreSQL hashes new passwords with MD5', 'Set password_encryption = scram-sha-256 and reset each role\'s password (\\password in psql), then change md5 lines in pg_hba.conf to scram-sha-256.'),
]);

const BY_ID = new Map(CONFIG_RULES.map((entry) => [entry.id, entry]));

export function configRule(id: string): ConfigRule {
  const found = BY_ID.get(id);
  if (found === undefined) throw new Error(`no configuration rule "${id}"`);
  return found;
}

/** A finding of rule `ruleId` on `item`; `subject` tells findings of one rule on one item apart. */
export function configFinding(ruleId: string, item: ConfigItem, evidence: string, subject = '', severity?: Severity): ConfigFinding {
  const entry = configRule(ruleId);
  return Object.freeze({
    ruleId,
    title: entry.title,
    severity: severity ?? entry.severity,
    component: item.component,
    resourceId: item.resourceId,
    kind: item.kind,
    source: item.source,
    evidence,
    fix: entry.fix,
    policy: entry.policy,
    fingerprint: configFingerprint(ruleId, item.component, item.resourceId, subject),
  });
}
