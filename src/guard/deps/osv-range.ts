import type { OsvAffected, OsvEvent, OsvRange } from './osv-record.js';
import { SEMVER_SCHEME, type VersionScheme } from './versions/ecosystem-versions.js';

/**
 * Whether a version is affected, per the OSV schema's evaluation algorithm
 * (https://ossf.github.io/osv-schema/#evaluation): listed in `versions`, or inside a range whose
 * events, sorted by version, leave it vulnerable — `introduced` inclusive, `fixed` exclusive,
 * `last_affected` inclusive, and below at least one `limit` when there are any. SEMVER ranges
 * compare by SemVer; ECOSYSTEM ranges by the ecosystem's own ordering; GIT ranges need the
 * repository's commit graph and are left to the `versions` list (which OSV.dev fills in).
 */
export interface AffectedMatch {
  /** The `fixed` versions above the installed one that end a range it is in (lowest first). */
  readonly fixedIn: readonly string[];
  /** Set when the range ends in `last_affected` instead: a version after it is unaffected. */
  readonly lastAffected?: string;
  readonly via: 'versions' | 'range';
}

interface SortableEvent {
  readonly kind: keyof OsvEvent;
  readonly version: string;
}

/** Among equal versions, an introduction comes first, so `introduced: X, fixed: X` is empty. */
const KIND_ORDER: Readonly<Record<keyof OsvEvent, number>> = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 };

function compareEventVersions(scheme: VersionScheme, a: SortableEvent, b: SortableEvent): number | undefined {
  const zeroA = a.kind === 'introduced' && a.version === '0';
  const zeroB = b.kind === 'introduced' && b.version === '0';
  if (zeroA || zeroB) return zeroA && zeroB ? 0 : zeroA ? -1 : 1;
  return scheme.compare(a.version, b.version);
}

/** `v >= event` etc. for one event: "0" is below every version, a limit of "*" above every one. */
function compareTo(scheme: VersionScheme, version: string, event: SortableEvent): number | undefined {
  if (event.kind === 'introduced' && event.version === '0') return 1;
  if (event.kind === 'limit' && event.version.includes('*')) return -1;
  return scheme.compare(version, event.version);
}

function sortableEvents(range: OsvRange): SortableEvent[] {
  return range.events.flatMap((event) => {
    const kind = (Object.keys(event) as Array<keyof OsvEvent>)[0];
    return kind === undefined ? [] : [{ kind, version: event[kind]! }];
  });
}

function matchRange(version: string, range: OsvRange, ecosystemScheme: VersionScheme): AffectedMatch | undefined {
  const scheme = range.type === 'SEMVER' ? SEMVER_SCHEME : range.type === 'ECOSYSTEM' ? ecosystemScheme : undefined;
  if (scheme === undefined) return undefined;
  const all = sortableEvents(range);
  const limits = all.filter((event) => event.kind === 'limit');
  if (limits.length > 0 && !limits.some((limit) => compareTo(scheme, version, limit) === -1)) return undefined;
  const timeline = all.filter((event) => event.kind !== 'limit');
  // A range with an event this ordering cannot read is skipped rather than guessed at.
  let unreadable = false;
  timeline.sort((a, b) => {
    const order = compareEventVersions(scheme, a, b);
    if (order === undefined) unreadable = true;
    return order || KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  });
  if (unreadable) return undefined;
  let vulnerable = false;
  for (const event of timeline) {
    const order = compareTo(scheme, version, event);
    if (order === undefined) return undefined;
    if (event.kind === 'introduced' && order >= 0) vulnerable = true;
    else if (event.kind === 'fixed' && order >= 0) vulnerable = false;
    else if (event.kind === 'last_affected' && order > 0) vulnerable = false;
  }
  if (!vulnerable) return undefined;
  const fixedIn = timeline.filter((event) => event.kind === 'fixed' && compareTo(scheme, version, event)! < 0).map((event) => event.version);
  const lastAffected = timeline.find((event) => event.kind === 'last_affected' && compareTo(scheme, version, event)! <= 0)?.version;
  return { fixedIn: fixedIn.slice(0, 1), via: 'range', ...(lastAffected === undefined ? {} : { lastAffected }) };
}

/** How `version` of the package is affected by this entry, or undefined when it is not. */
export function matchAffected(version: string, affected: OsvAffected, scheme: VersionScheme): AffectedMatch | undefined {
  const byRange = affected.ranges.map((range) => matchRange(version, range, scheme)).find((match) => match !== undefined);
  if (byRange !== undefined) return byRange;
  if (!affected.versions.includes(version)) return undefined;
  // Listed explicitly (e.g. under a GIT range): the fix is the lowest `fixed` above it, if any range names one.
  const fixed = affected.ranges
    .filter((range) => range.type !== 'GIT')
    .flatMap((range) => range.events.flatMap((event) => (event.fixed === undefined ? [] : [event.fixed])))
    .filter((candidate) => (scheme.compare(candidate, version) ?? 0) > 0)
    .sort((a, b) => scheme.compare(a, b) ?? 0);
  return { fixedIn: fixed.slice(0, 1), via: 'versions' };
}
