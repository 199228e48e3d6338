import type { BackupCatalog } from '../backup/pg/backup-catalog.js';
import type { BaseBackupResult } from '../backup/pg/base-backup.js';
import type { WalPushResult } from '../backup/pg/wal-archiver.js';
import type { WalFetchResult } from '../backup/pg/wal-fetcher.js';
import type { PointInTimeRestoreResult } from '../backup/pg/point-in-time-restore.js';
import { formatBytes } from './progress-line.js';
import type { PgCommandIo } from './pg-command.js';

/** What each `holdfast pg` verb prints: a table or sentence for people, one JSON document with --json. */

export function reportBackup(result: BaseBackupResult, json: boolean, io: PgCommandIo): void {
  const m = result.manifest;
  if (json) {
    io.stdout(`${JSON.stringify({ outcome: 'complete', manifestKey: result.manifestKey, durationMs: result.durationMs, retained: result.retained, ...m })}\n`);
  } else {
    io.stdout(
      `backup ${m.id} complete in ${(result.durationMs / 1000).toFixed(1)} s: ${m.tarBytes} bytes of tar stored as ${m.compressedBytes} (gzip, ${m.parts.length} part(s)); ` +
        `WAL ${m.startLsn} (${m.startWalSegment}) to ${m.stopLsn} (${m.stopWalSegment}) on timeline ${m.timeline}; manifest ${result.manifestKey}\n`,
    );
  }
  if (!result.retained) {
    io.stderr('holdfast pg backup: warning: the backup is stored without retention, so it can be deleted: give the bucket a default retention (Object Lock) or pass --retain-days.\n');
  }
}

export function reportList(catalog: BackupCatalog, json: boolean, io: PgCommandIo): void {
  const rows = catalog.backups.map((m) => {
    const wal = catalog.wal.find((range) => range.timeline === m.stopWalSegment.slice(0, 8));
    return {
      id: m.id,
      startTime: m.startTime,
      stopTime: m.stopTime,
      timeline: m.timeline,
      startLsn: m.startLsn,
      stopLsn: m.stopLsn,
      startWalSegment: m.startWalSegment,
      stopWalSegment: m.stopWalSegment,
      tarBytes: m.tarBytes,
      compressedBytes: m.compressedBytes,
      pgVersion: m.pgVersion,
      systemIdentifier: m.systemIdentifier,
      walArchived: wal === undefined ? null : { timeline: wal.timeline, firstSegment: wal.firstSegment, lastSegment: wal.lastSegment, segments: wal.segments },
    };
  });
  for (const bad of catalog.invalid) io.stderr(`holdfast pg list: warning: ignoring ${bad.key}: ${bad.problem}\n`);
  if (json) {
    io.stdout(`${JSON.stringify(rows)}\n`);
    return;
  }
  const table = [['BACKUP', 'STARTED', 'STOPPED', 'TL', 'START LSN', 'STOP LSN', 'TAR BYTES', 'STORED BYTES']];
  for (const r of rows) table.push([r.id, r.startTime, r.stopTime, String(r.timeline), r.startLsn, r.stopLsn, String(r.tarBytes), String(r.compressedBytes)]);
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) io.stdout(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`);
  if (rows.length === 0) io.stdout('(no complete backups)\n');
  io.stdout('\nWAL archived:\n');
  for (const range of catalog.wal) io.stdout(`  timeline ${range.timeline}: ${range.firstSegment} … ${range.lastSegment} (${range.segments} segments, newest stored ${range.lastArchivedAt ?? 'at an unknown time'})\n`);
  if (catalog.wal.length === 0) io.stdout('  (none)\n');
}

export function reportPush(result: WalPushResult, json: boolean, io: PgCommandIo): void {
  const retainUntil = result.retainUntilMs === undefined ? null : new Date(result.retainUntilMs).toISOString();
  if (json) {
    const { retainUntilMs: _retainUntilMs, ...rest } = result;
    io.stdout(`${JSON.stringify({ ...rest, retainUntil })}\n`);
  }
  if (result.outcome === 'archived' && retainUntil === null) {
    io.stderr(
      `holdfast pg wal-push: warning: ${result.name} is archived without retention, so it can be deleted: ` +
        'give the bucket a default retention (Object Lock) or pass --retain-days.\n',
    );
  }
}

export function reportFetch(result: WalFetchResult, json: boolean, io: PgCommandIo): void {
  // A missing file is routine during recovery: no message on stderr, where it would fill the log.
  if (json) io.stdout(`${JSON.stringify(result)}\n`);
}


export function reportRestore(result: PointInTimeRestoreResult, into: string, json: boolean, io: PgCommandIo): void {
  const { backup, plan, extracted, settings } = result;
  if (json) {
    io.stdout(
      `${JSON.stringify({
        outcome: 'restored',
        into,
        backup: { id: backup.id, timeline: backup.timeline, startLsn: backup.startLsn, stopLsn: backup.stopLsn, stopTime: backup.stopTime },
        files: extracted.files,
        bytes: extracted.bytes,
        fileCheck: result.fileCheck,
        walRequired: plan.required,
        targetTimeline: plan.targetTimeline,
        walReachableThrough: plan.reachableThrough === undefined ? null : { segment: plan.reachableThrough.name, storedAt: new Date(plan.reachableThrough.lastModifiedMs).toISOString() },
        settings,
        durationMs: result.durationMs,
      })}\n`,
    );
    return;
  }
  const wal = plan.required.map((r) => `timeline ${r.timeline}: ${r.firstSegment} … ${r.lastSegment} (${r.segments})`).join('; ');
  const target = settings['recovery_target_time'] ?? settings['recovery_target_lsn'] ?? settings['recovery_target_name'] ?? settings['recovery_target'];
  io.stdout(
    `restored backup ${backup.id} (timeline ${backup.timeline}, ended ${backup.stopTime}) into ${into}: ${extracted.files} files, ${formatBytes(extracted.bytes)}, ` +
      `checked: ${result.fileCheck}; ${(result.durationMs / 1000).toFixed(1)} s\n` +
      `WAL to replay, all in the archive: ${wal}\n` +
      `recovery: ${target === undefined ? 'to the newest archived WAL, then promote' : `to ${target} (${settings['recovery_target_inclusive'] === 'off' ? 'exclusive' : 'inclusive'}), then ${settings['recovery_target_action']}`}; ` +
      `timeline ${settings['recovery_target_timeline']}; archive_mode off in the copy\n` +
      `next: start it on a free port with the S3 credentials in the server's environment, e.g.\n` +
      `  AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… pg_ctl -D ${into} -o '-p 5433' start\n`,
  );
  if (process.getuid?.() === 0) io.stderr(`holdfast pg restore: the files belong to root; PostgreSQL refuses that: chown -R postgres:postgres ${into}\n`);
}
