import type { Clock } from '../../infra/clock.js';
import type { SecretFinding, SuppressionState } from './secret-finding.js';

/**
 * A finding may be accepted for a while — a test fixture, a key already revoked, a rotation in
 * progress — but only with a reason, an owner and an expiry date; an expired or incomplete
 * suppression leaves the finding a finding, with a note saying why. Two forms:
 *
 * - inline, on the line of the secret or the line above it:
 *     `holdfast:allow-secret reason="revoked 2031-01-02" owner="ana@example.org" expires=2031-03-01`
 *   (an optional `rule=ID` limits it to one rule);
 * - a baseline file (`--baseline FILE`) of finding fingerprints, which `--write-baseline FILE`
 *   writes from a scan.
 *
 * An expiry date is the last day the suppression holds (UTC): it lapses at the next midnight.
 */
export const INLINE_MARKER = 'holdfast:allow-secret';

const MARKER = /holdfast:allow-secret((?:[ \t]+[a-z]+=(?:"[^"\n]*"|[^\s"]+))*)/;
const ATTRIBUTE = /([a-z]+)=(?:"([^"\n]*)"|([^\s"]+))/g;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A suppression's terms, from a marker or a baseline entry. */
export interface SuppressionTerms {
  readonly reason?: string;
  readonly owner?: string;
  readonly expires?: string;
  readonly rule?: string;
}

/** The instant a suppression expiring on `date` (YYYY-MM-DD) lapses, or undefined when invalid. */
export function expiryInstant(date: string): number | undefined {
  const parts = DATE.exec(date);
  if (parts === null) return undefined;
  const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const start = Date.UTC(year, month - 1, day);
  const check = new Date(start);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  return Date.UTC(year, month - 1, day + 1);
}

/** The marker's terms when `line` holds an inline marker. */
export function parseInlineMarker(line: string): SuppressionTerms | undefined {
  if (!line.includes(INLINE_MARKER)) return undefined;
  const marker = MARKER.exec(line);
  if (marker === null) return {};
  const terms: Record<string, string> = {};
  for (const attribute of (marker[1] ?? '').matchAll(ATTRIBUTE)) terms[attribute[1]!] = attribute[2] ?? attribute[3] ?? '';
  return {
    ...(terms.reason === undefined ? {} : { reason: terms.reason }),
    ...(terms.owner === undefined ? {} : { owner: terms.owner }),
    ...(terms.expires === undefined ? {} : { expires: terms.expires }),
    ...(terms.rule === undefined ? {} : { rule: terms.rule }),
  };
}

/** What a suppression does to a finding now: holds, has expired, or was never valid (and why). */
export function judgeSuppression(kind: SuppressionState['kind'], terms: SuppressionTerms, clock: Clock): { state: SuppressionState; note?: string } {
  const base = {
    kind,
    ...(terms.reason === undefined ? {} : { reason: terms.reason }),
    ...(terms.owner === undefined ? {} : { owner: terms.owner }),
    ...(terms.expires === undefined ? {} : { expires: terms.expires }),
  };
  const missing = (['reason', 'owner', 'expires'] as const).filter((key) => terms[key] === undefined || terms[key].trim() === '');
  const where = kind === 'inline' ? `the ${INLINE_MARKER} marker` : 'the baseline entry';
  if (missing.length > 0) {
    return { state: { ...base, status: 'invalid' }, note: `${where} is ignored: it lacks ${missing.join(', ')} (reason="…" owner="…" expires=YYYY-MM-DD are all required)` };
  }
  const lapses = expiryInstant(terms.expires!);
  if (lapses === undefined) return { state: { ...base, status: 'invalid' }, note: `${where} is ignored: expires=${terms.expires} is not a date (YYYY-MM-DD)` };
  if (clock.nowMs() >= lapses) {
    return { state: { ...base, status: 'expired' }, note: `suppression expired on ${terms.expires} (owner ${terms.owner}; reason: ${terms.reason}); fix the finding or renew the suppression` };
  }
  return { state: { ...base, status: 'active' } };
}

export interface BaselineEntry extends SuppressionTerms {
  readonly fingerprint: string;
  readonly ruleId: string;
  /** Where the secret was when the baseline was written; for people, not for matching. */
  readonly seenAt?: string;
}

export interface Baseline {
  readonly entries: ReadonlyMap<string, BaselineEntry>;
}

/** A baseline file that cannot be used; the message names the entry and the fix. */
export class BaselineFileError extends Error {}

/** Validates a parsed baseline file; entries are keyed by rule id and fingerprint. */
export function parseBaseline(raw: unknown, source: string): Baseline {
  const file = raw as { version?: unknown; suppressions?: unknown };
  if (typeof raw !== 'object' || raw === null || file.version !== 1 || !Array.isArray(file.suppressions)) {
    throw new BaselineFileError(`${source} is not a baseline file: expected {"version": 1, "suppressions": [...]} (write one with --write-baseline).`);
  }
  const entries = new Map<string, BaselineEntry>();
  file.suppressions.forEach((entry: unknown, index) => {
    const item = entry as Record<string, unknown>;
    if (typeof entry !== 'object' || entry === null || typeof item.fingerprint !== 'string' || typeof item.ruleId !== 'string') {
      throw new BaselineFileError(`${source}: suppressions[${index}] needs "fingerprint" and "ruleId" strings.`);
    }
    for (const key of ['reason', 'owner', 'expires', 'seenAt'] as const) {
      if (item[key] !== undefined && typeof item[key] !== 'string') throw new BaselineFileError(`${source}: suppressions[${index}].${key} must be a string.`);
    }
    entries.set(`${item.ruleId}\0${item.fingerprint}`, entry as BaselineEntry);
  });
  return { entries };
}

export function baselineEntryFor(baseline: Baseline | undefined, ruleId: string, fingerprint: string): BaselineEntry | undefined {
  return baseline?.entries.get(`${ruleId}\0${fingerprint}`);
}

/**
 * A baseline accepting `findings` (each secret once) on the given terms, keeping the entries of
 * `previous` for secrets not found again.
 */
export function writeBaselineFile(findings: readonly SecretFinding[], terms: Required<Omit<SuppressionTerms, 'rule'>>, previous?: Baseline): object {
  const entries = new Map<string, BaselineEntry>(previous?.entries ?? []);
  for (const finding of findings) {
    const key = `${finding.ruleId}\0${finding.fingerprint}`;
    if (entries.has(key) && finding.suppression?.kind === 'baseline' && finding.suppression.status === 'active') continue;
    const where = `${finding.location.path}:${finding.location.line}${finding.location.commit === undefined ? '' : ` @ ${finding.location.commit.slice(0, 12)}`}`;
    entries.set(key, { fingerprint: finding.fingerprint, ruleId: finding.ruleId, reason: terms.reason, owner: terms.owner, expires: terms.expires, seenAt: where });
  }
  return { version: 1, suppressions: [...entries.values()] };
}
