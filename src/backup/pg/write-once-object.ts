import type { GetObjectOutput, S3Client } from '../../infra/s3-client/s3-client.js';

/**
 * Everything holdfast pg writes is written once (create-only PUTs); in a versioned bucket — every
 * Object Lock bucket is one — anyone with write access can still add a later version under the
 * same key, but never remove or change the first. So restores, the catalog and verify read the
 * FIRST version of a key: a compromised database host holding the backup-writer key can neither
 * delete history nor rewrite it. Later versions are counted and reported (tamper evidence).
 */
export interface WriteOnceRead extends GetObjectOutput {
  readonly versionId: string;
  /** Versions written under the key after the first: someone tried to write over it. */
  readonly laterVersions: number;
}

export async function readWriteOnceObject(client: S3Client, bucket: string, key: string): Promise<WriteOnceRead | undefined> {
  const first = await client.firstVersionOf(bucket, key);
  if (first === undefined) return undefined;
  const read = await client.getObject({ bucket, key, versionId: first.versionId });
  return { ...read, versionId: first.versionId, laterVersions: first.versions - 1 };
}
