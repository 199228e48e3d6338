import { CONFIG_COMPONENTS, type ConfigComponent } from '../../guard/config/config-item.js';

/**
 * The periodic reviews the Configuration Management Policy asks for: networking (security
 * groups, NACLs) and storage (bucket policies, IAM) "reviewed quarterly", and the policy itself
 * "reviewed annually". Each component is due a fixed number of months after its last sign-off,
 * or — before the first sign-off — after the first baseline was approved (that is when there was
 * first something documented to review).
 */
export type ReviewComponent = ConfigComponent | 'policy';

export const REVIEW_COMPONENTS: readonly ReviewComponent[] = [...CONFIG_COMPONENTS, 'policy'];

/** Months between reviews; undefined = not reviewed on a calendar. */
export type ReviewFrequencies = Readonly<Record<ReviewComponent, number | undefined>>;

const NAMED: Readonly<Record<string, number | undefined>> = { monthly: 1, quarterly: 3, semiannual: 6, annual: 12, never: undefined };

/** Quarterly where the policy says so (network, storage; iam is storage's "Bucket policies, IAM"), annual otherwise. */
export const DEFAULT_REVIEW_FREQUENCIES: ReviewFrequencies = Object.freeze({
  container: 12,
  network: 3,
  dns: 12,
  storage: 3,
  iam: 3,
  environment: 12,
  database: 12,
  policy: 12,
});

/** A review is "due" this long before its date, so someone can plan it. */
export const DUE_SOON_MS = 14 * 24 * 3600 * 1000;

export class ReviewConfigError extends Error {
  override readonly name = 'ReviewConfigError';
}

/**
 * `reviewFrequencies` from the server config: an object of component → "monthly" | "quarterly" |
 * "semiannual" | "annual" | "never" | a whole number of months (1–60). Unnamed components keep
 * their defaults. Errors name the key.
 */
export function parseReviewFrequencies(value: unknown, key = 'reviewFrequencies'): ReviewFrequencies {
  if (value === undefined) return DEFAULT_REVIEW_FREQUENCIES;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ReviewConfigError(`${key} must be an object of component to frequency, e.g. {"dns": "quarterly"}`);
  }
  const result: Record<string, number | undefined> = { ...DEFAULT_REVIEW_FREQUENCIES };
  for (const [component, frequency] of Object.entries(value as Record<string, unknown>)) {
    if (!(REVIEW_COMPONENTS as readonly string[]).includes(component)) {
      throw new ReviewConfigError(`${key}.${component} is not a component; use one of ${REVIEW_COMPONENTS.join(', ')}`);
    }
    if (typeof frequency === 'string' && Object.hasOwn(NAMED, frequency)) result[component] = NAMED[frequency];
    else if (typeof frequency === 'number' && Number.isInteger(frequency) && frequency >= 1 && frequency <= 60) result[component] = frequency;
    else throw new ReviewConfigError(`${key}.${component} = ${JSON.stringify(frequency)} is not a frequency; use monthly, quarterly, semiannual, annual, never, or a number of months from 1 to 60`);
  }
  return Object.freeze(result);
}

export type ReviewStatus = 'ok' | 'due' | 'overdue' | 'not-scheduled';

export interface ReviewStanding {
  readonly component: ReviewComponent;
  readonly frequencyMonths: number | undefined;
  readonly status: ReviewStatus;
  /** The last sign-off, or the first baseline approval the calendar starts from. */
  readonly anchor: { readonly kind: 'sign-off' | 'first-baseline'; readonly atMs: number; readonly by: string } | undefined;
  readonly dueMs: number | undefined;
}

/** Where each component stands at `nowMs`. */
export function reviewStandings(
  frequencies: ReviewFrequencies,
  lastSignOffs: ReadonlyMap<string, { readonly atMs: number; readonly by: string }>,
  firstApproval: { readonly atMs: number; readonly by: string } | undefined,
  nowMs: number,
): ReviewStanding[] {
  return REVIEW_COMPONENTS.map((component) => {
    const months = frequencies[component];
    const signOff = lastSignOffs.get(component);
    const anchor = signOff !== undefined ? { kind: 'sign-off' as const, ...signOff } : firstApproval === undefined ? undefined : { kind: 'first-baseline' as const, ...firstApproval };
    if (months === undefined || anchor === undefined) return { component, frequencyMonths: months, status: 'not-scheduled', anchor, dueMs: undefined };
    const dueMs = addMonthsUtc(anchor.atMs, months);
    const status: ReviewStatus = nowMs >= dueMs ? 'overdue' : nowMs >= dueMs - DUE_SOON_MS ? 'due' : 'ok';
    return { component, frequencyMonths: months, status, anchor, dueMs };
  });
}

/** Calendar months in UTC; the 31st of a month plus one month is the last day of the next. */
export function addMonthsUtc(ms: number, months: number): number {
  const d = new Date(ms);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target.getTime();
}
