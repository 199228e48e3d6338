import type { BackupId } from './backup-id.js';

/**
 * Where base backups live in a repository (see README.md beside this file):
 *
 *   PREFIX/backups/<backup-id>/base.tar.gz.part-00001   the gzip stream of the tar, in parts
 *   PREFIX/backups/<backup-id>/manifest.json            written last: the commit point
 *
 * Every key is new for each backup (the id has a random suffix) and written create-only, so
 * nothing under `backups/` is ever overwritten; a folder without `manifest.json` is a backup
 * that never completed and is ignored.
 */
export function backupsPrefix(prefix: string): string {
  return prefix === '' ? 'backups/' : `${prefix}/backups/`;
}

export function backupFolder(prefix: string, id: BackupId): string {
  return `${backupsPrefix(prefix)}${id}/`;
}

export const MANIFEST_NAME = 'manifest.json';

export function backupManifestKey(prefix: string, id: BackupId): string {
  return `${backupFolder(prefix, id)}${MANIFEST_NAME}`;
}

/** Part numbers start at 1 and have five digits, so keys sort in part order up to 99999 parts. */
export function basePartKey(prefix: string, id: BackupId, partNumber: number): string {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 99_999) throw new RangeError(`part number must be 1..99999, got ${partNumber}`);
  return `${backupFolder(prefix, id)}base.tar.gz.part-${String(partNumber).padStart(5, '0')}`;
}
