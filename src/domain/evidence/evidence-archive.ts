/**
 * Evidence records (backup job runs, restore drills, approved configuration baselines, review
 * sign-offs, ...) kept where nobody can rewrite them: the policy's "the history of drills cannot
 * be rewritten" holds only if the record outlives every identity's permissions, root included.
 *
 * Contract for implementations:
 * - `put` MUST be durable when it resolves and MUST refuse (EvidenceConflictError) to replace a
 *   record already stored under the same kind and id with different content; storing identical
 *   content again is a no-op, so a retried write is safe.
 * - `get` MUST return the first stored content of a record, never a later one.
 * - Records are JSON objects; implementations store them as UTF-8 JSON followed by a newline.
 */
export interface EvidenceArchive {
  put(kind: EvidenceKind, id: string, record: EvidenceRecord): Promise<StoredEvidence>;
  get(kind: EvidenceKind, id: string): Promise<EvidenceRecord | undefined>;
  /** Newest first, at most `limit` (default 100). */
  list(kind: EvidenceKind, options?: { readonly limit?: number }): Promise<readonly StoredEvidence[]>;
}

/** Lower-case words and dashes: the first path segment of the record's key. */
export type EvidenceKind = string;

export type EvidenceRecord = { readonly [key: string]: unknown };

export interface StoredEvidence {
  readonly kind: EvidenceKind;
  readonly id: string;
  /** Where it is kept, e.g. `s3://holdfast-system-evidence/drills/ID.json` (version id when known). */
  readonly location: string;
  readonly sha256: string;
  readonly storedAtMs: number;
  readonly retainUntilMs: number;
}

export class EvidenceConflictError extends Error {
  override readonly name = 'EvidenceConflictError';
}

const KIND = /^[a-z][a-z0-9-]{0,62}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Refuses kinds and ids that could escape their key prefix or collide after normalization. */
export function checkEvidenceName(kind: string, id: string): void {
  if (!KIND.test(kind)) throw new Error(`evidence kind ${JSON.stringify(kind)} must be lower-case letters, digits and dashes`);
  if (!ID.test(id) || id.includes('..')) throw new Error(`evidence id ${JSON.stringify(id)} must be letters, digits, '.', '_' and '-' (no '..')`);
}
