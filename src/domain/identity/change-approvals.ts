import { randomBytes } from 'node:crypto';
import { S3Error, s3errors } from '../errors.js';
import type { DefaultRetention, RetentionBounds } from '../object-lock.js';
import type { MetadataStore } from '../ports.js';

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
      const all = this.#expire(await this.#load());
      let request = all.find((r) => r.status === 'pending' && r.requestedBy === requestedBy && sameChange(r.change, change));
      if (request === undefined) {
        if (all.filter((r) => r.status === 'pending').length >= MAX_PENDING) {
          throw s3errors.limitExceeded(`${MAX_PENDING} changes already await approval; approve or cancel some first.`);
        }
        const nowMs = this.#nowMs();
        request = { id: `chg-${randomBytes(6).toString('hex')}`, change, summary, requestedBy, requestedMs: nowMs, expiresMs: nowMs + this.#ttlMs, status: 'pending' };
        all.push(request);
        await this.#save(all);
      }
      const error = s3errors.approvalRequired(
        `${summary} loosens the protection of bucket "${change.bucket}", so it needs a second admin's approval (two-person rule). ` +
          `It is recorded as pending change ${request.id}; another admin approves it with \`holdfast admin approvals approve ${request.id}\`.`,
        request.id,
      );
      return { request, error };
    });
  }

  /** A different admin than the requester approves: the change is applied now. */
  approve(id: string, approver: string): Promise<ChangeRequest> {
    return this.#exclusive(async () => {
      const all = this.#expire(await this.#load());
      const index = all.findIndex((r) => r.id === id);
      const request = all[index];
      if (request === undefined) throw s3errors.noSuchEntity(`The change request ${id}`);
      if (request.status !== 'pending') throw s3errors.invalidRequest(`Change ${id} is ${request.status}, not pending.`);
      if (request.requestedBy === approver) {
        throw s3errors.accessDenied(`Change ${id} was requested by ${approver}; a different admin must approve it (two-person rule).`);
      }
      let decided: ChangeRequest;
      try {
        await this.#apply(request.change);
        decided = { ...request, status: 'approved', decidedBy: approver, decidedMs: this.#nowMs() };
      } catch (error) {
        decided = { ...request, status: 'failed', decidedBy: approver, decidedMs: this.#nowMs(), error: error instanceof Error ? error.message : String(error) };
        all[index] = decided;
        await this.#save(all);
        throw error;
      }
      all[index] = decided;
      await this.#save(all);
      return decided;
    });
  }

  cancel(id: string, by: string): Promise<ChangeRequest> {
    return this.#exclusive(async () => {
      const all = this.#expire(await this.#load());
      const index = all.findIndex((r) => r.id === id);
      const request = all[index];
      if (request === undefined) throw s3errors.noSuchEntity(`The change request ${id}`);
      if (request.status !== 'pending') throw s3errors.invalidRequest(`Change ${id} is ${request.status}, not pending.`);
      const decided: ChangeRequest = { ...request, status: 'cancelled', decidedBy: by, decidedMs: this.#nowMs() };
      all[index] = decided;
      await this.#save(all);
      return decided;
    });
  }

  async #load(): Promise<ChangeRequest[]> {
    const raw = await this.#metadata.getSetting(SETTING);
    return raw === undefined ? [] : (JSON.parse(raw) as ChangeRequest[]);
  }

  async #save(all: ChangeRequest[]): Promise<void> {
    const pending = all.filter((r) => r.status === 'pending');
    const decided = all.filter((r) => r.status !== 'pending').slice(-KEEP_DECIDED);
    await this.#metadata.putSetting(SETTING, JSON.stringify([...decided, ...pending].sort((a, b) => a.requestedMs - b.requestedMs)));
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
