import { randomBytes } from 'node:crypto';
import type { ConfigCollection } from '../../guard/config/config-item.js';
import { configItemKey } from '../../guard/config/config-item.js';
import type { NewSecurityAlert } from '../alerts/security-alert.js';
import { securityAlerts } from '../alerts/security-alerts.js';
import { s3errors } from '../errors.js';
import type { EvidenceArchive } from '../evidence/evidence-archive.js';
import { diffItems, itemsDigest } from './config-diff.js';
import type { Baseline, ChangeRequestRecord, ChangeRisk, DriftCheck, DriftItem, ExpectedChange, ReviewSignOff } from './config-guard-records.js';
import { type ConfigGuardRecordKind, type ConfigGuardStore, type StoredRecord } from './config-guard-store.js';
import { applyExpectedChanges, coveringChange } from './expected-changes.js';
import { REVIEW_COMPONENTS, type ReviewFrequencies, type ReviewStanding, reviewStandings } from './review-calendar.js';

export interface ConfigGuardOptions {
  readonly store: ConfigGuardStore;
  readonly evidence: EvidenceArchive;
  readonly nowMs: () => number;
  readonly frequencies: ReviewFrequencies;
  /** Raises a security alert through the vault's alerts (never throws). */
  readonly raise: (alert: NewSecurityAlert) => void;
}

/** Evidence kinds in holdfast-system-evidence. */
export const BASELINE_EVIDENCE = 'config-baselines';
export const SIGN_OFF_EVIDENCE = 'config-review-sign-offs';

/** Baselines hold every item: listing them in bulk is bounded. */
const HISTORY_SCAN_LIMIT = 1000;

/**
 * The configuration guard's state machine: documented baselines approved by a second person,
 * drift from the approved baseline with a timeline, change requests reviewed by someone other
 * than their author, and the review calendar. Every decision that needs two people refuses the
 * proposer (AccessDenied); every approved baseline and review sign-off is also written to the
 * evidence archive, where nobody can rewrite it.
 *
 * Records change by compare-and-set (see ConfigGuardStore), so two nodes sharing one PostgreSQL
 * store cannot both decide the same request; within one process the steps run one at a time.
 */
