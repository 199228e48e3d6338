import type { ConfigItem } from '../config-item.js';
import { attributeRecord } from '../attribute-values.js';
import type { S3Client } from '../../../infra/s3-client/s3-client.js';
import { policyAttribute } from './iam-policy-document.js';

/**
 * A Holdfast vault's own buckets, read live: versioning, Object Lock configuration (mode and
 * default retention) and bucket policy over the S3 API, and — when admin credentials can read
 * them — the vault's retention bounds and protection flag over the admin API
 * (`GET /_holdfast/admin/v1/buckets/NAME`). The reader is an interface so the collector does not
 * depend on how either API is reached.
 */
export interface VaultAdminBucketView {
  readonly retentionBounds: { readonly minDays?: number; readonly maxDays?: number } | null;
  readonly protected: boolean;
}

export interface VaultBucketReader {
  listBuckets(): Promise<string[]>;
  versioning(bucket: string): Promise<string>;
  objectLock(bucket: string): Promise<{ readonly enabled: boolean; readonly mode: string | null; readonly days: number | null; readonly years: number | null }>;
  policy(bucket: string): Promise<string | undefined>;
  /** Undefined when the admin API is not available to these credentials. */
  adminView?(bucket: string): Promise<VaultAdminBucketView | undefined>;
}

export function s3VaultBucketReader(client: S3Client, adminView?: (bucket: string) => Promise<VaultAdminBucketView | undefined>): VaultBucketReader {
  return {
    listBuckets: () => client.listBuckets(),
    versioning: async (bucket) => (await client.getBucketVersioning(bucket)).status,
    objectLock: async (bucket) => {
      const lock = await client.getObjectLockConfiguration(bucket);
      return { enabled: lock.enabled, mode: lock.defaultRetention?.mode || null, days: lock.defaultRetention?.days ?? null, years: lock.defaultRetention?.years ?? null };
    },
    policy: (bucket) => client.getBucketPolicy(bucket),
    ...(adminView === undefined ? {} : { adminView }),
  };
}

/**
 * Items for `buckets` (every bucket the credentials list when empty). `vaultName` prefixes the
 * resource ids (`vault:NAME/BUCKET`), so two vaults' buckets stay apart.
 */
export async function vaultBucketItems(reader: VaultBucketReader, vaultName: string, source: string, buckets: readonly string[] = []): Promise<ConfigItem[]> {
  const names = buckets.length > 0 ? [...buckets] : await reader.listBuckets();
  const items: ConfigItem[] = [];
  for (const bucket of [...new Set(names)].sort()) {
    const [versioning, objectLock, policy, admin] = await Promise.all([reader.versioning(bucket), reader.objectLock(bucket), reader.policy(bucket), reader.adminView?.(bucket)]);
    items.push(
      Object.freeze({
        component: 'storage' as const,
        resourceId: `vault:${vaultName}/${bucket}`,
        kind: 'vault_bucket',
        source,
        attributes: attributeRecord({
          name: bucket,
          versioning,
          objectLock,
          policy: policyAttribute(policy),
          // Only what was read: a collection without admin access says nothing about bounds.
          ...(admin === undefined ? {} : { retentionBounds: admin.retentionBounds, protected: admin.protected }),
        }),
      }),
    );
  }
  return items;
}
