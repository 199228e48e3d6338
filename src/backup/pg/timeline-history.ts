import { parseLsn } from './wal-position.js';

/**
 * A timeline history file, `TTTTTTTT.history`, written when a cluster starts a new timeline
 * (promotion, or the end of a point-in-time recovery). One line per ancestor, oldest first:
 *
 *   1	0/3000000	no recovery target specified
 *   2	0/5000000	before 2026-11-26 10:00:00+00
 *
 * "timeline 1 ended at 0/3000000 (where timeline 2 began), timeline 2 ended at 0/5000000"; the
 * file's own timeline runs from the last switch point on (src/backend/access/transam/timeline.c,
 * readTimeLineHistory). Comment lines start with '#'.
 */
export interface TimelineSwitch {
  /** The ancestor timeline that ended here. */
  readonly timeline: number;
  /** The first LSN that is no longer on `timeline` (the next timeline begins here). */
  readonly switchLsn: bigint;
}

export class TimelineHistoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimelineHistoryError';
  }
}

export function parseTimelineHistory(text: string, timeline: number): readonly TimelineSwitch[] {
  const switches: TimelineSwitch[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [tli, lsn] = line.split(/\s+/);
    const parent = Number(tli);
    const switchLsn = parseLsn(lsn ?? '');
    if (!Number.isInteger(parent) || parent < 1 || switchLsn === undefined) {
      throw new TimelineHistoryError(`the history file of timeline ${timeline} has a malformed line: ${JSON.stringify(line.slice(0, 120))}`);
    }
    const previous = switches.at(-1);
    // timeline.c: "timeline IDs must be in increasing sequence" and so must their switch points.
    if (parent >= timeline || (previous !== undefined && (parent <= previous.timeline || switchLsn < previous.switchLsn))) {
      throw new TimelineHistoryError(`the history file of timeline ${timeline} is out of order at timeline ${parent}`);
    }
    switches.push(Object.freeze({ timeline: parent, switchLsn }));
  }
  return Object.freeze(switches);
}
