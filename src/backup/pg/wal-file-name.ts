/**
 * The names of the files PostgreSQL hands to `archive_command` and asks `restore_command` for
 * (PostgreSQL 15 docs, "Continuous Archiving and Point-in-Time Recovery", and
 * src/include/access/xlog_internal.h, which defines them):
 *
 * - a WAL segment, `TTTTTTTTXXXXXXXXYYYYYYYY`: timeline, then the segment number as two 8-digit
 *   halves, upper-case hex;
 * - a partial segment, the same plus `.partial`: the last, incomplete segment of a timeline that a
 *   promoted standby archives (XLogArchiveNotify of the ".partial" file at promotion);
 * - a backup history file, `<segment>.<8-hex offset>.backup`, written by pg_backup_stop;
 * - a timeline history file, `TTTTTTTT.history`, written when a new timeline starts.
 *
 * Nothing else may be archived or fetched: an unexpected name is a wrong `%p`/`%f`, not data.
 */

export type WalFileKind = 'segment' | 'partial' | 'backup-history' | 'timeline-history';

export interface WalFileName {
  readonly name: string;
  readonly kind: WalFileKind;
  /** The timeline, as the 8 hex digits that start the name. */
  readonly timeline: string;
}

const PATTERNS: readonly (readonly [WalFileKind, RegExp])[] = [
  ['segment', /^([0-9A-F]{8})[0-9A-F]{16}$/],
  ['partial', /^([0-9A-F]{8})[0-9A-F]{16}\.partial$/],
  ['backup-history', /^([0-9A-F]{8})[0-9A-F]{16}\.[0-9A-F]{8}\.backup$/],
  ['timeline-history', /^([0-9A-F]{8})\.history$/],
];

/** The parsed name, or undefined if PostgreSQL never archives a file by that name. */
export function parseWalFileName(name: string): WalFileName | undefined {
  for (const [kind, pattern] of PATTERNS) {
    const match = pattern.exec(name);
    // Timeline 0 does not exist: timelines start at 1 (xlog.c, BootStrapXLOG).
    if (match !== null && match[1] !== '00000000') return Object.freeze({ name, kind, timeline: match[1]! });
  }
  return undefined;
}

/** Says what a WAL file name looks like, for messages about a name that is not one. */
export const WAL_FILE_NAME_FORMS =
  'a WAL segment (24 hex digits, e.g. 000000010000000000000001), NAME.partial, NAME.XXXXXXXX.backup or TTTTTTTT.history';
