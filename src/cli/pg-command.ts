import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readBackupCatalog } from '../backup/pg/backup-catalog.js';
import { BackupManifestError } from '../backup/pg/backup-manifest.js';
import { formatRepositoryLocation, parseRepositoryLocation, RepositoryLocationError, type BackupRepositoryLocation } from '../backup/pg/backup-repository.js';
import { BackupIntegrityError, RestoreTargetError } from '../backup/pg/base-backup-extraction.js';
import { BaseBackupError, runBaseBackup } from '../backup/pg/base-backup.js';
import { restoreToPointInTime, WalGapError } from '../backup/pg/point-in-time-restore.js';
import { RecoveryPlanError } from '../backup/pg/recovery-wal-plan.js';
import { readRepositoryOverview } from '../backup/pg/repository-overview.js';
import { verifyRepository } from '../backup/pg/repository-verification.js';
import { TimelineHistoryError } from '../backup/pg/timeline-history.js';
import { PgToolError } from '../backup/pg/pg-client-tools.js';
import { S3WalArchiveStore, type WalRetention } from '../backup/pg/s3-wal-archive-store.js';
import { WalConflictError, WalFileNameError, WalIntegrityError } from '../backup/pg/wal-archive-errors.js';
import { WalArchiver } from '../backup/pg/wal-archiver.js';
import { WalFetcher } from '../backup/pg/wal-fetcher.js';
import { systemClock, type Clock } from '../infra/clock.js';
import { S3Client } from '../infra/s3-client/s3-client.js';
import { S3ClientConfigError, s3ClientOptionsFromEnvironment } from '../infra/s3-client/s3-client-environment.js';
import { S3IntegrityError, S3RequestError, S3TransportError } from '../infra/s3-client/s3-client-errors.js';
import { S3CredentialsError } from '../infra/s3-client/s3-credentials.js';
import { TarFormatError } from '../infra/tar/tar-extractor.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS_FOUND, EXIT_USAGE } from './exit-codes.js';
import { reportBackup, reportFetch, reportList, reportPush, reportRestore, reportShow, reportVerify } from './pg-command-reports.js';
import { defaultRestoreCommand, parseRestoreTarget, RestoreOptionError } from './pg-restore-options.js';
import { ProgressLine } from './progress-line.js';

