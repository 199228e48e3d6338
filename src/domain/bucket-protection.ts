import { type ChangeApprovals, type ProtectedChange, loosensBounds, weakensDefaultRetention } from './identity/change-approvals.js';
import type { BucketRecord } from './model.js';
import type { DefaultRetention, RetentionBounds } from './object-lock.js';
import type { ObjectLocks } from './object-locks.js';

/**
 * The changes that can weaken a bucket's protection, routed through the two-person rule:
 * tightening applies at once; loosening is recorded as pending and answered ApprovalRequired.
 * Buckets not flagged `protected` keep plain S3 semantics for their Object Lock configuration,
 * so generic S3 tools behave as they expect; retention bounds are Holdfast's own and always
 * guarded.
 */
export class BucketProtection {
  readonly #locks: ObjectLocks;
  readonly #approvals: ChangeApprovals;

  constructor(locks: ObjectLocks, approvals: ChangeApprovals) {
    this.#locks = locks;
    this.#approvals = approvals;
  }

  get approvals(): ChangeApprovals {
    return this.#approvals;
  }

  async setRetentionBounds(name: string, bounds: RetentionBounds | undefined, actor: string): Promise<BucketRecord> {
    const bucket = await this.#locks.vault.getBucket(name);
    if (loosensBounds(bucket.retentionBounds, bounds)) {
      throw (await this.#approvals.propose({ kind: 'retention-bounds', bucket: name, bounds }, `Changing the retention bounds to ${describeBounds(bounds)}`, actor)).error;
    }
    return this.#locks.setRetentionBounds(name, bounds);
  }

  async setProtected(name: string, protect: boolean, actor: string): Promise<BucketRecord> {
    // Decided on the controls read in the write's own transaction: a flag set by another node
    // meanwhile is never cleared without approval.
    let needsApproval = false;
    const bucket = await this.#locks.vault.metadata.updateBucketControls(name, (controls) => {
      if (controls.protected === true && !protect) {
        needsApproval = true;
        return controls;
      }
      return { ...controls, protected: protect };
    });
    if (needsApproval) {
      throw (await this.#approvals.propose({ kind: 'bucket-protection', bucket: name, protected: false }, 'Removing the protected flag', actor)).error;
    }
    return bucket;
  }

  async putObjectLockConfiguration(name: string, rule: DefaultRetention | undefined, actor: string): Promise<BucketRecord> {
    const bucket = await this.#locks.vault.getBucket(name);
    if (bucket.controls.protected === true && weakensDefaultRetention(bucket.defaultRetention, rule)) {
      const summary = rule === undefined ? 'Removing the default retention' : `Changing the default retention to ${rule.mode} ${rule.days ?? 0} days ${rule.years ?? 0} years`;
      throw (await this.#approvals.propose({ kind: 'default-retention', bucket: name, defaultRetention: rule }, summary, actor)).error;
    }
    return this.#locks.putObjectLockConfiguration(name, rule);
  }

  /** Applies an approved change (called by ChangeApprovals once a second admin approved). */
  async apply(change: ProtectedChange): Promise<void> {
    switch (change.kind) {
      case 'retention-bounds':
        await this.#locks.setRetentionBounds(change.bucket, change.bounds);
        return;
      case 'bucket-protection':
        await this.#locks.vault.metadata.updateBucketControls(change.bucket, (controls) => ({ ...controls, protected: change.protected }));
        return;
      case 'default-retention':
        await this.#locks.putObjectLockConfiguration(change.bucket, change.defaultRetention);
        return;
    }
  }
}

function describeBounds(bounds: RetentionBounds | undefined): string {
  if (bounds === undefined) return 'none';
  return `min ${bounds.minDays ?? '-'} days, max ${bounds.maxDays ?? '-'} days`;
}
