import type { AttributeValue, ConfigItem } from '../config-item.js';
import { isRecord, textOf } from '../attribute-values.js';
import { statementsOf, type PolicyStatement } from '../collectors/iam-policy-document.js';
import type { ConfigFinding } from './config-finding.js';
import { configFinding } from './config-rules.js';

/** Which buckets hold backups: by default a name or a tag (key or value) containing "backup". */
export const DEFAULT_BACKUP_BUCKET_PATTERN = 'backup';

const BUCKET_KINDS = new Set(['s3_bucket', 'vault_bucket']);

export function isBackupBucket(item: ConfigItem, pattern: RegExp): boolean {
  if (!BUCKET_KINDS.has(item.kind)) return false;
  if (pattern.test(textOf(item.attributes.name ?? item.resourceId))) return true;
  const tags = item.attributes.tags;
  return isRecord(tags) && Object.entries(tags).some(([key, value]) => pattern.test(key) || (typeof value === 'string' && pattern.test(value)));
}

function includesWildcard(values: readonly string[]): boolean {
  return values.some((value) => value === '*' || value === '*:*');
}

function principalIsEveryone(principal: AttributeValue | undefined): boolean {
  if (principal === '*') return true;
  return isRecord(principal) && Array.isArray(principal.AWS) && principal.AWS.includes('*');
}

/** The policy documents an item holds, with a label for the evidence (trust policies are not permissions). */
function policyDocuments(item: ConfigItem): Array<{ label: string; statements: PolicyStatement[] }> {
  const a = item.attributes;
  const out: Array<{ label: string; statements: PolicyStatement[] }> = [];
  if (a.document !== undefined) out.push({ label: 'policy', statements: statementsOf(a.document) });
  if (a.policy !== undefined) out.push({ label: 'bucket policy', statements: statementsOf(a.policy) });
  for (const inline of Array.isArray(a.inlinePolicies) ? a.inlinePolicies.filter(isRecord) : []) out.push({ label: `inline policy ${textOf(inline.name)}`, statements: statementsOf(inline.document as AttributeValue) });
  return out;
}

function iamWildcards(item: ConfigItem, out: ConfigFinding[]): void {
  for (const { label, statements } of policyDocuments(item)) {
    for (const statement of statements) {
      if (statement.effect !== 'Allow' || !includesWildcard(statement.actions) || !includesWildcard(statement.resources)) continue;
      const sid = statement.sid === undefined ? '' : ` (Sid ${statement.sid})`;
      out.push(configFinding('iam-wildcard-admin', item, `${label} statement${sid} allows Action ${statement.actions.join(', ')} on Resource ${statement.resources.join(', ')}${statement.conditions === undefined ? '' : ' (with a condition)'}`, `${label} ${statement.sid ?? JSON.stringify(statement.actions)}`));
    }
  }
}

/** Is there a Deny for everyone when aws:SecureTransport is false (AWS's documented TLS-only pattern)? */
function refusesPlainHttp(policy: AttributeValue | undefined): boolean {
  return statementsOf(policy).some((statement) => {
    if (statement.effect !== 'Deny' || !principalIsEveryone(statement.principals)) return false;
    if (!statement.actions.some((action) => action === '*' || action === 's3:*' || action === 's3:GetObject' || action === 's3:PutObject')) return false;
    const conditions = statement.conditions;
    const bool = isRecord(conditions) ? conditions.Bool : undefined;
    const value = isRecord(bool) ? bool['aws:SecureTransport'] : undefined;
    return Array.isArray(value) && value.includes('false');
  });
}

function backupBucketChecks(item: ConfigItem, out: ConfigFinding[]): void {
  const a = item.attributes;
  if (a.versioning !== 'Enabled') out.push(configFinding('backup-bucket-versioning', item, `backup bucket ${textOf(a.name)} has versioning ${textOf(a.versioning)}`));
  const lock = isRecord(a.objectLock) ? a.objectLock : {};
  if (lock.enabled !== true) out.push(configFinding('backup-bucket-compliance-lock', item, `backup bucket ${textOf(a.name)} has no Object Lock`));
  else if (lock.mode !== 'COMPLIANCE') {
    const retention = lock.days !== null && lock.days !== undefined ? `${textOf(lock.days)} days` : lock.years !== null && lock.years !== undefined ? `${textOf(lock.years)} years` : '';
    out.push(configFinding('backup-bucket-compliance-lock', item, lock.mode === null || lock.mode === undefined ? `backup bucket ${textOf(a.name)} has Object Lock but no default retention, so objects written without one are not locked` : `backup bucket ${textOf(a.name)} defaults to ${textOf(lock.mode)} mode${retention === '' ? '' : ` for ${retention}`}, which privileged users can bypass`));
  }
}

function publicAccessChecks(item: ConfigItem, out: ConfigFinding[]): void {
  const a = item.attributes;
  const problems: string[] = [];
  if (!isRecord(a.publicAccessBlock)) problems.push('no public access block is declared for it');
  else {
    const off = ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'].filter((flag) => (a.publicAccessBlock as Record<string, AttributeValue>)[flag] !== true);
    if (off.length > 0) problems.push(`${off.join(', ')} ${off.length === 1 ? 'is' : 'are'} not true`);
  }
  if (typeof a.acl === 'string' && /^public-/.test(a.acl)) problems.push(`its ACL is ${a.acl}`);
  if (problems.length > 0) out.push(configFinding('bucket-public-access-not-blocked', item, `bucket ${textOf(a.name)}: ${problems.join('; ')}`));
}

export interface StorageCheckOptions {
  readonly backupBuckets: RegExp;
}

export function storageFindings(items: readonly ConfigItem[], options: StorageCheckOptions): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  for (const item of items) {
    if (item.component === 'iam' || item.component === 'storage') iamWildcards(item, out);
    if (isBackupBucket(item, options.backupBuckets)) backupBucketChecks(item, out);
    // Public access blocks and aws:SecureTransport are AWS S3 settings; a Holdfast vault has no
    // anonymous access and its TLS is the server's (tlsCertFile).
    if (item.kind === 's3_bucket') {
      publicAccessChecks(item, out);
      if (!refusesPlainHttp(item.attributes.policy)) {
        out.push(configFinding('bucket-policy-not-tls-only', item, item.attributes.policy === null ? `bucket ${textOf(item.attributes.name)} has no bucket policy, so requests over plain HTTP are served` : `the policy of bucket ${textOf(item.attributes.name)} has no Deny for aws:SecureTransport = false`));
      }
    }
  }
  return out;
}
