import { randomBytes } from 'node:crypto';
import { S3Error, s3errors } from '../errors.js';
import type { DefaultRetention, RetentionBounds } from '../object-lock.js';
import type { MetadataStore } from '../ports.js';
import { updateSetting } from '../setting-compare-and-set.js';

/**
 * Changes that loosen protection, held until a second admin approves them (two-person rule).
 * The policy asks that backups cannot be weakened by one person: raising a bucket's maximum or
 * lowering its minimum retention bound, unflagging a protected bucket, and removing or shortening
 * a protected bucket's default retention each need a different admin's approval.
 */
export type ProtectedChange =
  | { readonly kind: 'retention-bounds'; readonly bucket: string; readonly bounds: RetentionBounds | undefined }
  | { readonly kind: 'bucket-protection'; readonly bucket: string; readonly protected: false }
  | { readonly kind: 'default-retention'; readonly bucket: string; readonly defaultRetention: DefaultRetention | undefined };

export type ChangeStatus = 'pending' | 'approved' | 'cancelled' | 'expired' | 'failed';

export interface ChangeRequest {
  readonly id: string;
  readonly change: ProtectedChange;
  readonly summary: string;
  readonly requestedBy: string;
  readonly requestedMs: number;
  readonly expiresMs: number;
  readonly status: ChangeStatus;
  readonly decidedBy?: string;
  readonly decidedMs?: number;
  readonly error?: string;
}

/** Applies an approved change; supplied by the composition root (it knows the services). */
export type ChangeApplier = (change: ProtectedChange) => Promise<void>;

const SETTING = 'change-requests';
const DEFAULT_TTL_MS = 7 * 24 * 3600 * 1000;
/** Decided requests kept for review; the audit log holds the full history. */
const KEEP_DECIDED = 500;
const MAX_PENDING = 200;
/** Compare-and-set rounds before giving up (each lost round means another node's decision landed). */
const MAX_UPDATE_ATTEMPTS = 20;

