import { type CronExpression, matchesDay } from './cron-expression.js';
import { firstInstantAfterGap, instantsOfLocalMinute, localMinuteOf, offsetAt, offsetsAround } from './zoned-time.js';

/**
 * When a cron schedule next runs in a time zone, across daylight-saving changes:
 *
 * - A local time the spring-forward change skips (02:30 on the last Sunday of March in Berlin)
 *   runs at the first valid minute after the gap (03:00 CEST) — a nightly backup must not
 *   silently lose a night. Several skipped times collapse into that one run.
 * - A local time the fall-back change repeats (02:30 on the last Sunday of October) runs once,
 *   at its first occurrence — the same backup twice an hour apart helps nobody.
 * - Except when the hour field is every hour (`*`, `*\/1`, `0-23`): such a schedule is an interval
 *   ("at :15 and :45"), so it follows real time as Vixie cron does for wildcard jobs — a skipped
 *   local time is simply not there (the interval goes on after the gap), and a repeated hour
 *   runs again in its second pass.
 *
 * Local times are walked in order on a naive calendar (no zone), then mapped to instants. Near
 * a transition the walk starts a few hours before `afterMs` and goes a few hours past the first
 * hit, because there a later local time can be an earlier instant; away from one (the offset is
 * the same a few hours either side) the first local match is the answer.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** Larger than any daylight-saving shift in the tz database (Lord Howe: 30 min; most: 1 h). */
const SHIFT_WINDOW_MS = 3 * HOUR_MS;
/** `0 0 29 2 MON`-like rarities aside, every schedule runs within 8 years (Feb 29 skips 2100). */
/** Two transitions of one zone are never this close (Morocco's Ramadan pauses: about a month). */
const FIXED_OFFSET_SPAN_MS = 7 * 24 * HOUR_MS;
const SEARCH_LIMIT_MS = 9 * 366 * 24 * HOUR_MS;

/** The first run strictly after `afterMs` (ms since the epoch), minute-aligned. */
export function nextRun(expression: CronExpression, afterMs: number, timeZone: string): number {
  const afterLocal = localMinuteOf(afterMs, timeZone);
  // Far from any transition the zone is a fixed offset and the first local match is the answer.
  const first = nextLocalMatch(expression, afterLocal + MINUTE_MS);
  const offset = afterLocal - Math.floor(afterMs / MINUTE_MS) * MINUTE_MS;
  const candidate = first - offset;
  if (candidate - afterMs <= FIXED_OFFSET_SPAN_MS && offsetAt(afterMs - SHIFT_WINDOW_MS, timeZone) === offset && offsetAt(candidate + SHIFT_WINDOW_MS, timeZone) === offset) {
    return candidate;
  }
  // One transition at most is near (see FIXED_OFFSET_SPAN_MS): these offsets cover the walk.
  const offsets = offsetsAround(afterMs, timeZone);
  let best: number | undefined;
  let bestLocal = 0;
  let local = nextLocalMatch(expression, afterLocal - SHIFT_WINDOW_MS);
  for (;;) {
    if (best !== undefined && local > bestLocal + SHIFT_WINDOW_MS) return best;
    for (const instant of runInstants(expression, local, timeZone, offsets)) {
      if (instant > afterMs && (best === undefined || instant < best)) {
        best = instant;
        bestLocal = localMinuteOf(instant, timeZone);
      }
    }
    if (local - afterLocal > SEARCH_LIMIT_MS) throw new Error(`the schedule "${expression.text}" has no run within 9 years`);
    local = nextLocalMatch(expression, local + MINUTE_MS);
  }
}

/** The next `count` runs after `afterMs`. */
export function upcomingRuns(expression: CronExpression, afterMs: number, timeZone: string, count: number): number[] {
  const runs: number[] = [];
  let at = afterMs;
  for (let i = 0; i < count; i++) {
    at = nextRun(expression, at, timeZone);
    runs.push(at);
  }
  return runs;
}

/** The instants a matching local minute runs at (see the rules above). */
function runInstants(expression: CronExpression, local: number, timeZone: string, offsets: ReadonlySet<number>): number[] {
  const instants = instantsOfLocalMinute(local, timeZone, offsets);
  if (expression.everyHour) return instants;
  if (instants.length === 0) return [firstInstantAfterGap(local, timeZone)];
  return [instants[0]!];
}

/** The first local minute at or after `fromLocal` that the fields match (naive calendar). */
export function nextLocalMatch(expression: CronExpression, fromLocal: number): number {
  const d = new Date(Math.ceil(fromLocal / MINUTE_MS) * MINUTE_MS);
  const limit = fromLocal + SEARCH_LIMIT_MS;
  while (d.getTime() <= limit) {
    if (!expression.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!matchesDay(expression, d.getUTCDate(), d.getUTCDay())) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!expression.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!expression.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return d.getTime();
  }
  throw new Error(`the schedule "${expression.text}" has no run within 9 years`);
}