export class ConfigGuard {
  readonly #o: ConfigGuardOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ConfigGuardOptions) {
    this.#o = options;
  }

  // ---- baselines ----

  captureBaseline(collection: ConfigCollection, actor: string): Promise<Baseline> {
    return this.#exclusive(async () => {
      const nowMs = this.#o.nowMs();
      const baseline: Baseline = {
        id: newId('bl', nowMs),
        status: 'proposed',
        proposedBy: actor,
        proposedMs: nowMs,
        origin: { kind: 'capture' },
        itemCount: collection.items.length,
        digest: itemsDigest(collection.items),
        collectedAt: collection.collectedAt,
        inputs: collection.inputs,
        items: collection.items,
      };
      await this.#o.store.insert('baseline', baseline.id, nowMs, baseline);
      return baseline;
    });
  }

  /** Two-person rule: the proposer cannot approve their own baseline. */
  approveBaseline(id: string, actor: string, comment: string | undefined): Promise<Baseline> {
    return this.#exclusive(async () => {
      const { record, body } = await this.#baselineRecord(id);
      if (body.status !== 'proposed') throw s3errors.invalidRequest(`Baseline ${id} is ${body.status}, not proposed; only a proposed baseline can be approved.`);
      if (body.proposedBy === actor) {
        throw s3errors.accessDenied(`Baseline ${id} was proposed by ${actor}; a different identity must approve it (two-person rule). Ask another admin to run \`holdfast baseline approve ${id}\`.`);
      }
      const previous = await this.currentBaseline();
      const approved: Baseline = { ...body, status: 'approved', decision: { by: actor, atMs: this.#o.nowMs(), ...(comment === undefined ? {} : { comment }) } };
      return this.#installApproved(record, approved, previous);
    });
  }

  rejectBaseline(id: string, actor: string, comment: string | undefined): Promise<Baseline> {
    return this.#exclusive(async () => {
      const { record, body } = await this.#baselineRecord(id);
      if (body.status !== 'proposed') throw s3errors.invalidRequest(`Baseline ${id} is ${body.status}, not proposed.`);
      const rejected: Baseline = { ...body, status: 'rejected', decision: { by: actor, atMs: this.#o.nowMs(), ...(comment === undefined ? {} : { comment }) } };
      await this.#update('baseline', record, rejected);
      return rejected;
    });
  }

  async getBaseline(id: string): Promise<Baseline> {
    if (id === 'current') {
      const current = await this.currentBaseline();
      if (current === undefined) throw noApprovedBaseline();
      return current;
    }
    return (await this.#baselineRecord(id)).body;
  }

  /** Newest first. */
  async listBaselines(limit: number): Promise<Baseline[]> {
    return (await this.#o.store.list('baseline', { limit })).map((r) => r.body as Baseline);
  }

  async currentBaseline(): Promise<Baseline | undefined> {
    const all = await this.listBaselines(HISTORY_SCAN_LIMIT);
    return all.filter((b) => b.status === 'approved').sort((a, b) => (b.decision?.atMs ?? 0) - (a.decision?.atMs ?? 0))[0];
  }

  // ---- drift ----

  checkDrift(collection: ConfigCollection, actor: string): Promise<DriftCheck> {
    return this.#exclusive(async () => {
      const baseline = await this.currentBaseline();
      if (baseline === undefined) throw noApprovedBaseline();
      const nowMs = this.#o.nowMs();
      const differences = diffItems(baseline.items, collection.items);
      const seen = await this.#o.store.markSeen(`drift:${baseline.id}`, differences.map((d) => seenKey(d)), nowMs);
      const approved = (await this.listChanges(HISTORY_SCAN_LIMIT)).filter((c) => c.status === 'approved');
      const current = new Map(collection.items.map((item) => [configItemKey(item), item]));
      const items: DriftItem[] = differences.map((d) => {
        const coveredBy = coveringChange(d, current.get(d.key), approved);
        return { ...d, firstSeenMs: seen.get(seenKey(d))?.firstSeenMs ?? nowMs, ...(coveredBy === undefined ? {} : { coveredBy }) };
      });
      const unexplained = items.filter((i) => i.coveredBy === undefined);
      const check: DriftCheck = {
        id: newId('dc', nowMs),
        checkedMs: nowMs,
        checkedBy: actor,
        baselineId: baseline.id,
        collectedAt: collection.collectedAt,
        itemCount: collection.items.length,
        digest: itemsDigest(collection.items),
        items,
        summary: {
          added: items.filter((i) => i.difference === 'added').length,
          removed: items.filter((i) => i.difference === 'removed').length,
          changed: items.filter((i) => i.difference === 'changed').length,
          explained: items.length - unexplained.length,
          unexplained: unexplained.length,
        },
      };
      await this.#o.store.insert('drift-check', check.id, nowMs, check);
      if (unexplained.length > 0) {
        this.#o.raise(securityAlerts.configDrift({ checkId: check.id, baselineId: baseline.id, checkedBy: actor, unexplained, explained: check.summary.explained }));
      }
      return check;
    });
  }

  /** The drift timeline, newest first. */
  async driftHistory(limit: number): Promise<DriftCheck[]> {
    return (await this.#o.store.list('drift-check', { limit })).map((r) => r.body as DriftCheck);
  }

  // ---- change requests ----

  proposeChange(input: { title: string; description: string; risk: ChangeRisk; expected: readonly ExpectedChange[] }, actor: string): Promise<ChangeRequestRecord> {
    return this.#exclusive(async () => {
      const nowMs = this.#o.nowMs();
      const baseline = await this.currentBaseline();
      const before = baseline?.items ?? [];
      const request: ChangeRequestRecord = {
        id: newId('cr', nowMs),
        title: input.title,
        description: input.description,
        risk: input.risk,
        expected: input.expected,
        status: 'proposed',
        proposedBy: actor,
        proposedMs: nowMs,
        baselineId: baseline?.id,
        diff: diffItems(before, applyExpectedChanges(before, input.expected)),
        reviews: [],
      };
      await this.#o.store.insert('change-request', request.id, nowMs, request);
      return request;
    });
  }

  /** Peer review: approve or reject, by someone other than the proposer, with a comment. */
  reviewChange(id: string, actor: string, decision: 'approve' | 'reject', comment: string): Promise<ChangeRequestRecord> {
    return this.#exclusive(async () => {
      const { record, body } = await this.#changeRecord(id);
      if (body.status !== 'proposed') throw s3errors.invalidRequest(`Change request ${id} is ${body.status}; only a proposed change can be reviewed.`);
      if (body.proposedBy === actor) {
        throw s3errors.accessDenied(`Change request ${id} was proposed by ${actor}; a different identity must review it (peer review). Ask another admin to run \`holdfast changes review ${id}\`.`);
      }
      const reviewed: ChangeRequestRecord = {
        ...body,
        status: decision === 'approve' ? 'approved' : 'rejected',
        reviews: [...body.reviews, { by: actor, atMs: this.#o.nowMs(), decision, comment }],
      };
      await this.#update('change-request', record, reviewed);
      return reviewed;
    });
  }

  /**
   * Makes an approved change part of the baseline: the new approved baseline is the current one
   * with the request's target states, approved by the request's reviewer, and stored as evidence.
   * The drift of the latest check that the request explains is recorded as approved with it.
   */
  applyChange(id: string, actor: string): Promise<{ change: ChangeRequestRecord; baseline: Baseline }> {
    return this.#exclusive(async () => {
      const { record, body } = await this.#changeRecord(id);
      if (body.status !== 'approved') throw s3errors.invalidRequest(`Change request ${id} is ${body.status}; only an approved change can be applied.`);
      const current = await this.currentBaseline();
      if (current === undefined) throw noApprovedBaseline();
      const nowMs = this.#o.nowMs();
      const review = body.reviews.findLast((r) => r.decision === 'approve')!;
      const items = applyExpectedChanges(current.items, body.expected);
      const next: Baseline = {
        id: newId('bl', nowMs),
        status: 'approved',
        proposedBy: body.proposedBy,
        proposedMs: body.proposedMs,
        origin: { kind: 'change-request', changeId: id, basedOn: current.id, appliedBy: actor },
        itemCount: items.length,
        digest: itemsDigest(items),
        collectedAt: current.collectedAt,
        inputs: current.inputs,
        items,
        decision: { by: review.by, atMs: nowMs, comment: `change request ${id} (${body.title}) reviewed ${new Date(review.atMs).toISOString()}: ${review.comment ?? ''}`.trim() },
      };
      const [latest] = await this.driftHistory(1);
      const explainedDrift = latest === undefined || latest.baselineId !== current.id ? [] : latest.items.filter((i) => i.coveredBy === id).map((i) => `${i.component} ${i.resourceId}`);
      const applied: ChangeRequestRecord = { ...body, status: 'applied', applied: { by: actor, atMs: nowMs, baselineId: next.id, explainedDrift } };
      // The request is marked first: if that loses a race, no baseline was made from it.
      await this.#update('change-request', record, applied);
      await this.#o.store.insert('baseline', next.id, nowMs, next);
      const inserted = await this.#o.store.get('baseline', next.id);
      try {
        return { change: applied, baseline: await this.#installApproved(inserted!, next, current) };
      } catch (error) {
        // The baseline could not be stored as evidence (and was marked rejected): the request
        // goes back to approved, so applying it can be retried.
        await this.#o.store.update('change-request', id, record.revision + 1, body);
        throw error;
      }
    });
  }

  async getChange(id: string): Promise<ChangeRequestRecord> {
    return (await this.#changeRecord(id)).body;
  }

  async listChanges(limit: number): Promise<ChangeRequestRecord[]> {
    return (await this.#o.store.list('change-request', { limit })).map((r) => r.body as ChangeRequestRecord);
  }

  // ---- reviews ----

  async reviewsDue(): Promise<ReviewStanding[]> {
    const signOffs = (await this.#o.store.list('review-sign-off', { limit: HISTORY_SCAN_LIMIT })).map((r) => r.body as ReviewSignOff);
    const last = new Map<string, { atMs: number; by: string }>();
    for (const s of signOffs) {
      const known = last.get(s.component);
      if (known === undefined || known.atMs < s.signedMs) last.set(s.component, { atMs: s.signedMs, by: s.signedBy });
    }
    const approvals = (await this.listBaselines(HISTORY_SCAN_LIMIT)).flatMap((b) => (b.decision !== undefined && (b.status === 'approved' || b.status === 'superseded') ? [b.decision] : []));
    const first = approvals.sort((a, b) => a.atMs - b.atMs)[0];
    return reviewStandings(this.#o.frequencies, last, first === undefined ? undefined : { atMs: first.atMs, by: first.by }, this.#o.nowMs());
  }

  async signOff(component: string, actor: string, notes: string): Promise<ReviewSignOff> {
    if (!(REVIEW_COMPONENTS as readonly string[]).includes(component)) {
      throw s3errors.invalidArgument(`"${component}" is not a reviewed component; use one of ${REVIEW_COMPONENTS.join(', ')}.`, 'component', component);
    }
    return this.#exclusive(async () => {
      const nowMs = this.#o.nowMs();
      const draft: ReviewSignOff = { id: newId('rs', nowMs), component, signedBy: actor, signedMs: nowMs, notes, baselineId: (await this.currentBaseline())?.id };
      const stored = await this.#o.evidence.put(SIGN_OFF_EVIDENCE, draft.id, { format: 'holdfast-review-sign-off/1', ...draft, signedAt: new Date(nowMs).toISOString() });
      const signOff: ReviewSignOff = { ...draft, evidence: { location: stored.location, sha256: stored.sha256 } };
      await this.#o.store.insert('review-sign-off', signOff.id, nowMs, signOff);
      return signOff;
    });
  }

  /**
   * The periodic check: alerts once for each overdue review (per due date), so a review that
   * stays overdue does not alert on every run, and one overdue again next period alerts again.
   */
  async alertOverdueReviews(): Promise<ReviewStanding[]> {
    const nowMs = this.#o.nowMs();
    const overdue = (await this.reviewsDue()).filter((s) => s.status === 'overdue');
    const seen = await this.#o.store.markSeen('review-overdue', overdue.map((s) => `${s.component}@${s.dueMs}`), nowMs);
    const alerted: ReviewStanding[] = [];
    for (const standing of overdue) {
      if (seen.get(`${standing.component}@${standing.dueMs}`)?.isNew !== true) continue;
      this.#o.raise(
        securityAlerts.configReviewOverdue({
          component: standing.component,
          dueMs: standing.dueMs!,
          frequencyMonths: standing.frequencyMonths!,
          lastReviewMs: standing.anchor!.atMs,
          lastReviewKind: standing.anchor!.kind,
          nowMs,
        }),
      );
      alerted.push(standing);
    }
    return alerted;
  }

  // ---- internals ----

  /** Approves `next` (stored as `record`), stores its evidence, and supersedes `previous`. */
  async #installApproved(record: StoredRecord, next: Baseline, previous: Baseline | undefined): Promise<Baseline> {
    const approvedRevision = await this.#update('baseline', record, next);
    let stored;
    try {
      stored = await this.#o.evidence.put(BASELINE_EVIDENCE, next.id, baselineEvidence(next));
    } catch (error) {
      // No approval without its evidence: undo the decision, so it can be retried.
      const undo: Baseline = next.origin.kind === 'capture' ? { ...next, status: 'proposed' } : { ...next, status: 'rejected', decision: { by: 'system', atMs: this.#o.nowMs(), comment: 'evidence could not be stored' } };
      await this.#o.store.update('baseline', next.id, approvedRevision, withoutDecision(undo));
      throw error;
    }
    const withEvidence: Baseline = { ...next, evidence: { location: stored.location, sha256: stored.sha256 } };
    await this.#o.store.update('baseline', next.id, approvedRevision, withEvidence);
    if (previous !== undefined && previous.id !== next.id) {
      const old = await this.#o.store.get('baseline', previous.id);
      if (old !== undefined) await this.#update('baseline', old, { ...(old.body as Baseline), status: 'superseded', supersededBy: next.id, supersededMs: next.decision?.atMs ?? this.#o.nowMs() });
    }
    return withEvidence;
  }

  async #baselineRecord(id: string): Promise<{ record: StoredRecord; body: Baseline }> {
    const record = await this.#o.store.get('baseline', id);
    if (record === undefined) throw s3errors.noSuchEntity(`Baseline ${id}`);
    return { record, body: record.body as Baseline };
  }

  async #changeRecord(id: string): Promise<{ record: StoredRecord; body: ChangeRequestRecord }> {
    const record = await this.#o.store.get('change-request', id);
    if (record === undefined) throw s3errors.noSuchEntity(`Change request ${id}`);
    return { record, body: record.body as ChangeRequestRecord };
  }

  /** Compare-and-set; returns the new revision. */
  async #update(kind: ConfigGuardRecordKind, record: StoredRecord, body: unknown): Promise<number> {
    if (!(await this.#o.store.update(kind, record.id, record.revision, body))) {
      throw s3errors.invalidRequest(`${kind} ${record.id} was changed by another request at the same time; look at it again and retry.`);
    }
    return record.revision + 1;
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function withoutDecision(baseline: Baseline): Baseline {
  if (baseline.status !== 'proposed') return baseline;
  const { decision: _, ...rest } = baseline;
  return rest;
}

function seenKey(d: { component: string; resourceId: string }): string {
  return `${d.component}/${d.resourceId}`;
}

function noApprovedBaseline() {
  return s3errors.invalidRequest('There is no approved baseline yet. Capture one with `holdfast baseline capture --items FILE` and have a second admin approve it.');
}

/** `bl-20310601T120000Z-1a2b3c`: sortable by time, readable in a terminal, valid as an evidence id. */
function newId(prefix: string, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return `${prefix}-${stamp}-${randomBytes(3).toString('hex')}`;
}

function baselineEvidence(baseline: Baseline): Record<string, unknown> {
  return {
    format: 'holdfast-config-baseline/1',
    id: baseline.id,
    proposedBy: baseline.proposedBy,
    proposedAt: new Date(baseline.proposedMs).toISOString(),
    approvedBy: baseline.decision?.by,
    approvedAt: baseline.decision === undefined ? undefined : new Date(baseline.decision.atMs).toISOString(),
    comment: baseline.decision?.comment,
    origin: baseline.origin,
    digest: baseline.digest,
    itemCount: baseline.itemCount,
    collectedAt: baseline.collectedAt,
    inputs: baseline.inputs,
    items: baseline.items,
  };
}
