import { S3Error, s3errors } from './errors.js';
import type { BucketRecord, ObjectVersionRecord } from './model.js';
import {
  type DefaultRetention,
  MISSING_LOCK_CONFIGURATION,
  type Retention,
  type RetentionBounds,
  assertRetentionChange,
  assertValidBounds,
  assertValidDefaultRetention,
  assertWithinBounds,
  retentionForNewVersion,
} from './object-lock.js';
import type { Vault } from './vault.js';

/**
 * The Object Lock operations on buckets and versions: lock configuration, retention and legal
 * holds. The decisions themselves are the pure functions of object-lock.ts; this applies them
 * atomically through the metadata store.
 */
export class ObjectLocks {
  readonly #vault: Vault;

  constructor(vault: Vault) {
    this.#vault = vault;
  }

  get vault(): Vault {
    return this.#vault;
  }

  async getObjectLockConfiguration(name: string): Promise<BucketRecord> {
    const bucket = await this.#vault.getBucket(name);
    if (!bucket.objectLockEnabled) {
      throw new S3Error('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', { BucketName: name });
    }
    return bucket;
  }

  /** Enables Object Lock (for good) and sets or removes the default retention; existing versions keep theirs. */
  async putObjectLockConfiguration(name: string, defaultRetention: DefaultRetention | undefined): Promise<BucketRecord> {
    if (defaultRetention !== undefined) assertValidDefaultRetention(defaultRetention);
    const bucket = await this.#vault.getBucket(name);
    if (defaultRetention !== undefined) {
      const now = this.#vault.clock.nowMs();
      assertWithinBounds(retentionForNewVersion(undefined, defaultRetention, now), bucket.retentionBounds, now);
    }
    return this.#vault.metadata.setObjectLockConfiguration(name, defaultRetention);
  }

  /** The version a retention or legal-hold request addresses: the given one, or the latest. */
  async #target(bucketName: string, key: string, versionId: string | undefined): Promise<ObjectVersionRecord> {
    const bucket = await this.#vault.getBucket(bucketName);
    if (!bucket.objectLockEnabled) throw s3errors.invalidRequest(MISSING_LOCK_CONFIGURATION);
    const version = await this.#vault.metadata.getObjectVersion(bucketName, key, versionId);
    if (version === undefined) throw versionId === undefined ? s3errors.noSuchKey(key) : s3errors.noSuchVersion(key, versionId);
    if (version.isDeleteMarker) throw s3errors.methodNotAllowed('PUT', 'DeleteMarker');
    return version;
  }

  async getObjectRetention(bucket: string, key: string, versionId: string | undefined): Promise<Retention> {
    const version = await this.#target(bucket, key, versionId);
    if (version.retention === undefined) {
      throw new S3Error('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
    }
    return version.retention;
  }

  async putObjectRetention(bucket: string, key: string, versionId: string | undefined, requested: Retention | undefined, bypassGovernance: boolean): Promise<ObjectVersionRecord> {
    const target = await this.#target(bucket, key, versionId);
    const bucketRecord = await this.#vault.getBucket(bucket);
    const updated = await this.#vault.metadata.updateVersionLock(bucket, key, target.versionId, (current) => {
      assertRetentionChange(current.retention, requested, this.#vault.retentionClock.nowMs(), bypassGovernance);
      assertWithinBounds(requested, bucketRecord.retentionBounds, this.#vault.clock.nowMs());
      return { retention: requested, legalHold: current.legalHold };
    });
    await this.#vault.protectIfLocked(updated);
    return updated;
  }

  async getObjectLegalHold(bucket: string, key: string, versionId: string | undefined): Promise<boolean> {
    const version = await this.#target(bucket, key, versionId);
    if (version.legalHold === undefined) {
      throw new S3Error('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
    }
    return version.legalHold;
  }

  /** Legal holds have no period and no bypass: anyone allowed to set them may set ON or OFF. */
  async putObjectLegalHold(bucket: string, key: string, versionId: string | undefined, on: boolean): Promise<ObjectVersionRecord> {
    const target = await this.#target(bucket, key, versionId);
    const updated = await this.#vault.metadata.updateVersionLock(bucket, key, target.versionId, (current) => ({ retention: current.retention, legalHold: on }));
    await this.#vault.protectIfLocked(updated);
    return updated;
  }

  /**
   * Sets a bucket's retention bounds. Tightening is an ordinary admin change; loosening (raising
   * the maximum, lowering the minimum, clearing) will need a second admin's approval once
   * identities exist — until then only root may call this at all.
   */
  async setRetentionBounds(name: string, bounds: RetentionBounds | undefined): Promise<BucketRecord> {
    if (bounds !== undefined) assertValidBounds(bounds);
    await this.#vault.getBucket(name);
    return this.#vault.metadata.setRetentionBounds(name, bounds);
  }
}