export class ChangeApprovals {
  readonly #metadata: MetadataStore;
  readonly #nowMs: () => number;
  readonly #apply: ChangeApplier;
  readonly #ttlMs: number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(metadata: MetadataStore, nowMs: () => number, apply: ChangeApplier, ttlMs = DEFAULT_TTL_MS) {
    this.#metadata = metadata;
    this.#nowMs = nowMs;
    this.#apply = apply;
    this.#ttlMs = ttlMs;
  }

  async list(): Promise<ChangeRequest[]> {
    return this.#expire(await this.#load());
  }

  async get(id: string): Promise<ChangeRequest> {
    const found = (await this.list()).find((r) => r.id === id);
    if (found === undefined) throw s3errors.noSuchEntity(`The change request ${id}`);
    return found;
  }

  /**
   * Records the change as pending and returns the error to answer the requester with: the
   * change id and the approval step. An identical pending request by the same person is reused.
   */
  propose(change: ProtectedChange, summary: string, requestedBy: string): Promise<{ request: ChangeRequest; error: S3Error }> {
    return this.#exclusive(async () => {
      const request = await this.#update((all) => {
        const existing = all.find((r) => r.status === 'pending' && r.requestedBy === requestedBy && sameChange(r.change, change));
        if (existing !== undefined) return { all: undefined, result: existing };
        if (all.filter((r) => r.status === 'pending').length >= MAX_PENDING) {
          throw s3errors.limitExceeded(`${MAX_PENDING} changes already await approval; approve or cancel some first.`);
        }
        const nowMs = this.#nowMs();
        const created: ChangeRequest = { id: `chg-${randomBytes(6).toString('hex')}`, change, summary, requestedBy, requestedMs: nowMs, expiresMs: nowMs + this.#ttlMs, status: 'pending' };
        return { all: [...all, created], result: created };
      });
      const error = s3errors.approvalRequired(
        `${summary} loosens the protection of bucket "${change.bucket}", so it needs a second admin's approval (two-person rule). ` +
          `It is recorded as pending change ${request.id}; another admin approves it with \`holdfast admin approvals approve ${request.id}\`.`,
        request.id,
      );
      return { request, error };
    });
  }

  /**
   * A different admin than the requester approves: the change is applied now. The request is
   * claimed (marked approved) before the change is applied, so that of two admins deciding at
   * once — on two cluster nodes, say one approving and one cancelling — exactly one decides,
   * and a change is never applied under a request that ends up cancelled.
   */
  approve(id: string, approver: string): Promise<ChangeRequest> {
    return this.#exclusive(async () => {
      const claimed = await this.#update((all) => {
        const index = all.findIndex((r) => r.id === id);
        const request = all[index];
        if (request === undefined) throw s3errors.noSuchEntity(`The change request ${id}`);
        if (request.status !== 'pending') throw s3errors.invalidRequest(`Change ${id} is ${request.status}, not pending.`);
        if (request.requestedBy === approver) {
          throw s3errors.accessDenied(`Change ${id} was requested by ${approver}; a different admin must approve it (two-person rule).`);
        }
        const decided: ChangeRequest = { ...request, status: 'approved', decidedBy: approver, decidedMs: this.#nowMs() };
        return { all: all.map((r, i) => (i === index ? decided : r)), result: decided };
      });
      try {
        await this.#apply(claimed.change);
      } catch (error) {
        const failed: ChangeRequest = { ...claimed, status: 'failed', error: error instanceof Error ? error.message : String(error) };
        await this.#update((all) => ({ all: all.map((r) => (r.id === id ? failed : r)), result: undefined }));
        throw error;
      }
      return claimed;
    });
  }

  cancel(id: string, by: string): Promise<ChangeRequest> {
    return this.#exclusive(() =>
      this.#update((all) => {
        const index = all.findIndex((r) => r.id === id);
        const request = all[index];
        if (request === undefined) throw s3errors.noSuchEntity(`The change request ${id}`);
        if (request.status !== 'pending') throw s3errors.invalidRequest(`Change ${id} is ${request.status}, not pending.`);
        const decided: ChangeRequest = { ...request, status: 'cancelled', decidedBy: by, decidedMs: this.#nowMs() };
        return { all: all.map((r, i) => (i === index ? decided : r)), result: decided };
      }),
    );
  }

  /**
   * Read-modify-write of the stored requests by compare-and-set, so processes sharing the
   * metadata store (cluster nodes) never overwrite each other's proposals or decisions: `mutate`
   * sees the stored list (expired ones marked) and returns the new list, or undefined to store
   * nothing; on a lost race it runs again on the newer list.
   */
  #update<T>(mutate: (all: ChangeRequest[]) => { all: ChangeRequest[] | undefined; result: T }): Promise<T> {
    return updateSetting(
      this.#metadata,
      SETTING,
      (raw) => {
        const { all, result } = mutate(this.#expire(raw === undefined ? [] : (JSON.parse(raw) as ChangeRequest[])));
        return { next: all === undefined ? undefined : serialize(all), result };
      },
      { attempts: MAX_UPDATE_ATTEMPTS, contended: () => s3errors.serviceUnavailable('Change requests are being decided by other nodes; try again.') },
    );
  }

  async #load(): Promise<ChangeRequest[]> {
    const raw = await this.#metadata.getSetting(SETTING);
    return raw === undefined ? [] : (JSON.parse(raw) as ChangeRequest[]);
  }

  #expire(all: ChangeRequest[]): ChangeRequest[] {
    const nowMs = this.#nowMs();
    return all.map((r) => (r.status === 'pending' && r.expiresMs <= nowMs ? { ...r, status: 'expired' as const } : r));
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** Pending requests all, decided ones the newest KEEP_DECIDED, in request order. */
function serialize(all: readonly ChangeRequest[]): string {
  const pending = all.filter((r) => r.status === 'pending');
  const decided = all.filter((r) => r.status !== 'pending').slice(-KEEP_DECIDED);
  return JSON.stringify([...decided, ...pending].sort((a, b) => a.requestedMs - b.requestedMs));
}

function sameChange(a: ProtectedChange, b: ProtectedChange): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** True when `next` bounds allow retention the `current` bounds did not (a longer max or a shorter min). */
export function loosensBounds(current: RetentionBounds | undefined, next: RetentionBounds | undefined): boolean {
  if (current === undefined) return false;
  const maxLoosened = current.maxDays !== undefined && (next?.maxDays === undefined || next.maxDays > current.maxDays);
  const minLoosened = current.minDays !== undefined && (next?.minDays === undefined || next.minDays < current.minDays);
  return maxLoosened || minLoosened;
}

function retentionDays(rule: DefaultRetention): number {
  return 'days' in rule && rule.days !== undefined ? rule.days : (rule.years ?? 0) * 365;
}

/**
 * True when a new default retention protects less than the current one: removed, shorter, or
 * COMPLIANCE weakened to GOVERNANCE.
 */
export function weakensDefaultRetention(current: DefaultRetention | undefined, next: DefaultRetention | undefined): boolean {
  if (current === undefined) return false;
  if (next === undefined) return true;
  if (current.mode === 'COMPLIANCE' && next.mode !== 'COMPLIANCE') return true;
  return retentionDays(next) < retentionDays(current);
}
