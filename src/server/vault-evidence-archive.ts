import { createHash } from 'node:crypto';
import { checkEvidenceName, EvidenceConflictError, type EvidenceArchive, type EvidenceRecord, type StoredEvidence } from '../domain/evidence/evidence-archive.js';
import { SYSTEM_BUCKET_PREFIX } from '../domain/names.js';
import type { Vault } from '../domain/vault.js';
import { readAll } from '../infra/streams/read-all.js';
import { ensureSystemBucket, putLockedJson } from './system-bucket.js';

export const EVIDENCE_BUCKET = `${SYSTEM_BUCKET_PREFIX}evidence`;

/**
 * Evidence as compliance-locked objects in the vault's own system bucket (as the audit
 * checkpoints are): system buckets refuse every S3 write and delete, root included, and the
 * compliance lock keeps even this process from removing a record before its retention ends.
 * Reads take the first version of a key, so a later version can never replace a record.
 */
export class VaultEvidenceArchive implements EvidenceArchive {
  readonly #vault: Vault;
  readonly #retentionDays: number;

  constructor(vault: Vault, retentionDays: number) {
    this.#vault = vault;
    this.#retentionDays = retentionDays;
  }

  /** Creates the system bucket (versioned, Object Lock on) unless it exists. */
  async ensureBucket(): Promise<void> {
    await ensureSystemBucket(this.#vault, EVIDENCE_BUCKET);
  }

  async put(kind: string, id: string, record: EvidenceRecord): Promise<StoredEvidence> {
    checkEvidenceName(kind, id);
    const sha256 = createHash('sha256').update(`${JSON.stringify(record)}\n`, 'utf8').digest('hex');
    const existing = await this.#first(kind, id);
    if (existing !== undefined) {
      if (existing.sha256 === sha256) return existing;
      throw new EvidenceConflictError(`evidence ${kind}/${id} is already stored with different content; records are written once`);
    }
    const written = await putLockedJson(this.#vault, EVIDENCE_BUCKET, keyOf(kind, id), record, this.#retentionDays);
    return {
      kind,
      id,
      location: `s3://${EVIDENCE_BUCKET}/${keyOf(kind, id)}?versionId=${written.versionId}`,
      sha256,
      storedAtMs: written.lastModifiedMs,
      retainUntilMs: written.retention?.retainUntilMs ?? 0,
    };
  }

  async get(kind: string, id: string): Promise<EvidenceRecord | undefined> {
    checkEvidenceName(kind, id);
    const first = await this.#firstVersion(kind, id);
    if (first === undefined) return undefined;
    return JSON.parse(await this.#read(keyOf(kind, id), first)) as EvidenceRecord;
  }

  async list(kind: string, options: { readonly limit?: number } = {}): Promise<readonly StoredEvidence[]> {
    checkEvidenceName(kind, 'x');
    const limit = options.limit ?? 100;
    const byKey = new Map<string, { versionId: string; lastModifiedMs: number }>();
    let keyMarker = '';
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await this.#vault.listObjectVersions(EVIDENCE_BUCKET, { prefix: `${kind}/`, delimiter: '', keyMarker, versionIdMarker, maxKeys: 1000 });
      for (const version of page.versions) {
        if (version.isDeleteMarker) continue;
        const seen = byKey.get(version.key);
        // Versions come newest first within a key: the last one seen is the first written.
        if (seen === undefined || version.lastModifiedMs <= seen.lastModifiedMs) byKey.set(version.key, { versionId: version.versionId, lastModifiedMs: version.lastModifiedMs });
      }
      if (!page.isTruncated || page.nextKeyMarker === undefined) break;
      keyMarker = page.nextKeyMarker;
      versionIdMarker = page.nextVersionIdMarker;
    }
    const newest = [...byKey.entries()].sort((a, b) => b[1].lastModifiedMs - a[1].lastModifiedMs || (a[0] < b[0] ? 1 : -1)).slice(0, limit);
    const stored: StoredEvidence[] = [];
    for (const [key] of newest) {
      const id = key.slice(kind.length + 1, -'.json'.length);
      const entry = await this.#first(kind, id);
      if (entry !== undefined) stored.push(entry);
    }
    return stored;
  }

  async #first(kind: string, id: string): Promise<StoredEvidence | undefined> {
    const versionId = await this.#firstVersion(kind, id);
    if (versionId === undefined) return undefined;
    const head = await this.#vault.headObject(EVIDENCE_BUCKET, keyOf(kind, id), versionId, {});
    const text = await this.#read(keyOf(kind, id), versionId);
    return {
      kind,
      id,
      location: `s3://${EVIDENCE_BUCKET}/${keyOf(kind, id)}?versionId=${versionId}`,
      sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
      storedAtMs: head.lastModifiedMs,
      retainUntilMs: head.retention?.retainUntilMs ?? 0,
    };
  }

  async #firstVersion(kind: string, id: string): Promise<string | undefined> {
    const key = keyOf(kind, id);
    let first: string | undefined;
    let keyMarker = '';
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await this.#vault.listObjectVersions(EVIDENCE_BUCKET, { prefix: key, delimiter: '', keyMarker, versionIdMarker, maxKeys: 1000 });
      for (const version of page.versions) if (version.key === key && !version.isDeleteMarker) first = version.versionId;
      if (!page.isTruncated || page.nextKeyMarker === undefined) return first;
      keyMarker = page.nextKeyMarker;
      versionIdMarker = page.nextVersionIdMarker;
    }
  }

  async #read(key: string, versionId: string): Promise<string> {
    const read = await this.#vault.getObject(EVIDENCE_BUCKET, key, versionId, {}, undefined);
    return (await readAll(read.body)).toString('utf8');
  }
}

function keyOf(kind: string, id: string): string {
  return `${kind}/${id}.json`;
}
