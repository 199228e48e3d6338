import { CreateBucketCommand, PutObjectLockConfigurationCommand, type S3Client as SdkClient } from '@aws-sdk/client-s3';
import { waitUntil } from '../support/wait-until.js';
import type { ThrowawayCluster } from './throwaway-cluster.js';

/** Steps the PostgreSQL backup tests share. */

/** Switches to a new WAL segment and waits until the archiver has pushed the one just closed; its name. */
export async function switchAndArchive(pg: ThrowawayCluster, timeoutMs = 60_000): Promise<string> {
  const [row] = await pg.query<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name');
  const closed = row!.name;
  await waitUntil(
    `${closed} archived\n${pg.output().slice(-2000)}`,
    async () => {
      const [stat] = await pg.query<{ last: string | null }>('SELECT last_archived_wal AS last FROM pg_stat_archiver');
      return stat!.last !== null && stat!.last >= closed;
    },
    timeoutMs,
  );
  return closed;
}

/** Waits until a restored cluster has finished recovery (promoted). */
export async function waitPromoted(pg: ThrowawayCluster, timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    `the restored cluster to finish recovery\n${pg.output().slice(-3000)}`,
    async () => (await pg.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering'))[0]!.recovering === false,
    timeoutMs,
  );
}

/**
 * A bucket as the issue asks backups to live in: Object Lock on, every new version under
 * COMPLIANCE retention for `days` by default.
 */
export async function createLockedBucket(sdk: SdkClient, bucket: string, days = 1): Promise<void> {
  await sdk.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await sdk.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: days } } } }));
}
