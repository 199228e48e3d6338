import type { WalFileName } from './wal-file-name.js';

/**
 * Where WAL lives in a repository (see README.md beside this file):
 *
 *   PREFIX/wal/TTTTTTTT/NAME
 *
 * one folder per timeline (the name's first 8 hex digits), the file under its own name — a
 * `.partial` or `.backup` file keeps its suffix, so it never shadows the full segment. The key is
 * a pure function of the name, so `restore_command` needs one GET, not a listing; and keys sort
 * in WAL order within a timeline, so a listing with `start-after` walks a range.
 *
 * How the object is encoded (compression) is stated in its metadata, not in its key: a later
 * change of codec does not change where a segment is looked for.
 */
export function walObjectKey(prefix: string, file: WalFileName): string {
  return `${walTimelinePrefix(prefix, file.timeline)}${file.name}`;
}

/** `PREFIX/wal/TTTTTTTT/`: the listing prefix of one timeline. */
export function walTimelinePrefix(prefix: string, timeline: string): string {
  return `${walPrefix(prefix)}${timeline}/`;
}

/** `PREFIX/wal/`: the listing prefix of all WAL. */
export function walPrefix(prefix: string): string {
  return prefix === '' ? 'wal/' : `${prefix}/wal/`;
}
