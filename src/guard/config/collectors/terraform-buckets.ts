import type { AttributeValue, ConfigItem } from '../config-item.js';
import { attributeRecord, firstBlock, isRecord, numberOf, stringOf, stringSet } from '../attribute-values.js';
import { policyAttribute } from './iam-policy-document.js';
import type { TerraformContext } from './terraform-context.js';
import type { TerraformResource } from './terraform-document.js';

/**
 * S3 buckets, joined per bucket. Since AWS provider 4.0 a bucket's settings are separate
 * resources (aws_s3_bucket_versioning, _object_lock_configuration, _public_access_block, _policy,
 * _server_side_encryption_configuration, _acl) pointing at the bucket by name; before it they were
 * inline blocks of aws_s3_bucket (versioning, object_lock_configuration, policy,
 * server_side_encryption_configuration, acl). Both are read and folded into one `s3_bucket` item
 * per bucket name, a separate resource winning over the inline block (the provider's own
 * precedence), so a bucket whose versioning lives in its own resource is seen as versioned.
 *
 * A plan does not know the `bucket` argument of a separate resource when it is another
 * resource's computed id (`bucket = aws_s3_bucket.logs.id`); the plan's configuration references
 * then name the bucket resource, whose `bucket` name is known.
 */
interface BucketState {
  name: string;
  definedBy: Set<string>;
  tags: Record<string, unknown>;
  versioning: string;
  mfaDelete: boolean | null;
  objectLock: { enabled: boolean; mode: string | null; days: number | null; years: number | null };
  publicAccessBlock: Record<string, boolean> | null;
  policy: AttributeValue;
  encryption: Record<string, unknown> | null;
  acl: string | null;
}

const SEPARATE = new Set([
  'aws_s3_bucket_versioning',
  'aws_s3_bucket_object_lock_configuration',
  'aws_s3_bucket_public_access_block',
  'aws_s3_bucket_policy',
  'aws_s3_bucket_server_side_encryption_configuration',
  'aws_s3_bucket_acl',
]);

function emptyBucket(name: string): BucketState {
  return { name, definedBy: new Set(), tags: {}, versioning: 'Disabled', mfaDelete: null, objectLock: { enabled: false, mode: null, days: null, years: null }, publicAccessBlock: null, policy: null, encryption: null, acl: null };
}

function defaultRetention(rule: unknown): { mode: string | null; days: number | null; years: number | null } {
  const retention = firstBlock(firstBlock(rule)?.default_retention);
  return { mode: stringOf(retention?.mode)?.toUpperCase() ?? null, days: numberOf(retention?.days) ?? null, years: numberOf(retention?.years) ?? null };
}

function encryption(value: unknown): Record<string, unknown> | null {
  const rule = firstBlock(firstBlock(value)?.rule ?? value);
  const byDefault = firstBlock(rule?.apply_server_side_encryption_by_default);
  if (byDefault === undefined) return null;
  return { algorithm: stringOf(byDefault.sse_algorithm) ?? null, kmsKeyId: stringOf(byDefault.kms_master_key_id) ?? null, bucketKeyEnabled: rule?.bucket_key_enabled === true };
}

function applyInline(bucket: BucketState, v: Readonly<Record<string, unknown>>): void {
  if (isRecord(v.tags)) bucket.tags = v.tags;
  const versioning = firstBlock(v.versioning);
  if (versioning !== undefined) {
    bucket.versioning = versioning.enabled === true ? 'Enabled' : 'Disabled';
    bucket.mfaDelete = versioning.mfa_delete === true;
  }
  const lock = firstBlock(v.object_lock_configuration);
  const lockEnabled = v.object_lock_enabled === true || stringOf(lock?.object_lock_enabled) === 'Enabled';
  bucket.objectLock = { enabled: lockEnabled, ...(lock === undefined ? { mode: null, days: null, years: null } : defaultRetention(lock.rule)) };
  if (stringOf(v.policy) !== undefined) bucket.policy = policyAttribute(v.policy);
  const sse = encryption(v.server_side_encryption_configuration);
  if (sse !== null) bucket.encryption = sse;
  if (stringOf(v.acl) !== undefined) bucket.acl = stringOf(v.acl)!;
}

