import type { KeyObject } from 'node:crypto';
import { type AuditCheckpoint, checkpointProblem } from './audit-checkpoint.js';
import { type AuditEntry, type AuditHead, GENESIS_HASH, isGapMarker } from './audit-entry.js';
import type { AuditStore } from './audit-store.js';
import { auditEntryHash } from './canonical-encoding.js';

export type AuditProblemKind =
  | 'edited'
  | 'deleted'
  | 'reordered'
  | 'truncated'
  | 'bad-checkpoint-signature'
  | 'checkpoint-mismatch'
  | 'gap-marker';

export interface AuditProblem {
  readonly kind: AuditProblemKind;
  /** The position (seq) the problem is at. */
  readonly seq: number;
  readonly message: string;
}

export interface AuditVerification {
  /** No problem of any kind: every entry intact, in place, covered checkpoints matching, no gap markers. */
  readonly ok: boolean;
  readonly chain: string;
  readonly entriesChecked: number;
  /** The last entry read, as stored. */
  readonly head: AuditHead | undefined;
  /** Checkpoints of this chain with a valid signature. */
  readonly checkpointsChecked: number;
  /** Sorted by position; at most `maxProblems`. */
  readonly problems: readonly AuditProblem[];
  /** Problems found beyond `maxProblems`, counted but not listed. */
  readonly problemsOmitted: number;
}

export interface VerifyAuditLogOptions {
  /** Entries read per store call (memory stays bounded by this, not by the log's length). */
  readonly pageSize?: number;
  readonly maxProblems?: number;
  /** How far (in positions) to look for where a misplaced entry was written. */
  readonly reorderWindow?: number;
}

/**
 * Verifies a chain from its first entry, streaming, and checks it against signed checkpoints.
 *
 * What each problem means:
 * - edited: an entry's content no longer matches its hash; or its content and hash were both
 *   rewritten, which the next entry's prevHash (still committing to the old hash) reveals.
 * - deleted: positions missing from the sequence.
 * - reordered: an entry sits at a position it was not written at (its hash matches its content
 *   only with another seq, looked for within `reorderWindow`), or links to an entry other than
 *   its predecessor.
 * - truncated: a valid checkpoint covers entries beyond the end of the log.
 * - checkpoint-mismatch: a valid checkpoint names a hash the stored entry at its seq does not
 *   have (or that entry is missing). This is what catches a consistent rewrite: someone with the
 *   data directory who edits an entry and recomputes every later hash leaves a chain that is
 *   internally perfect, but cannot re-sign the locked checkpoints.
 * - bad-checkpoint-signature: a checkpoint of this chain that the public key does not verify
 *   (forged, or signed with another key); it is then not used as evidence.
 * - gap-marker: the log itself recorded that it dropped entries (buffer overflow).
 *
 * Limits: history after the latest checkpoint is protected by the chain alone, so removing the
 * newest entries, or rewriting them consistently, is detectable only once a checkpoint covers
 * them; the checkpoint interval bounds that window. Checkpoints of other chains are ignored.
 */
