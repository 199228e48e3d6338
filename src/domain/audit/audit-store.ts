import { type AuditEntry, type AuditHead, type AuditResult, GENESIS_HASH } from './audit-entry.js';

/**
 * Where audit entries are kept: SQLite in the embedded deployment; a PostgreSQL implementation
 * can follow with the same contract (audit-store-contract.ts runs against each).
 *
 * Chains: one store holds one chain, named by `chain` (the node's id). In a scale-out
 * deployment each vault node writes its own chain, so no two processes ever race for the next
 * seq; a shared PostgreSQL table would key rows by (chain, seq) and give each node a store bound
 * to its chain. The chain id is not part of an entry's hash: checkpoints sign (chain, seq, hash),
 * which binds a history to its node.
 */
export interface AuditStore {
  /** The chain this store holds. */
  readonly chain: string;

  /**
   * Appends contiguous entries (seq ascending by one, each prevHash the previous entry's hash)
   * in one transaction: all or none, durable when it resolves.
   *
   * The first entry MUST continue the stored head (seq = head.seq + 1 and prevHash = head.hash;
   * seq 1 and GENESIS_HASH on an empty store), except that leading entries already stored with
   * the same seq and hash MUST be skipped, so that a retry after an ambiguous failure (the
   * commit landed, its acknowledgement did not) is harmless. Anything else MUST throw
   * AuditChainConflict and store nothing: it means a second writer on the chain, or a store
   * changed under a running log.
   */
  append(entries: readonly AuditEntry[]): Promise<void>;

  /** The entry with the highest seq, as stored (not verified), or undefined when empty. */
  head(): Promise<AuditHead | undefined>;

  /**
   * Up to `limit` entries with seq >= fromSeq, ascending by seq. MUST return rows exactly as
   * stored, however damaged (no validation, no repair, no skipping): verification depends on it.
   */
  read(fromSeq: number, limit: number): Promise<readonly AuditEntry[]>;

  /**
   * Entries matching every given condition of `filter`, ascending by seq. MUST use bounded
   * memory however many entries match (page internally) and MUST NOT block appends while the
   * consumer is slow.
   */
  scan(filter: AuditFilter): AsyncIterable<AuditEntry>;

  close(): Promise<void>;
}

/** Conditions of an export; all optional, all must hold. */
export interface AuditFilter {
  /** timeMs >= fromMs. */
  readonly fromMs?: number | undefined;
  /** timeMs < toMs. */
  readonly toMs?: number | undefined;
  readonly identity?: string | undefined;
  /** action equals this. */
  readonly action?: string | undefined;
  /** action starts with this (case-sensitive), e.g. 'admin:' or 'Put'. */
  readonly actionPrefix?: string | undefined;
  readonly result?: AuditResult | undefined;
  /** resource is this bucket or an object in it ('bucket' or 'bucket/…'). */
  readonly bucket?: string | undefined;
}

/** Whether `entry` satisfies `filter`; the reference semantics that every store's scan must match. */
export function auditFilterMatches(filter: AuditFilter, entry: AuditEntry): boolean {
  if (filter.fromMs !== undefined && entry.timeMs < filter.fromMs) return false;
  if (filter.toMs !== undefined && entry.timeMs >= filter.toMs) return false;
  if (filter.identity !== undefined && entry.identity !== filter.identity) return false;
  if (filter.action !== undefined && entry.action !== filter.action) return false;
  if (filter.actionPrefix !== undefined && !entry.action.startsWith(filter.actionPrefix)) return false;
  if (filter.result !== undefined && entry.result !== filter.result) return false;
  if (filter.bucket !== undefined && entry.resource !== filter.bucket && !entry.resource.startsWith(`${filter.bucket}/`)) return false;
  return true;
}

/** The store refused an append that does not continue its chain; nothing was stored. */
export class AuditChainConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditChainConflict';
  }
}

/** Chain ids are node ids: short, printable, safe in file names, object keys and log lines. */
export function assertValidChainId(chain: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(chain)) {
    throw new Error(`audit chain id ${JSON.stringify(chain.slice(0, 140))} is invalid: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

/**
 * Checks that `entries` can be appended after `head` (the contract of AuditStore.append), for
 * implementations to call inside their transaction. `storedHash(seq)` reads one stored hash.
 * Returns how many leading entries are already stored (to be skipped).
 */
export function checkAppend(
  chain: string,
  head: AuditHead | undefined,
  entries: readonly AuditEntry[],
  storedHash: (seq: number) => string | undefined,
): number {
  const headSeq = head?.seq ?? 0;
  let skip = 0;
  while (skip < entries.length && entries[skip]!.seq <= headSeq) {
    const entry = entries[skip]!;
    if (storedHash(entry.seq) !== entry.hash) {
      throw new AuditChainConflict(`audit chain ${chain}: entry ${entry.seq} is already stored with a different hash (another writer, or the store was changed under the running log)`);
    }
    skip += 1;
  }
  let previous: AuditHead | undefined = skip > 0 ? entries[skip - 1] : head;
  for (let i = skip; i < entries.length; i += 1) {
    const entry = entries[i]!;
    const expectedSeq = (previous?.seq ?? 0) + 1;
    const expectedPrev = previous?.hash ?? GENESIS_HASH;
    if (entry.seq !== expectedSeq || entry.prevHash !== expectedPrev) {
      throw new AuditChainConflict(`audit chain ${chain}: entry ${entry.seq} does not continue entry ${expectedSeq - 1} (stored head ${headSeq})`);
    }
    previous = entry;
  }
  return skip;
}
