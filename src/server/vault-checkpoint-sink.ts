import { type AuditCheckpoint, type CheckpointSink, parseAuditCheckpoint } from '../domain/audit/audit-checkpoint.js';
import { SYSTEM_BUCKET_PREFIX } from '../domain/names.js';
import type { Vault } from '../domain/vault.js';
import { readAll } from '../infra/streams/read-all.js';
import { ensureSystemBucket, putLockedJson } from './system-bucket.js';

export const AUDIT_BUCKET = `${SYSTEM_BUCKET_PREFIX}audit`;

/**
 * Audit checkpoints as compliance-locked objects in the vault's own system bucket: once written,
 * no one — root included, nor anyone editing the metadata through the S3 API — can delete or
 * shorten them before their retention ends, so they keep proving the chain up to their head.
 * Every version is read back (an extra version under the same key cannot hide an earlier one).
 */
export class VaultCheckpointSink implements CheckpointSink {
  readonly #vault: Vault;
  readonly #retentionDays: number;

  constructor(vault: Vault, retentionDays: number) {
    this.#vault = vault;
    this.#retentionDays = retentionDays;
  }

  /** Creates the system bucket (versioned, Object Lock on) unless it exists. */
  async ensureBucket(): Promise<void> {
    await ensureSystemBucket(this.#vault, AUDIT_BUCKET);
  }

  async write(checkpoint: AuditCheckpoint): Promise<void> {
    const key = `checkpoints/${checkpoint.chain}/${String(checkpoint.seq).padStart(16, '0')}.json`;
    await putLockedJson(this.#vault, AUDIT_BUCKET, key, checkpoint, this.#retentionDays);
  }

  async list(): Promise<AuditCheckpoint[]> {
    const checkpoints: AuditCheckpoint[] = [];
    let keyMarker = '';
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await this.#vault.listObjectVersions(AUDIT_BUCKET, { prefix: 'checkpoints/', delimiter: '', keyMarker, versionIdMarker, maxKeys: 1000 });
      for (const version of page.versions) {
        if (version.isDeleteMarker) continue;
        const read = await this.#vault.getObject(AUDIT_BUCKET, version.key, version.versionId, {}, undefined);
        const text = (await readAll(read.body)).toString('utf8');
        try {
          checkpoints.push(parseAuditCheckpoint(text));
        } catch {
          // Not a checkpoint this vault wrote (the system bucket refuses S3 writes): ignore it;
          // verification relies only on checkpoints whose signatures check out.
        }
      }
      if (!page.isTruncated || page.nextKeyMarker === undefined) return checkpoints;
      keyMarker = page.nextKeyMarker;
      versionIdMarker = page.nextVersionIdMarker;
    }
  }
}