const USAGE = `Usage:
  holdfast pg wal-push PATH [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--retain-days N] [--json]
  holdfast pg wal-fetch NAME DEST [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--json]
  holdfast pg backup [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--pg-connection CONNINFO]
                     [--retain-days N] [--part-mib N] [--json]
  holdfast pg list [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--json]
  holdfast pg show [BACKUP-ID] [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--json]
  holdfast pg verify [--quick] [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--json]
  holdfast pg restore --into DIR [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--backup ID]
                      [--target-time TS | --target-lsn LSN | --target-name NAME | --target immediate|latest]
                      [--target-timeline latest|current|N] [--target-action pause|promote|shutdown]
                      [--target-exclusive] [--restore-command CMD] [--no-sync] [--json]
  holdfast pg prune (--keep-count N | --keep-days D) [--dry-run] [--repo s3://BUCKET/PREFIX]
                    [--endpoint URL] [--json]

Continuous WAL archiving of a PostgreSQL cluster into an S3 bucket (the vault, or any S3 with
Object Lock). In postgresql.conf:

  archive_mode = on
  archive_command = 'holdfast pg wal-push %p --repo s3://BUCKET/PREFIX --endpoint URL'
  restore_command = 'holdfast pg wal-fetch %f %p --repo s3://BUCKET/PREFIX --endpoint URL'

wal-push  stores the file (gzip) under PREFIX/wal/TIMELINE/NAME and exits 0 only once it is
          stored and read back verified. An identical copy already there is success; a different
          one is never overwritten (exit 1, both checksums named).
wal-fetch writes the archived file NAME to DEST (through a temporary file, checksums verified).
          A file that is not in the archive exits 1 without a message, as restore_command must.
backup    runs pg_basebackup (-F tar -X none) and streams the tar, gzip-compressed, into
          PREFIX/backups/ID/ without staging it on disk; waits until the backup's stop segment is
          archived, then writes PREFIX/backups/ID/manifest.json, which makes the backup complete.
          The cluster: the PGHOST, PGPORT, PGUSER (PGPASSWORD, PGPASSFILE) environment, or
          --pg-connection 'host=… port=… user=…'; the user needs the REPLICATION attribute.
list      the complete backups (those with a manifest) and the archived WAL per timeline.
show      the repository in detail: per backup whether a recovery to the newest WAL finds every
          segment (else the first missing one), per timeline its range, gaps and branch point,
          and the newest archived segment (the recovery point right now); with BACKUP-ID, that
          backup's manifest and the WAL a recovery from it replays.
verify    reads every stored object back and checks it: backup parts against their manifest,
          WAL files against the SHA-256 recorded at push; every manifest complete; WAL
          continuity from each backup to the newest segment, gaps named. Exit 4 when it finds
          problems. --quick checks the catalog and continuity without reading the bytes.
restore   unpacks a base backup into DIR (new or empty) and sets it up to recover from the archive
          when started: recovery.signal, restore_command = holdfast pg wal-fetch, the target, and
          archive_mode = off so the copy never writes into the production archive. The backup is
          the newest that ended before the target (or --backup ID); the archive is checked first
          for every WAL segment the recovery needs, and a gap is named before anything is
          written. Start the server with the backup-writer (or a restore-reader) key in its
          environment, as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, on a free port;
          run restore as the OS user that owns the cluster (postgres).
prune     removes the backups a retention policy no longer keeps (the newest always stays) and
          the WAL no kept backup can need, version by version, only what Object Lock no longer
          protects (locked versions are reported, not an error); needs a pruner key.
          holdfast pg prune --help tells the rules.

  --repo URL         the repository, s3://BUCKET/PREFIX (or HOLDFAST_REPO)
  --endpoint URL     the S3 endpoint, e.g. http://vault.internal:9470 (or HOLDFAST_ENDPOINT)
  --retain-days N    also lock each object in COMPLIANCE mode for N days from the upload
                     (without it, the bucket's default retention applies)
  --pg-connection S  a libpq conninfo for pg_basebackup -d and psql (backup)
  --part-mib N       MiB of compressed backup per stored object, 1 to 4096 (backup; default 64)
  --into DIR         restore: the new data directory (created mode 0700, or an empty one)
  --backup ID        restore: this backup (default: the newest that ended before the target)
  --target-time TS   restore: recover up to this moment, with its zone: "2026-11-26 10:15:00+00"
  --target-lsn LSN   restore: recover up to this WAL position (e.g. 0/3000060)
  --target-name N    restore: recover up to the restore point N (pg_create_restore_point)
  --target T         restore: immediate (just the backup, consistent) or latest (default: all
                     archived WAL)
  --target-timeline  restore: latest (default), current (the backup's) or a number
  --target-action A  restore: at the target, pause (default: read-only, inspect, then
                     SELECT pg_wal_replay_resume()), promote, or shutdown
  --target-exclusive restore: stop just before the target instead of just after it
  --restore-command  restore: the restore_command to write instead of this holdfast's wal-fetch
  --no-sync          restore: do not fsync the restored files (faster; for scratch copies)
  --json             print the result as JSON (list: an array of backups)

Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), or AWS_PROFILE in
AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials); use a key of a service identity with
the backup-writer role. Region: AWS_REGION or AWS_DEFAULT_REGION (default us-east-1).
AWS_CA_BUNDLE: extra CA certificates for an https endpoint.
Exit codes: 0 done, 1 failure (restore: also a WAL gap or a checksum mismatch, named), 2 usage or
configuration, 3 refused by the server (prune), 4 verify found problems. wal-fetch: 1 only for
"not in the archive"; any other failure exits 126, which makes PostgreSQL stop recovery instead
of ending it early at a segment the archive may well hold.
`;

/** Where the command writes, what it reads, what time it is: the process's own by default. */
export interface PgCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  /** Whether stderr is a terminal (live progress in place) or a log (a line now and then). */
  readonly interactive?: boolean;
}

