import { randomBytes } from 'node:crypto';

/**
 * A base backup's id: the UTC time it started, to the second, and a short random suffix —
 * `20261126T090000Z-3f9a1c`. Ids sort by start time (listing order is age order), read as a time
 * without a catalog, and two backups started in the same second (two hosts, a retried command)
 * still get different keys, so no backup object is ever overwritten.
 */
export type BackupId = string;

const BACKUP_ID = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-([0-9a-f]{6})$/;

export function newBackupId(nowMs: number, random: (bytes: number) => Buffer = randomBytes): BackupId {
  const stamp = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll('-', '').replaceAll(':', '');
  return `${stamp}-${random(3).toString('hex')}`;
}

export function isBackupId(text: string): boolean {
  return backupIdTimeMs(text) !== undefined;
}

/** The start time an id encodes (ms since the epoch), or undefined for a text that is no id. */
export function backupIdTimeMs(text: string): number | undefined {
  const match = BACKUP_ID.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March: such a text is not an id we wrote.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi) return undefined;
  return ms;
}