function applySeparate(bucket: BucketState, resource: TerraformResource): void {
  const v = resource.values;
  switch (resource.type) {
    case 'aws_s3_bucket_versioning': {
      const configuration = firstBlock(v.versioning_configuration);
      bucket.versioning = stringOf(configuration?.status) ?? 'Disabled';
      bucket.mfaDelete = stringOf(configuration?.mfa_delete) === 'Enabled';
      break;
    }
    case 'aws_s3_bucket_object_lock_configuration':
      // This resource only exists for a bucket created with Object Lock; "Enabled" is its default.
      bucket.objectLock = { enabled: (stringOf(v.object_lock_enabled) ?? 'Enabled') === 'Enabled', ...defaultRetention(v.rule) };
      break;
    case 'aws_s3_bucket_public_access_block':
      bucket.publicAccessBlock = { blockPublicAcls: v.block_public_acls === true, blockPublicPolicy: v.block_public_policy === true, ignorePublicAcls: v.ignore_public_acls === true, restrictPublicBuckets: v.restrict_public_buckets === true };
      break;
    case 'aws_s3_bucket_policy':
      bucket.policy = policyAttribute(v.policy);
      break;
    case 'aws_s3_bucket_server_side_encryption_configuration':
      bucket.encryption = encryption(v.rule);
      break;
    case 'aws_s3_bucket_acl':
      bucket.acl = stringOf(v.acl) ?? (bucket.acl ?? null);
      break;
  }
}

export function bucketItems(context: TerraformContext): ConfigItem[] {
  const buckets = new Map<string, BucketState>();
  const byId = new Map<string, string>();
  const get = (name: string) => buckets.get(name) ?? buckets.set(name, emptyBucket(name)).get(name)!;
  const managed = context.document.resources.filter((resource) => resource.mode === 'managed');
  for (const resource of managed) {
    if (resource.type !== 'aws_s3_bucket') continue;
    // A bucket whose name is left to Terraform (bucket_prefix) has none until applied: its address stands in.
    const name = stringOf(resource.values.bucket) ?? stringOf(resource.values.id) ?? `(${resource.address})`;
    const bucket = get(name);
    bucket.definedBy.add(resource.address);
    applyInline(bucket, resource.values);
    const id = stringOf(resource.values.id);
    if (id !== undefined) byId.set(id, resource.address);
  }
  // Separate resources after every inline block, so they win whatever the order in the file.
  for (const resource of managed) {
    if (!SEPARATE.has(resource.type)) continue;
    const given = stringOf(resource.values.bucket);
    const target = context.referencedResource(resource, 'bucket', given, byId);
    const name = given ?? (target === undefined ? undefined : (stringOf(target.values.bucket) ?? `(${target.address})`)) ?? `(unknown bucket of ${resource.address})`;
    const bucket = get(name);
    bucket.definedBy.add(resource.address);
    applySeparate(bucket, resource);
  }
  return [...buckets.values()].map((bucket) =>
    context.item(
      'storage',
      's3_bucket',
      bucket.name,
      {
        name: bucket.name,
        definedBy: stringSet([...bucket.definedBy]),
        tags: attributeRecord(bucket.tags),
        versioning: bucket.versioning,
        mfaDelete: bucket.mfaDelete,
        objectLock: bucket.objectLock,
        publicAccessBlock: bucket.publicAccessBlock,
        policy: bucket.policy,
        encryption: bucket.encryption,
        acl: bucket.acl,
      },
      // Bucket names are global in S3: the bucket is the identity, whichever stack declares it.
      `bucket:${bucket.name}`,
    ),
  );
}
