import { createHash } from 'node:crypto';
import { S3Error } from '../domain/errors.js';
import type { ObjectVersionRecord } from '../domain/model.js';
import type { Vault } from '../domain/vault.js';

const DAY_MS = 24 * 3600 * 1000;

/**
 * The vault's own system buckets (audit checkpoints, evidence) refuse every S3 write and delete,
 * root included; what this process puts there is compliance-locked so that not even the process
 * itself can remove it before its retention ends.
 */

/**
 * Creates the system bucket (versioned, Object Lock on) unless it exists. Cluster nodes starting
 * at once may both find it missing: the one whose create loses finds it made by the other, and
 * accepts it only with Object Lock on.
 */
export async function ensureSystemBucket(vault: Vault, bucket: string): Promise<void> {
  try {
    await vault.getBucket(bucket);
    return;
  } catch (error) {
    if (!(error instanceof S3Error && error.code === 'NoSuchBucket')) throw error;
  }
  try {
    await vault.createBucket(bucket, { objectLockEnabled: true });
  } catch (error) {
    if (!(error instanceof S3Error && error.code === 'BucketAlreadyOwnedByYou')) throw error;
    if (!(await vault.getBucket(bucket)).objectLockEnabled) throw new Error(`the system bucket ${bucket} exists without Object Lock`, { cause: error });
  }
}

/** Writes one JSON document under compliance retention of `retentionDays` from now. */
export async function putLockedJson(vault: Vault, bucket: string, key: string, document: unknown, retentionDays: number): Promise<ObjectVersionRecord> {
  const body = Buffer.from(`${JSON.stringify(document)}\n`, 'utf8');
  return vault.putObject({
    bucket,
    key,
    body: [body],
    declaredSize: body.length,
    headers: { 'content-type': 'application/json' },
    // Locked writes must carry an integrity check (as S3 demands Content-MD5 or a checksum).
    integrity: { contentMd5: createHash('md5').update(body).digest(), sha256Hex: createHash('sha256').update(body).digest('hex') },
    conditions: {},
    lock: { retention: { mode: 'COMPLIANCE', retainUntilMs: vault.clock.nowMs() + retentionDays * DAY_MS }, legalHold: undefined },
  });
}
