import type { BackupCatalog } from '../backup/pg/backup-catalog.js';
import type { BaseBackupResult } from '../backup/pg/base-backup.js';
import type { WalPushResult } from '../backup/pg/wal-archiver.js';
import type { WalFetchResult } from '../backup/pg/wal-fetcher.js';
import type { PointInTimeRestoreResult } from '../backup/pg/point-in-time-restore.js';
import type { DrillRecord } from '../backup/pg/restore-drill.js';
import { type BackupRepositoryLocation, formatRepositoryLocation } from '../backup/pg/backup-repository.js';
import type { BackupOverview, RepositoryOverview } from '../backup/pg/repository-overview.js';
import type { RepositoryVerification } from '../backup/pg/repository-verification.js';
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
  if (result.outcome === 'restored' && (result.laterVersions ?? 0) > 0) {
    io.stderr(
      `holdfast pg wal-fetch: warning: ${result.name} has ${result.laterVersions} later version(s) written over the archived one; the archived (first) version was restored. ` +
        'Something with write access to the repository wrote under an archived name: find out what (holdfast pg verify lists every such key).\n',
    );
  }
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

function table(rows: readonly (readonly string[])[], io: PgCommandIo): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) io.stdout(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`);
}

function backupJson(b: BackupOverview): Record<string, unknown> {
  const m = b.manifest;
  return {
    id: m.id,
    label: m.label,
    startTime: m.startTime,
    stopTime: m.stopTime,
    timeline: m.timeline,
    startLsn: m.startLsn,
    stopLsn: m.stopLsn,
    startWalSegment: m.startWalSegment,
    stopWalSegment: m.stopWalSegment,
    pgVersion: m.pgVersion,
    systemIdentifier: m.systemIdentifier,
    tarBytes: m.tarBytes,
    compressedBytes: m.compressedBytes,
    parts: m.parts.length,
    restorableToLatest: b.restorableToLatest,
    targetTimeline: b.targetTimeline,
    walRequired: b.walRequired,
    missingWal: b.missingWal,
    missingWalCount: b.missingWalCount,
    planProblem: b.planProblem ?? null,
  };
}

function newestSegment(overview: RepositoryOverview): { name: string; storedAt: string } | undefined {
  let newest: { name: string; ms: number } | undefined;
  for (const segments of overview.catalog.listing.segments.values()) {
    const last = segments.at(-1);
    if (last !== undefined && (newest === undefined || last.lastModifiedMs > newest.ms)) newest = { name: last.name, ms: last.lastModifiedMs };
  }
  return newest === undefined ? undefined : { name: newest.name, storedAt: new Date(newest.ms).toISOString() };
}

export function reportShow(overview: RepositoryOverview, location: BackupRepositoryLocation, backupId: string | undefined, json: boolean, io: PgCommandIo): void {
  for (const bad of overview.catalog.invalid) io.stderr(`holdfast pg show: warning: ignoring ${bad.key}: ${bad.problem}\n`);
  for (const problem of overview.historyProblems) io.stderr(`holdfast pg show: warning: ${problem}\n`);
  const newest = newestSegment(overview);
  if (backupId !== undefined) {
    const b = overview.backups.find((candidate) => candidate.manifest.id === backupId)!;
    if (json) {
      io.stdout(`${JSON.stringify({ ...backupJson(b), manifest: b.manifest })}\n`);
      return;
    }
    const m = b.manifest;
    const rows: [string, string][] = [
      ['backup', m.id],
      ['label', m.label],
      ['cluster', `system ${m.systemIdentifier}, PostgreSQL ${m.pgVersion}, WAL segments of ${formatBytes(m.walSegmentSize)}`],
      ['taken', `${m.startTime} … ${m.stopTime}`],
      ['WAL range', `${m.startLsn} (${m.startWalSegment}) … ${m.stopLsn} (${m.stopWalSegment}), timeline ${m.timeline}`],
      ['size', `${formatBytes(m.tarBytes)} of tar stored as ${formatBytes(m.compressedBytes)} gzip in ${m.parts.length} part(s)`],
      ['to the newest WAL', b.planProblem ?? (b.restorableToLatest ? `restorable (timeline ${b.targetTimeline})` : `NOT restorable: ${b.missingWalCount} segment(s) missing, first ${b.missingWal[0]}`)],
      ...b.walRequired.map((r): [string, string] => [`WAL on timeline ${r.timeline}`, `${r.firstSegment} … ${r.lastSegment} (${r.segments} segments)`]),
    ];
    for (const [k, v] of rows) io.stdout(`${`${k}:`.padEnd(22)}${v}\n`);
    return;
  }
  if (json) {
    io.stdout(
      `${JSON.stringify({
        repository: formatRepositoryLocation(location),
        backups: overview.backups.map(backupJson),
        timelines: overview.timelines,
        newestSegment: newest ?? null,
        strays: overview.catalog.listing.strays,
      })}\n`,
    );
    return;
  }
  io.stdout(`repository ${formatRepositoryLocation(location)}\n\n`);
  if (overview.backups.length === 0) io.stdout('(no complete backups)\n');
  else {
    table(
      [
        ['BACKUP', 'STOPPED', 'TL', 'STOP LSN', 'STORED', 'TO NEWEST WAL'],
        ...overview.backups.map((b) => [
          b.manifest.id,
          b.manifest.stopTime,
          String(b.manifest.timeline),
          b.manifest.stopLsn,
          formatBytes(b.manifest.compressedBytes),
          b.planProblem !== undefined ? 'no plan (see show ID)' : b.restorableToLatest ? `restorable (TL ${b.targetTimeline})` : `GAP at ${b.missingWal[0]}${b.missingWalCount > 1 ? ` (+${b.missingWalCount - 1})` : ''}`,
        ]),
      ],
      io,
    );
  }
  io.stdout('\ntimelines:\n');
  for (const t of overview.timelines) {
    const branch = t.branchedFrom === undefined ? '' : `, branched from ${t.branchedFrom.timeline} at ${t.branchedFrom.atLsn}`;
    const gaps = t.gapCount === 0 ? 'no gaps' : `${t.gapCount} missing: ${t.gaps.slice(0, 5).join(', ')}${t.gapCount > 5 ? ', …' : ''}`;
    io.stdout(`  ${t.timeline}: ${t.firstSegment} … ${t.lastSegment} (${t.segments} segments${branch}); ${gaps}\n`);
  }
  if (overview.timelines.length === 0) io.stdout('  (no WAL archived)\n');
  if (newest !== undefined) io.stdout(`\nnewest archived segment: ${newest.name}, stored ${newest.storedAt}\n`);
  if (overview.catalog.listing.strays.length > 0) io.stdout(`${overview.catalog.listing.strays.length} object(s) under wal/ that are not WAL files (holdfast pg verify lists them)\n`);
}

export function reportVerify(result: RepositoryVerification, location: BackupRepositoryLocation, json: boolean, io: PgCommandIo): void {
  const { overview } = result;
  const summary = {
    repository: formatRepositoryLocation(location),
    backups: overview.backups.length,
    walFiles: overview.catalog.listing.files.length,
    objectsRead: result.objectsRead,
    bytesRead: result.bytesRead,
    notDecrypted: result.notDecrypted,
    durationMs: result.durationMs,
    problems: result.problems,
  };
  if (json) {
    io.stdout(`${JSON.stringify(summary)}\n`);
    return;
  }
  const read = result.objectsRead === 0 ? 'catalog and continuity checked (bytes not read: --quick)' : `${result.objectsRead} objects (${formatBytes(result.bytesRead)}) read and checked`;
  io.stdout(`${summary.repository}: ${summary.backups} backup(s), ${summary.walFiles} WAL file(s); ${read} in ${(result.durationMs / 1000).toFixed(1)} s\n`);
  if (result.notDecrypted > 0) io.stdout(`${result.notDecrypted} encrypted object(s) checked against their stored checksums only: pass --encryption-key-file to open and check their contents\n`);
  if (result.problems.length === 0) {
    io.stdout('no problems found\n');
    return;
  }
  io.stdout(`${result.problems.length} problem(s):\n`);
  for (const p of result.problems) io.stdout(`  [${p.kind}] ${p.message}\n`);
}

export function reportDrill(record: DrillRecord, json: boolean, io: PgCommandIo): void {
  if (json) {
    io.stdout(`${JSON.stringify(record)}\n`);
    return;
  }
  const seconds = (value: number | null) => (value === null ? 'n/a' : `${value} s`);
  io.stdout(
    `restore drill ${record.id}: ${record.outcome.toUpperCase()}${record.reason === undefined ? '' : ` — ${record.reason}`}\n` +
      `backup ${record.backup?.id ?? 'none'}; RTO ${seconds(record.rtoSeconds)} (to a promoted, queryable server); RPO ${seconds(record.rpoSeconds)} (newest restored transaction ${record.newestRestoredTransactionAt ?? 'n/a'})\n`,
  );
  for (const check of record.checks) io.stdout(`  ${check.outcome === 'passed' ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`);
  if (record.evidenceKey !== undefined) io.stdout(`evidence: ${record.repository.replace(/\/.*$/, '')}/${record.evidenceKey}\n`);
}