const processIo: PgCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  clock: systemClock,
  interactive: process.stderr.isTTY === true,
};

const PG_VERBS: readonly string[] = ['wal-push', 'wal-fetch', 'backup', 'list', 'show', 'verify', 'restore', 'prune'];
const RESTORE_OPTIONS = ['into', 'backup', 'target', 'target-time', 'target-lsn', 'target-name', 'target-timeline', 'target-action', 'target-exclusive', 'restore-command', 'no-sync'] as const;

export class UsageError extends Error {}

const OPTIONS = {
  repo: { type: 'string' },
  endpoint: { type: 'string' },
  'retain-days': { type: 'string' },
  'pg-connection': { type: 'string' },
  'part-mib': { type: 'string' },
  into: { type: 'string' },
  backup: { type: 'string' },
  target: { type: 'string' },
  'target-time': { type: 'string' },
  'target-lsn': { type: 'string' },
  'target-name': { type: 'string' },
  'target-timeline': { type: 'string' },
  'target-action': { type: 'string' },
  'target-exclusive': { type: 'boolean' },
  'restore-command': { type: 'string' },
  'no-sync': { type: 'boolean' },
  quick: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `holdfast pg …`: WAL archiving commands for PostgreSQL's archive_command and restore_command. */
export async function runPgCommand(args: readonly string[], io: PgCommandIo = processIo): Promise<number> {
  let json = false;
  let client: S3Client | undefined;
  const [verb, ...rest] = args;
  try {
    if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
      io.stdout(USAGE);
      return verb === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (verb === 'prune') return (await import('./pg-prune-command.js')).runPgPrune(rest, io);
    if (!PG_VERBS.includes(verb)) {
      throw new UsageError(`unknown command "pg ${verb}"; the pg commands are ${PG_VERBS.slice(0, -1).join(', ')} and ${PG_VERBS.at(-1)!}.`);
    }
    const { values, positionals } = parseArgs({ args: [...rest], options: OPTIONS, allowPositionals: true, strict: true });
    json = values.json === true;
    if (values.help === true) {
      io.stdout(USAGE);
      return EXIT_OK;
    }
    const location = repositoryFrom(values.repo, io.env);
    const endpoint = values.endpoint ?? nonEmpty(io.env['HOLDFAST_ENDPOINT']);
    if (endpoint === undefined) throw new UsageError('no S3 endpoint: pass --endpoint URL (e.g. http://vault.internal:9470, or https://s3.REGION.amazonaws.com for AWS) or set HOLDFAST_ENDPOINT.');
    const retention = retentionFrom(values['retain-days'], io.clock);
    if (verb !== 'backup' && (values['pg-connection'] !== undefined || values['part-mib'] !== undefined)) {
      throw new UsageError('--pg-connection and --part-mib apply to backup only.');
    }
    const restoreOnly = RESTORE_OPTIONS.filter((name) => values[name] !== undefined);
    if (verb !== 'restore' && restoreOnly.length > 0) throw new UsageError(`--${restoreOnly[0]!} applies to restore only.`);

    if (verb !== 'verify' && values.quick === true) throw new UsageError('--quick applies to verify only.');
    if (verb === 'show' || verb === 'verify') {
      if (retention !== undefined) throw new UsageError(`--retain-days does not apply to ${verb}.`);
      const [backupId, extra] = positionals;
      if (extra !== undefined || (verb === 'verify' && backupId !== undefined)) throw new UsageError(verb === 'show' ? 'show takes at most one BACKUP-ID.' : 'verify takes no arguments, only options.');
      client = new S3Client({ ...s3ClientOptionsFromEnvironment(endpoint, io.env), clock: io.clock });
      if (verb === 'show') {
        const overview = await readRepositoryOverview(client, location);
        if (backupId !== undefined && !overview.backups.some((b) => b.manifest.id === backupId)) {
          throw new RecoveryPlanError(`there is no complete backup ${backupId} in ${formatRepositoryLocation(location)}; \`holdfast pg list\` shows the backups there.`);
        }
        reportShow(overview, location, backupId, json, io);
        return EXIT_OK;
      }
      const progress = new ProgressLine('holdfast pg verify', { write: io.stderr, interactive: io.interactive === true });
      const verification = await verifyRepository({
        client,
        location,
        readData: values.quick !== true,
        clock: io.clock,
        onProgress: (p) => progress.update(p.bytes, p.totalBytes, `${p.objects}/${p.totalObjects} objects`),
      });
      progress.done();
      reportVerify(verification, location, json, io);
      return verification.problems.length === 0 ? EXIT_OK : EXIT_PROBLEMS_FOUND;
    }

    if (verb === 'restore') {
      if (positionals.length > 0) throw new UsageError('restore takes no arguments, only options (--into DIR).');
      if (retention !== undefined) throw new UsageError('--retain-days does not apply to restore.');
      const into = values.into;
      if (into === undefined || into.trim() === '') throw new UsageError('restore needs --into DIR: a new or empty directory for the restored cluster.');
      const choice = parseRestoreTarget({
        target: values.target,
        targetTime: values['target-time'],
        targetLsn: values['target-lsn'],
        targetName: values['target-name'],
        targetTimeline: values['target-timeline'],
        targetAction: values['target-action'],
        targetExclusive: values['target-exclusive'],
      });
      client = new S3Client({ ...s3ClientOptionsFromEnvironment(endpoint, io.env), clock: io.clock });
      const progress = new ProgressLine('holdfast pg restore', { write: io.stderr, interactive: io.interactive === true });
      const result = await restoreToPointInTime({
        client,
        location,
        into: resolve(into),
        ...choice,
        backupId: values.backup,
        restoreCommand: values['restore-command'] ?? defaultRestoreCommand(formatRepositoryLocation(location), endpoint),
        env: io.env,
        sync: values['no-sync'] !== true,
        clock: io.clock,
        onProgress: (p) => progress.update(p.bytes, p.totalBytes),
      });
      progress.done();
      reportRestore(result, resolve(into), json, io);
      return EXIT_OK;
    }

    if (verb === 'backup' || verb === 'list') {
      if (positionals.length > 0) throw new UsageError(`${verb} takes no arguments, only options.`);
      client = new S3Client({ ...s3ClientOptionsFromEnvironment(endpoint, io.env), clock: io.clock });
      if (verb === 'list') {
        if (retention !== undefined) throw new UsageError('--retain-days does not apply to list.');
        reportList(await readBackupCatalog(client, location), json, io);
        return EXIT_OK;
      }
      const result = await runBaseBackup({
        client,
        location,
        connection: values['pg-connection'],
        env: io.env,
        retainDays: retention?.retainDays,
        partBytes: partBytesFrom(values['part-mib']),
        clock: io.clock,
      });
      reportBackup(result, json, io);
      return EXIT_OK;
    }

    if (verb === 'wal-push') {
      const [path, extra] = positionals;
      if (path === undefined || extra !== undefined) throw new UsageError('wal-push takes one PATH: the %p of archive_command.');
      client = new S3Client({ ...s3ClientOptionsFromEnvironment(endpoint, io.env), clock: io.clock });
      const archiver = new WalArchiver(new S3WalArchiveStore(client, location, retention), location.prefix, { clock: io.clock });
      const result = await archiver.push(resolve(path));
      reportPush(result, json, io);
      return EXIT_OK;
    }

    const [name, destination, extra] = positionals;
    if (name === undefined || destination === undefined || extra !== undefined) {
      throw new UsageError('wal-fetch takes NAME and DEST: the %f and %p of restore_command.');
    }
    if (retention !== undefined) throw new UsageError('--retain-days applies to wal-push only.');
    client = new S3Client({ ...s3ClientOptionsFromEnvironment(endpoint, io.env), clock: io.clock });
    const fetcher = new WalFetcher(new S3WalArchiveStore(client, location), location.prefix, { clock: io.clock });
    const result = await fetcher.fetch(name, resolve(destination));
    reportFetch(result, json, io);
    return result.outcome === 'restored' ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    return reportFailure(verb ?? '', error, json, io);
  } finally {
    client?.close();
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function repositoryFrom(flag: string | undefined, env: NodeJS.ProcessEnv): BackupRepositoryLocation {
  const text = flag ?? nonEmpty(env['HOLDFAST_REPO']);
  if (text === undefined) throw new UsageError('no repository: pass --repo s3://BUCKET/PREFIX or set HOLDFAST_REPO.');
  return parseRepositoryLocation(text);
}

function retentionFrom(text: string | undefined, clock: Clock): WalRetention | undefined {
  if (text === undefined) return undefined;
  const days = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(days >= 1 && days <= 36500)) throw new UsageError(`--retain-days takes a whole number of days from 1 to 36500, not "${text}".`);
  return { mode: 'COMPLIANCE', retainDays: days, clock };
}

function partBytesFrom(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const mib = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(mib >= 1 && mib <= 4096)) throw new UsageError(`--part-mib takes a whole number of MiB from 1 to 4096, not "${text}".`);
  return mib * 1024 * 1024;
}

/** The exit code and message of a failure; S3 errors get the likely fix appended. */
function reportFailure(verb: string, error: unknown, json: boolean, io: PgCommandIo): number {
  const usage =
    error instanceof UsageError ||
    error instanceof RepositoryLocationError ||
    error instanceof S3ClientConfigError ||
    error instanceof S3CredentialsError ||
    error instanceof WalFileNameError ||
    error instanceof PgToolError ||
    error instanceof RestoreOptionError ||
    error instanceof RestoreTargetError ||
    (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true);
  const text = error instanceof Error ? error.message : String(error);
  const message = usage ? text : `${text}${hintFor(error)}`;
  if (json) io.stdout(`${JSON.stringify({ error: { kind: kindOf(error, usage), message } })}\n`);
  io.stderr(`holdfast pg ${verb}: ${message}\n`);
  if (usage && (error instanceof UsageError || error instanceof TypeError)) io.stderr(USAGE);
  // restore_command: PostgreSQL reads any exit status from 1 to 125 as "not in the archive" and
  // ends recovery there — promoting a cluster that is missing WAL the archive does hold. A fetch
  // that failed for any other reason (vault unreachable, wrong credentials, bad checksum) must
  // stop recovery instead, which an exit status above 125 does (PostgreSQL docs, "Archive
  // Recovery Settings", restore_command).
  if (verb === 'wal-fetch') return EXIT_RESTORE_FAILED;
  return usage ? EXIT_USAGE : EXIT_FAILURE;
}

/** wal-fetch's exit status for every failure but "not in the archive": > 125, so recovery stops. */
export const EXIT_RESTORE_FAILED = 126;

function kindOf(error: unknown, usage: boolean): string {
  if (usage) return 'usage';
  if (error instanceof WalConflictError) return 'conflict';
  if (error instanceof WalIntegrityError || error instanceof S3IntegrityError || error instanceof BackupManifestError || error instanceof BackupIntegrityError || error instanceof TarFormatError) return 'integrity';
  if (error instanceof WalGapError) return 'wal-gap';
  if (error instanceof RecoveryPlanError || error instanceof TimelineHistoryError) return 'no-restore-plan';
  if (error instanceof BaseBackupError) return 'incomplete';
  if (error instanceof S3RequestError) return 'refused';
  if (error instanceof S3TransportError) return 'unreachable';
  return 'failure';
}

function hintFor(error: unknown): string {
  if (error instanceof S3TransportError) return '. Is the S3 endpoint running and is --endpoint (HOLDFAST_ENDPOINT) right?';
  if (!(error instanceof S3RequestError)) return '';
  switch (error.code) {
    case 'AccessDenied':
    case 'Forbidden':
      return '. The access key needs read, list and write on the repository: a service identity with the backup-writer role.';
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'ExpiredToken':
      return '. Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the AWS_PROFILE in use) and AWS_REGION.';
    case 'NoSuchBucket':
      return '. Create the bucket (with Object Lock and a default retention) or fix --repo.';
    case 'InvalidRequest':
    case 'InvalidRetentionPeriod':
      return '. For --retain-days the bucket needs Object Lock enabled and the days within its retention bounds.';
    default:
      return '';
  }
}
