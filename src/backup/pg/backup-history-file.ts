import type { S3Client } from '../../infra/s3-client/s3-client.js';
import type { BackupRepositoryLocation } from './backup-repository.js';
import { walTimelinePrefix } from './wal-archive-layout.js';
import { parseWalFileName } from './wal-file-name.js';
import { readArchivedWalText } from './wal-archive-listing.js';
import type { RepositoryKey } from './repository-key.js';
import { parseLsn } from './wal-position.js';

/**
 * The backup history file pg_backup_stop writes and archives (`<segment>.<offset>.backup`,
 * src/backend/access/transam/xlog.c, do_pg_backup_stop): "KEY: value" lines, among them
 *
 *   START WAL LOCATION: 0/5000028 (file 000000010000000000000005)
 *   STOP WAL LOCATION: 0/5000100 (file 000000010000000000000005)
 *   LABEL: holdfast 20261126T090000Z-0a1b2c
 *   START TIMELINE: 1
 *   STOP TIMELINE: 1
 *
 * It is PostgreSQL's own record of where a backup's WAL starts and ends, and it is in the archive
 * only after the backup ended, so a backup takes its range from here rather than from the
 * output of pg_basebackup (which prints no LSNs when it does not stream WAL itself).
 */
export interface BackupHistory {
  readonly label: string;
  readonly startLsn: string;
  readonly stopLsn: string;
  readonly startTimeline: number;
  readonly stopTimeline: number;
}

export function parseBackupHistoryFile(text: string): BackupHistory | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2).trim());
  }
  const location = (name: string) => /^([0-9A-F]+\/[0-9A-F]+) \(file [0-9A-F]{24}\)$/.exec(fields.get(name) ?? '')?.[1];
  const startLsn = location('START WAL LOCATION');
  const stopLsn = location('STOP WAL LOCATION');
  const startTimeline = Number(fields.get('START TIMELINE'));
  const stopTimeline = Number(fields.get('STOP TIMELINE'));
  const label = fields.get('LABEL');
  if (startLsn === undefined || stopLsn === undefined || label === undefined || parseLsn(startLsn) === undefined || parseLsn(stopLsn) === undefined) return undefined;
  if (!Number.isInteger(startTimeline) || startTimeline < 1 || !Number.isInteger(stopTimeline) || stopTimeline < 1) return undefined;
  return Object.freeze({ label, startLsn, stopLsn, startTimeline, stopTimeline });
}

/**
 * The archived history file of the backup labelled `label`, looked for among the `.backup` files
 * of `timeline` after segment `fromSegment` (the segment current before the backup started; its
 * start is at or after it). Undefined while it is not archived yet.
 */
export async function findArchivedBackupHistory(
  client: S3Client,
  location: BackupRepositoryLocation,
  timeline: string,
  fromSegment: string,
  label: string,
  encryption?: RepositoryKey,
): Promise<{ readonly name: string; readonly history: BackupHistory } | undefined> {
  const folder = walTimelinePrefix(location.prefix, timeline);
  // start-after is exclusive; "<segment>.<offset>.backup" sorts after "<segment>".
  const startAfter = `${folder}${fromSegment}`;
  for await (const object of client.listObjects({ bucket: location.bucket, prefix: folder, startAfter })) {
    const name = object.key.slice(folder.length);
    if (parseWalFileName(name)?.kind !== 'backup-history' || object.size > MAX_HISTORY_FILE_BYTES) continue;
    const history = parseBackupHistoryFile((await readArchivedWalText(client, location, name, encryption)) ?? '');
    if (history?.label === label) return { name, history };
  }
  return undefined;
}

const MAX_HISTORY_FILE_BYTES = 64 * 1024;
