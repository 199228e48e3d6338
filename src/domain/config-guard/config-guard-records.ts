import type { AttributeValue, ConfigCollection, ConfigComponent, ConfigItem } from '../../guard/config/config-item.js';
import type { ItemDifference } from './config-diff.js';

/**
 * What the configuration guard keeps: baselines, drift checks, change requests and review
 * sign-offs. Plain JSON records (the store keeps them as documents), identities by name.
 */

export interface Decision {
  readonly by: string;
  readonly atMs: number;
  readonly comment?: string;
}

/** Where an evidence copy of a record is kept (compliance-locked, see evidence-archive.ts). */
export interface EvidenceRef {
  readonly location: string;
  readonly sha256: string;
}

/**
 * proposed → approved (by someone other than the proposer) → superseded (when a newer baseline
 * is approved); or proposed → rejected. Approved and superseded baselines are the history.
 */
export type BaselineStatus = 'proposed' | 'approved' | 'rejected' | 'superseded';

export type BaselineOrigin =
  | { readonly kind: 'capture' }
  /** Made by applying an approved change request to the baseline `basedOn`. */
  | { readonly kind: 'change-request'; readonly changeId: string; readonly basedOn: string; readonly appliedBy: string };

export interface Baseline {
  readonly id: string;
  readonly status: BaselineStatus;
  readonly proposedBy: string;
  readonly proposedMs: number;
  readonly origin: BaselineOrigin;
  readonly itemCount: number;
  /** itemsDigest of the items. */
  readonly digest: string;
  readonly collectedAt: string;
  readonly inputs: ConfigCollection['inputs'];
  readonly items: readonly ConfigItem[];
  readonly decision?: Decision;
  readonly supersededBy?: string;
  readonly supersededMs?: number;
  readonly evidence?: EvidenceRef;
}

/** An item's difference from the baseline, as a drift check keeps it. */
export interface DriftItem extends ItemDifference {
  /** When a check first saw this item drift from this baseline (kept across checks). */
  readonly firstSeenMs: number;
  /** The approved change request whose target state this drift matches; absent = unexplained. */
  readonly coveredBy?: string;
}

export interface DriftCheck {
  readonly id: string;
  readonly checkedMs: number;
  readonly checkedBy: string;
  readonly baselineId: string;
  readonly collectedAt: string;
  readonly itemCount: number;
  readonly digest: string;
  readonly items: readonly DriftItem[];
  readonly summary: { readonly added: number; readonly removed: number; readonly changed: number; readonly explained: number; readonly unexplained: number };
}

export type ChangeRisk = 'low' | 'medium' | 'high';

/** The state a change request will leave one resource in; `target` null removes it. */
export interface ExpectedChange {
  readonly component: ConfigComponent;
  readonly resourceId: string;
  readonly target: { readonly kind: string; readonly source?: string; readonly attributes: { readonly [key: string]: AttributeValue } } | null;
}

/** proposed → approved | rejected (by someone other than the proposer) → applied (approved only). */
export type ChangeStatus = 'proposed' | 'approved' | 'rejected' | 'applied';

export interface ChangeReview extends Decision {
  readonly decision: 'approve' | 'reject';
}

export interface ChangeRequestRecord {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly risk: ChangeRisk;
  readonly expected: readonly ExpectedChange[];
  readonly status: ChangeStatus;
  readonly proposedBy: string;
  readonly proposedMs: number;
  /** The approved baseline when it was proposed (its diff is shown against it). */
  readonly baselineId: string | undefined;
  /**
   * The diff the change will cause: that baseline (none: no items) against the same baseline with
   * the targets set, attribute by attribute, as drift reports it; what a reviewer approves. Absent
   * on requests recorded before it was kept.
   */
  readonly diff?: readonly ItemDifference[];
  readonly reviews: readonly ChangeReview[];
  readonly applied?: { readonly by: string; readonly atMs: number; readonly baselineId: string; readonly explainedDrift: readonly string[] };
}

export interface ReviewSignOff {
  readonly id: string;
  readonly component: string;
  readonly signedBy: string;
  readonly signedMs: number;
  readonly notes: string;
  /** The approved baseline at the time, if any: what was reviewed. */
  readonly baselineId: string | undefined;
  readonly evidence?: EvidenceRef;
}
