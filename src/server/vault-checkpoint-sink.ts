import { createHash } from 'node:crypto';
import { type AuditCheckpoint, type CheckpointSink, parseAuditCheckpoint } from '../domain/audit/audit-checkpoint.js';
import { S3Error } from '../domain/errors.js';
import { SYSTEM_BUCKET_PREFIX } from '../domain/names.js';
import type { Vault } from '../domain/vault.js';
import { readAll } from '../infra/streams/read-all.js';

export const AUDIT_BUCKET = `${SYSTEM_BUCKET_PREFIX}audit`;

const DAY_MS = 24 * 3600 * 1000;

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
    try {
      await this.#vault.getBucket(AUDIT_BUCKET);
    } catch (error) {
      if (!(error instanceof S3Error && error.code === 'NoSuchBucket')) throw error;
      await this.#vault.createBucket(AUDIT_BUCKET, { objectLockEnabled: true });
    }
  }

  async write(checkpoint: AuditCheckpoint): Promise<void> {
    const body = Buffer.from(`${JSON.stringify(checkpoint)}\n`, 'utf8');
    await this.#vault.putObject({
      bucket: AUDIT_BUCKET,
      key: `checkpoints/${checkpoint.chain}/${String(checkpoint.seq).padStart(16, '0')}.json`,
      body: [body],
      declaredSize: body.length,
      headers: { 'content-type': 'application/json' },
      // Locked writes must carry an integrity check (as S3 demands Content-MD5 or a checksum).
      integrity: { contentMd5: createHash('md5').update(body).digest(), sha256Hex: createHash('sha256').update(body).digest('hex') },
      conditions: {},
      lock: { retention: { mode: 'COMPLIANCE', retainUntilMs: this.#vault.clock.nowMs() + this.#retentionDays * DAY_MS }, legalHold: undefined },
    });
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
