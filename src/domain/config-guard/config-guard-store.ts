/**
 * Where the configuration guard keeps its records: SQLite in the server's metadata directory
 * (DATA/metadata/config-guard.sqlite) or PostgreSQL when configured. Records are JSON documents
 * of a few kinds; the contract suite (config-guard-store-contract.ts) runs against each.
 *
 * Contract for implementations:
 * - `insert` MUST be durable when it resolves and MUST refuse (ConfigGuardConflictError) an id
 *   already stored for that kind; a stored record starts at revision 1.
 * - `update` MUST replace the body only when the stored revision equals `expectedRevision`
 *   (compare-and-set), bump the revision by one and resolve true; otherwise change nothing and
 *   resolve false. Several server nodes may share one PostgreSQL store: this is what keeps two
 *   approvals of one request from both succeeding.
 * - `list` MUST return records newest first (by `atMs`, then id descending), at most `limit`.
 * - `markSeen` MUST, atomically, keep the first-seen time of keys already present in the scope,
 *   add the missing ones at `nowMs` (isNew true), and forget the scope's keys not given.
 * - Bodies MUST round-trip unchanged as JSON.
 */
export type ConfigGuardRecordKind = 'baseline' | 'change-request' | 'drift-check' | 'review-sign-off';

export interface StoredRecord {
  readonly id: string;
  readonly atMs: number;
  readonly revision: number;
  readonly body: unknown;
}

export interface SeenKey {
  readonly firstSeenMs: number;
  readonly isNew: boolean;
}

export interface ConfigGuardStore {
  insert(kind: ConfigGuardRecordKind, id: string, atMs: number, body: unknown): Promise<void>;
  get(kind: ConfigGuardRecordKind, id: string): Promise<StoredRecord | undefined>;
  list(kind: ConfigGuardRecordKind, options?: { readonly limit?: number }): Promise<StoredRecord[]>;
  update(kind: ConfigGuardRecordKind, id: string, expectedRevision: number, body: unknown): Promise<boolean>;
  markSeen(scope: string, keys: readonly string[], nowMs: number): Promise<Map<string, SeenKey>>;
  close(): Promise<void>;
}

export class ConfigGuardConflictError extends Error {
  override readonly name = 'ConfigGuardConflictError';
}

export const DEFAULT_LIST_LIMIT = 100;
