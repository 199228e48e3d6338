/**
 * Wall-clock time in an IANA time zone, through Intl.DateTimeFormat (the tz database Node ships
 * with). A "local minute" is represented as the UTC milliseconds of the same calendar fields —
 * `Date.UTC(y, m, d, h, min)` — so calendar arithmetic on it needs no time zone at all.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

export class TimeZoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeZoneError';
  }
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
      });
    } catch {
      throw new TimeZoneError(`"${timeZone}" is not a time zone this Node.js knows; use an IANA name such as Europe/Berlin, America/New_York or UTC`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws TimeZoneError unless the zone is known. Returns the zone's canonical spelling. */
export function checkTimeZone(timeZone: string): string {
  return formatter(timeZone).resolvedOptions().timeZone;
}

/** The local minute (as naive UTC ms) of an instant, seconds dropped. */
export function localMinuteOf(instantMs: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(Math.floor(instantMs / 60_000) * 60_000));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)!.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
}

/** The zone's offset from UTC (ms) at an instant: local minus UTC. */
export function offsetAt(instantMs: number, timeZone: string): number {
  const minute = Math.floor(instantMs / 60_000) * 60_000;
  return localMinuteOf(minute, timeZone) - minute;
}

const DAY_MS = 24 * 3600 * 1000;

/** The offsets in force a day either side of a time: they cover every transition that could touch it. */
export function offsetsAround(ms: number, timeZone: string): ReadonlySet<number> {
  return new Set([offsetAt(ms - DAY_MS, timeZone), offsetAt(ms, timeZone), offsetAt(ms + DAY_MS, timeZone)]);
}

/**
 * The instants at which the wall clock of the zone shows a local minute: one normally, two in a
 * repeated (fall-back) hour, none in a skipped (spring-forward) gap. Sorted.
 */
export function instantsOfLocalMinute(localMs: number, timeZone: string, offsets: ReadonlySet<number> = offsetsAround(localMs, timeZone)): number[] {
  const instants = new Set<number>();
  for (const offset of offsets) {
    const candidate = localMs - offset;
    if (localMinuteOf(candidate, timeZone) === localMs) instants.add(candidate);
  }
  return [...instants].sort((a, b) => a - b);
}

/**
 * For a local minute inside a spring-forward gap: the first instant after the gap, i.e. the
 * instant whose wall clock shows the next valid minute (03:00 for a skipped 02:30 in Berlin).
 */
export function firstInstantAfterGap(localMs: number, timeZone: string): number {
  // Before the gap the clock reads earlier than localMs, after it later; find the switch.
  let low = localMs - Math.max(...[offsetAt(localMs - DAY_MS, timeZone), offsetAt(localMs + DAY_MS, timeZone)]);
  let high = localMs - Math.min(...[offsetAt(localMs - DAY_MS, timeZone), offsetAt(localMs + DAY_MS, timeZone)]);
  if (localMinuteOf(low, timeZone) > localMs) low -= DAY_MS;
  if (localMinuteOf(high, timeZone) < localMs) high += DAY_MS;
  // Invariant: local(low) < localMs < local(high); minutes between them.
  while (high - low > 60_000) {
    const mid = low + Math.floor((high - low) / 120_000) * 60_000;
    if (localMinuteOf(mid, timeZone) < localMs) low = mid;
    else high = mid;
  }
  return high;
}
