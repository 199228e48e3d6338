import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../infra/clock.js';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import type { TarExtractSummary, TarFileDigest } from '../../infra/tar/tar-extractor.js';
import { type BackupCatalog, readBackupCatalog } from './backup-catalog.js';
import type { BackupManifest } from './backup-manifest.js';
import { formatRepositoryLocation, type BackupRepositoryLocation } from './backup-repository.js';
import { BackupIntegrityError, extractBaseBackup, type ExtractionProgress, removeRestoredFiles } from './base-backup-extraction.js';
import { findPgTool, PgToolError, runToEnd } from './pg-client-tools.js';
import { checkableWithSha256, compareWithManifest, parsePostgresBackupManifest, type PostgresBackupManifest, PostgresManifestError } from './postgres-backup-manifest.js';
import { type RecoveryTargetAction, recoverySettings, writeRecoverySettings } from './recovery-settings.js';
import { newestTimeline, planRecoveryWal, RecoveryPlanError, type RecoveryTarget, type RecoveryWalPlan } from './recovery-wal-plan.js';
import { parseTimelineHistory, type TimelineSwitch } from './timeline-history.js';
import { readArchivedWalText, type WalArchiveListing } from './wal-archive-listing.js';
import { parseLsn, timelineHex } from './wal-position.js';
import type { RepositoryKey } from './repository-key.js';

/**
 * `holdfast pg restore`: a data directory that recovers to the chosen moment when started.
 *
 * 1. Pick the base backup: the one named, or the newest that ended before the target (a
 *    recovery cannot stop before its backup is consistent).
 * 2. Plan the WAL the recovery reads and check the archive holds all of it
 *    (`planRecoveryWal`) — before a byte is downloaded, naming any missing segment.
 * 3. Unpack the backup, every part checked against the manifest (`extractBaseBackup`), and
 *    every file against PostgreSQL's own backup_manifest (from digests taken while unpacking;
 *    pg_verifybackup for a manifest without SHA-256 checksums).
 * 4. Write recovery.signal and the recovery settings (`writeRecoverySettings`): restore_command
 *    is `holdfast pg wal-fetch`, and archive_mode is off in the copy.
 */

export interface PointInTimeRestoreOptions {
  readonly client: S3Client;
  readonly location: BackupRepositoryLocation;
  readonly into: string;
  readonly target: RecoveryTarget;
  /** 'latest' (PostgreSQL's default), 'current' (the backup's own), or a timeline number. */
  readonly targetTimeline: 'latest' | 'current' | number;
  readonly targetAction: RecoveryTargetAction;
  readonly targetInclusive: boolean;
  /** A backup id; else chosen from the target. */
  readonly backupId?: string | undefined;
  /** The restore_command written into the copy. */
  readonly restoreCommand: string;
  /** pg_verifybackup's environment (HOLDFAST_PG_BIN, PATH). */
  readonly env: NodeJS.ProcessEnv;
  readonly sync?: boolean;
  readonly clock?: Clock;
  readonly onProgress?: (progress: ExtractionProgress) => void;
  /** The repository key, for an encrypted backup. */
  readonly encryption?: RepositoryKey | undefined;
  /** Stops the restore between steps and during the download (a drill over its budget); what was written is removed. Rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

export interface PointInTimeRestoreResult {
  readonly backup: BackupManifest;
  readonly plan: RecoveryWalPlan;
  readonly settings: Readonly<Record<string, string>>;
  readonly extracted: TarExtractSummary;
  /** What checked the unpacked files against PostgreSQL's backup_manifest. */
  /** How the unpacked files were checked against PostgreSQL's backup_manifest. */
  readonly fileCheck: typeof FILE_CHECK_INLINE | 'pg_verifybackup' | 'skipped (pg_verifybackup not installed)';
  readonly durationMs: number;
}

/** The archive lacks WAL the recovery needs: nothing was restored. */
export class WalGapError extends Error {
  constructor(
    message: string,
    readonly missing: readonly string[],
  ) {
    super(message);
    this.name = 'WalGapError';
  }
}