export async function verifyAuditLog(
  store: AuditStore,
  checkpoints: readonly AuditCheckpoint[],
  publicKey: KeyObject,
  options: VerifyAuditLogOptions = {},
): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? 1000;
  const maxProblems = options.maxProblems ?? 1000;
  const window = options.reorderWindow ?? 256;
  const problems: AuditProblem[] = [];
  let omitted = 0;
  const add = (kind: AuditProblemKind, seq: number, message: string) => {
    if (problems.length < maxProblems) problems.push({ kind, seq, message });
    else omitted += 1;
  };

  const pending = new Map<number, AuditCheckpoint[]>();
  let checkpointsChecked = 0;
  for (const checkpoint of checkpoints) {
    if (checkpoint.chain !== store.chain) continue;
    const problem = checkpointProblem(checkpoint, publicKey);
    if (problem !== undefined) {
      add('bad-checkpoint-signature', Number.isSafeInteger(checkpoint.seq) ? checkpoint.seq : 0, `${problem} (checkpoint of entry ${checkpoint.seq} dated ${iso(checkpoint.timeMs)}); it is not used as evidence`);
      continue;
    }
    checkpointsChecked += 1;
    pending.set(checkpoint.seq, [...(pending.get(checkpoint.seq) ?? []), checkpoint]);
  }

  let expectedSeq = 1;
  let prev: { seq: number; hash: string; flagged: boolean } | undefined;
  /** Stored hash → position of the last `window` entries, to tell a reordering from an edit. */
  const recent = new Map<string, number>();
  /** The highest position where a checkpoint matched: history up to it is proven. */
  let provenUpTo = 0;
  let entriesChecked = 0;

  for await (const entry of readInOrder(store, pageSize)) {
    entriesChecked += 1;
    if (entry.seq < expectedSeq) {
      add('reordered', entry.seq, `entry ${entry.seq} appears after entry ${expectedSeq - 1}`);
      continue;
    }
    const gap = entry.seq > expectedSeq;
    if (gap) {
      const missing = entry.seq - expectedSeq;
      add('deleted', expectedSeq, missing === 1 ? `entry ${expectedSeq} is missing` : `entries ${expectedSeq} to ${entry.seq - 1} are missing (${missing} entries)`);
    }

    let flagged = false;
    if (auditEntryHash(entry) !== entry.hash) {
      flagged = true;
      const writtenAt = problems.length < maxProblems ? positionWrittenAt(entry, window) : undefined;
      if (writtenAt !== undefined) {
        const hint = writtenAt > entry.seq ? ' (were earlier entries deleted and the rest renumbered?)' : '';
        add('reordered', entry.seq, `position ${entry.seq} holds the entry written as entry ${writtenAt}${hint}`);
      } else {
        add('edited', entry.seq, `entry ${entry.seq} was changed: its content no longer matches its hash`);
      }
    } else if (!gap) {
      const expectedPrev = prev === undefined ? GENESIS_HASH : prev.hash;
      if (entry.prevHash !== expectedPrev) {
        const linkedTo = recent.get(entry.prevHash);
        if (prev === undefined) {
          add('edited', entry.seq, `entry ${entry.seq} does not start the chain: its prevHash is not the genesis hash`);
        } else if (prev.flagged) {
          // The problem reported at the predecessor already explains the broken link.
        } else if (linkedTo !== undefined) {
          add('reordered', entry.seq, `entry ${entry.seq} follows entry ${linkedTo} in the chain, not entry ${prev.seq}`);
        } else {
          add('edited', prev.seq, `entry ${prev.seq} was rewritten together with its hash: entry ${entry.seq} commits to a different hash (or entry ${entry.seq}'s link was changed)`);
        }
      }
    }

    for (const checkpoint of pending.get(entry.seq) ?? []) {
      if (checkpoint.hash === entry.hash) {
        provenUpTo = Math.max(provenUpTo, entry.seq);
      } else {
        const since = provenUpTo > 0 ? `after entry ${provenUpTo} (the last checkpoint that matches) ` : '';
        add(
          'checkpoint-mismatch',
          entry.seq,
          `the checkpoint signed ${iso(checkpoint.timeMs)} says entry ${entry.seq} has hash ${short(checkpoint.hash)}, the store has ${short(entry.hash)}: ` +
            `history ${since}up to entry ${entry.seq} was rewritten`,
        );
      }
    }
    pending.delete(entry.seq);

    if (!flagged && isGapMarker(entry)) {
      const details = entry.details ?? {};
      add('gap-marker', entry.seq, `the server dropped ${String(details.dropped)} audit entries before this one (between ${iso(details.firstDroppedMs)} and ${iso(details.lastDroppedMs)}) because its audit buffer was full`);
    }

    recent.set(entry.hash, entry.seq);
    if (recent.size > window) recent.delete(recent.keys().next().value!);
    prev = { seq: entry.seq, hash: entry.hash, flagged };
    expectedSeq = entry.seq + 1;
  }

  const lastSeq = prev?.seq ?? 0;
  let beyond: AuditCheckpoint | undefined;
  for (const [seq, list] of pending) {
    for (const checkpoint of list) {
      if (seq > lastSeq) {
        if (beyond === undefined || seq > beyond.seq) beyond = checkpoint;
      } else {
        add('checkpoint-mismatch', seq, `the checkpoint signed ${iso(checkpoint.timeMs)} covers entry ${seq}, which is missing`);
      }
    }
  }
  if (beyond !== undefined) {
    add(
      'truncated',
      lastSeq + 1,
      `the log ends at entry ${lastSeq}, but the checkpoint signed ${iso(beyond.timeMs)} covers entries up to ${beyond.seq}: ` +
        `at least ${beyond.seq - lastSeq} entries were removed from the end`,
    );
  }

  problems.sort((a, b) => a.seq - b.seq);
  return {
    ok: problems.length === 0 && omitted === 0,
    chain: store.chain,
    entriesChecked,
    head: prev === undefined ? undefined : { seq: prev.seq, hash: prev.hash },
    checkpointsChecked,
    problems,
    problemsOmitted: omitted,
  };
}

/** Every stored entry in seq order, one page in memory at a time. */
async function* readInOrder(store: AuditStore, pageSize: number): AsyncGenerator<AuditEntry> {
  let from = 1;
  while (true) {
    const page = await store.read(from, pageSize);
    if (page.length === 0) return;
    yield* page;
    const last = page[page.length - 1]!.seq;
    if (last < from) throw new Error(`the audit store returned entry ${last} when asked for entries from ${from}`);
    if (page.length < pageSize) return;
    from = last + 1;
  }
}

/** The seq, near its current one, under which an entry's content matches its hash; undefined if none. */
function positionWrittenAt(entry: AuditEntry, window: number): number | undefined {
  for (let distance = 1; distance <= window; distance += 1) {
    for (const seq of [entry.seq - distance, entry.seq + distance]) {
      if (seq >= 1 && auditEntryHash({ ...entry, seq }) === entry.hash) return seq;
    }
  }
  return undefined;
}

function iso(ms: unknown): string {
  return typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

function short(hash: string): string {
  return `${hash.slice(0, 16)}…`;
}