export async function restoreToPointInTime(options: PointInTimeRestoreOptions): Promise<PointInTimeRestoreResult> {
  const clock = options.clock ?? systemClock;
  const began = clock.nowMs();
  const catalog = await readBackupCatalog(options.client, options.location);
  const backup = chooseBackup(catalog, options.target, options.backupId, options.location);
  const targetTimeline =
    options.targetTimeline === 'latest' ? newestTimeline(backup.timeline, catalog.listing) : options.targetTimeline === 'current' ? backup.timeline : options.targetTimeline;
  const histories = await readHistories(options, catalog.listing, targetTimeline);
  const plan = planRecoveryWal(backup, catalog.listing, histories, options.target, targetTimeline);
  if (plan.missingCount > 0) throw gapError(backup, plan, options.target);
  options.signal?.throwIfAborted();

  const extracted = await extractBaseBackup({
    client: options.client,
    location: options.location,
    manifest: backup,
    into: options.into,
    ...(options.sync === undefined ? {} : { sync: options.sync }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    encryption: options.encryption,
    signal: options.signal,
  });
  let fileCheck: PointInTimeRestoreResult['fileCheck'];
  try {
    fileCheck = await verifyFiles(options.into, extracted.fileDigests, options.env);
    options.signal?.throwIfAborted();
  } catch (error) {
    await removeRestoredFiles(options.into, extracted.createdTarget);
    throw error;
  }
  const settings = recoverySettings({
    restoreCommand: options.restoreCommand,
    target: options.target,
    targetTimeline: options.targetTimeline === 'latest' ? 'latest' : targetTimeline,
    targetAction: options.targetAction,
    targetInclusive: options.targetInclusive,
  });
  await writeRecoverySettings(options.into, settings, `holdfast pg restore of backup ${backup.id} from ${formatRepositoryLocation(options.location)} at ${new Date(clock.nowMs()).toISOString()}`);
  return { backup, plan, settings, extracted, fileCheck, durationMs: clock.nowMs() - began };
}

export function chooseBackup(catalog: BackupCatalog, target: RecoveryTarget, backupId: string | undefined, location: BackupRepositoryLocation): BackupManifest {
  const where = formatRepositoryLocation(location);
  if (backupId !== undefined) {
    const named = catalog.backups.find((m) => m.id === backupId);
    if (named === undefined) throw new RecoveryPlanError(`there is no complete backup ${backupId} in ${where}; \`holdfast pg list\` shows the backups there.`);
    if (target.kind === 'time' && Date.parse(named.stopTime) >= target.atMs) {
      throw new RecoveryPlanError(`backup ${backupId} ended at ${named.stopTime}, not before the target time ${target.text}; pick an older backup.`);
    }
    return named;
  }
  if (catalog.backups.length === 0) throw new RecoveryPlanError(`${where} holds no complete backup (run holdfast pg backup first).`);
  const candidates = catalog.backups.filter((m) => {
    if (target.kind === 'time') return Date.parse(m.stopTime) < target.atMs;
    if (target.kind === 'lsn') return parseLsn(m.stopLsn)! <= target.lsn;
    return true;
  });
  const chosen = candidates.at(-1);
  if (chosen === undefined) {
    const oldest = catalog.backups[0]!;
    throw new RecoveryPlanError(
      `no backup in ${where} ended before the target ${target.kind === 'time' || target.kind === 'lsn' ? target.text : ''}: the oldest, ${oldest.id}, ended at ${oldest.stopTime} (LSN ${oldest.stopLsn}). A recovery can only stop after its backup is consistent.`,
    );
  }
  return chosen;
}

async function readHistories(options: PointInTimeRestoreOptions, listing: WalArchiveListing, targetTimeline: number): Promise<Map<number, readonly TimelineSwitch[]>> {
  const histories = new Map<number, readonly TimelineSwitch[]>();
  if (targetTimeline > 1 && listing.historyTimelines.has(targetTimeline)) {
    const text = await readArchivedWalText(options.client, options.location, `${timelineHex(targetTimeline)}.history`, options.encryption);
    if (text !== undefined) histories.set(targetTimeline, parseTimelineHistory(text, targetTimeline));
  }
  return histories;
}

function gapError(backup: BackupManifest, plan: RecoveryWalPlan, target: RecoveryTarget): WalGapError {
  const first = plan.missing[0]!;
  const more = plan.missingCount > 1 ? ` and ${plan.missingCount - 1} more (${plan.missing.slice(1, 6).join(', ')}${plan.missingCount > 6 ? ', …' : ''})` : '';
  const reach = plan.reachableThrough === undefined ? '' : ` The archive is continuous through ${plan.reachableThrough.name} (stored ${new Date(plan.reachableThrough.lastModifiedMs).toISOString()}).`;
  const what = target.kind === 'latest' ? 'a recovery to the newest archived WAL' : `a recovery to ${target.kind === 'name' ? target.name : target.kind === 'immediate' ? 'consistency' : target.text}`;
  return new WalGapError(
    `the WAL archive is missing segment ${first}${more}, which ${what} from backup ${backup.id} needs; nothing was restored.${reach} ` +
      'Restore to a moment before the gap (--target-time or --target-lsn), or check archive_command and pg_stat_archiver on the source cluster.',
    plan.missing,
  );
}

export const FILE_CHECK_INLINE = 'backup_manifest: size and SHA-256 of every file, taken while unpacking';

/**
 * Every unpacked file against PostgreSQL's backup_manifest (WAL is checked by replay). The
 * digests were taken as the files were written, so the usual case reads nothing back; a
 * manifest with other checksums than SHA-256 (not a backup `holdfast pg backup` took) goes to
 * pg_verifybackup (PostgreSQL 13+), which reads the files again.
 */
async function verifyFiles(dataDir: string, digests: ReadonlyMap<string, TarFileDigest>, env: NodeJS.ProcessEnv): Promise<PointInTimeRestoreResult['fileCheck']> {
  let manifest: PostgresBackupManifest;
  try {
    manifest = parsePostgresBackupManifest(await readFile(join(dataDir, 'backup_manifest')));
  } catch (error) {
    const problem = error instanceof PostgresManifestError ? error.message : (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the backup holds no backup_manifest' : undefined;
    if (problem === undefined) throw error;
    throw new BackupIntegrityError(`${problem}, so the restored files cannot be checked and were removed.`);
  }
  if (checkableWithSha256(manifest)) {
    const problems = compareWithManifest(manifest, digests);
    if (problems.length > 0) throw new BackupIntegrityError(`files that do not match the backup's backup_manifest, so the restored files were removed: ${problems.slice(0, 5).join(' | ')}`);
    return FILE_CHECK_INLINE;
  }
  let tool: string;
  try {
    tool = findPgTool('pg_verifybackup', env);
  } catch (error) {
    if (error instanceof PgToolError) return 'skipped (pg_verifybackup not installed)';
    throw error;
  }
  const result = await runToEnd(tool, ['--no-parse-wal', '--quiet', dataDir], env, 30 * 60_000);
  if (result.code !== 0) {
    throw new BackupIntegrityError(`pg_verifybackup found files that do not match the backup's backup_manifest, so the restored files were removed: ${result.stderr.trim().split('\n').slice(0, 5).join(' | ')}`);
  }
  return 'pg_verifybackup';
}
