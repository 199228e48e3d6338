import { parseArgs } from 'node:util';
import { systemClock } from '../infra/clock.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { nonEmpty, OPTION_VERBS, PG_OPTIONS, type PgCommandIo, type PgVerbContext, repositoryFrom, retentionFrom, UsageError } from './pg-options.js';

export type { PgCommandIo } from './pg-options.js';

const USAGE = `Usage:
  holdfast pg wal-push PATH [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--retain-days N] [--json]
                     [--async --spool DIR [--parallel N] [--async-timeout SECONDS]]
  holdfast pg wal-fetch NAME DEST [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--json]
                      [--prefetch N --spool DIR [--parallel N]]
  holdfast pg backup [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--pg-connection CONNINFO]
                     [--retain-days N] [--part-mib N] [--json]
  holdfast pg list [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--json]
  holdfast pg show [BACKUP-ID] [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--json]
  holdfast pg verify [--quick] [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--json]
  holdfast pg restore --into DIR [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--backup ID]
                      [--target-time TS | --target-lsn LSN | --target-name NAME | --target immediate|latest]
                      [--target-timeline latest|current|N] [--target-action pause|promote|shutdown]
                      [--target-exclusive] [--restore-command CMD] [--prefetch N] [--spool DIR]
                      [--no-prefetch] [--no-sync] [--json]
  holdfast pg drill [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--backup ID]
                    [--probe NAME[@DB]=SQL]... [--scratch DIR] [--no-evidence] [--json]
  holdfast pg keygen --out FILE [--json]
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
          --async: archive_command only waits for a background worker, which pushes every file
          PostgreSQL has marked ready (pg_wal/archive_status) --parallel N at a time (default 4)
          ahead of the archiver; the exit is still 0 only once this file is stored and verified.
          --spool DIR holds the worker's status files and worker.log; it must be outside the
          data directory and writable by the postgres user. --async-timeout (default 60 s)
          bounds the wait; PostgreSQL calls again after a failure.
wal-fetch writes the archived file NAME to DEST (through a temporary file, checksums verified).
          A file that is not in the archive exits 1 without a message, as restore_command must.
          --prefetch N --spool DIR: after a segment, a background worker keeps the next N
          downloaded and verified in the spool (--parallel at a time, default 2) for as long as
          recovery takes them, so recovery does not wait on a download per segment; a wal-fetch
          whose segment is there only moves it (no S3 client is loaded), and the worker exits
          20 s after recovery stops asking, removing what was not taken.
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
          when started: recovery.signal, restore_command = holdfast pg wal-fetch (with
          --prefetch 8 --spool pg_wal/holdfast-prefetch, inside the copy, unless --no-prefetch),
          the target, and archive_mode = off so the copy never writes into the production archive. The backup is
          the newest that ended before the target (or --backup ID); the archive is checked first
          for every WAL segment the recovery needs, and a gap is named before anything is
          written. Start the server with the backup-writer (or a restore-reader) key in its
          environment, as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, on a free port;
          run restore as the OS user that owns the cluster (postgres).
drill     a restore drill: restores the newest backup (or --backup ID) with all archived WAL
          into a scratch directory, starts it on a free loopback port with archiving off, waits
          until it is promoted, runs pg_amcheck on every database and each --probe (SQL that must
          return true), measures RTO and RPO, removes the copy, and stores the evidence record
          create-only at PREFIX/evidence/drills/ID.json (--no-evidence: print it only). Exit 0
          passed, 4 failed (the record says why). Run as root, the copy runs as the postgres OS
          user, so --scratch DIR (default the system temp directory) must be reachable by it.
prune     removes the backups a retention policy no longer keeps (the newest always stays) and
          the WAL no kept backup can need, version by version, only what Object Lock no longer
          protects (locked versions are reported, not an error); needs a pruner key.
          holdfast pg prune --help tells the rules.

  --repo URL         the repository, s3://BUCKET/PREFIX (or HOLDFAST_REPO)
  --endpoint URL     the S3 endpoint, e.g. http://vault.internal:9470 (or HOLDFAST_ENDPOINT)
  --retain-days N    also lock each object in COMPLIANCE mode for N days from the upload
                     (without it, the bucket's default retention applies)
  --pg-connection S  a libpq conninfo for pg_basebackup -d and psql (backup)
  --part-mib N       MiB of tar per stored object, each gzipped on its own so a restore
                     inflates several at once, 1 to 1024 (backup; default 32)
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
  --prefetch N       wal-fetch, restore: fetch the next N segments ahead into --spool DIR
                     (restore: default 8 into pg_wal/holdfast-prefetch of the copy)
  --no-prefetch      restore: a restore_command that fetches each segment when asked for
  --no-sync          restore: do not fsync the restored files (faster; for scratch copies)
  --encryption-key-file FILE
                     client-side encryption (AES-256-GCM) with the key in FILE (holdfast pg keygen;
                     or HOLDFAST_ENCRYPTION_KEY_FILE, or the key itself in HOLDFAST_ENCRYPTION_KEY):
                     wal-push and backup seal every object, wal-fetch/restore/verify open them.
                     The key never goes to the store; lose it and the backups are gone.
  --json             print the result as JSON (list: an array of backups)

Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), or AWS_PROFILE in
AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials); use a key of a service identity with
the backup-writer role. Region: AWS_REGION or AWS_DEFAULT_REGION (default us-east-1).
AWS_CA_BUNDLE: extra CA certificates for an https endpoint.
Exit codes: 0 done, 1 failure (restore: also a WAL gap or a checksum mismatch, named), 2 usage or
configuration, 3 refused by the server (prune), 4 verify found problems or a drill failed. wal-fetch: 1 only for
"not in the archive"; any other failure exits 126, which makes PostgreSQL stop recovery instead
of ending it early at a segment the archive may well hold.
`;

const processIo: PgCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  clock: systemClock,
  interactive: process.stderr.isTTY === true,
};

type VerbHandler = (context: PgVerbContext) => Promise<number>;

/**
 * Each verb's module is loaded only when it runs: archive_command starts a process per WAL
 * segment, and `wal-push --async` in particular should load nothing but the spool.
 */
const VERBS: Readonly<Record<string, () => Promise<VerbHandler>>> = {
  'wal-push': async () => (await import('./pg-archive-verbs.js')).walPush,
  'wal-fetch': async () => (await import('./pg-archive-verbs.js')).walFetch,
  'wal-push-worker': async () => (await import('./pg-archive-verbs.js')).walPushWorker,
  'wal-fetch-worker': async () => (await import('./pg-archive-verbs.js')).walFetchWorker,
  backup: async () => (await import('./pg-backup-verbs.js')).backup,
  list: async () => (await import('./pg-backup-verbs.js')).list,
  show: async () => (await import('./pg-backup-verbs.js')).show,
  verify: async () => (await import('./pg-backup-verbs.js')).verify,
  restore: async () => (await import('./pg-backup-verbs.js')).restore,
  drill: async () => (await import('./pg-backup-verbs.js')).drill,
};
/** The verbs people call (the workers are started by wal-push --async and wal-fetch --prefetch). */
const PUBLIC_VERBS = ['wal-push', 'wal-fetch', 'backup', 'list', 'show', 'verify', 'restore', 'drill', 'prune', 'keygen'];

/** `holdfast pg …`: continuous archiving, base backups, restores and checks of PostgreSQL. */
export async function runPgCommand(args: readonly string[], io: PgCommandIo = processIo): Promise<number> {
  let json = false;
  const [verb, ...rest] = args;
  try {
    if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
      io.stdout(USAGE);
      return verb === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (verb === 'prune') return await (await import('./pg-prune-command.js')).runPgPrune(rest, io);
    if (verb === 'keygen') {
      const { values, positionals } = parseArgs({ args: [...rest], options: { out: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
      json = values.json === true;
      if (positionals.length > 0) throw new UsageError('keygen takes no arguments, only --out FILE.');
      return await (await import('./pg-backup-verbs.js')).keygen(values.out, json, io);
    }
    const load = VERBS[verb];
    if (load === undefined) {
      throw new UsageError(`unknown command "pg ${verb}"; the pg commands are ${PUBLIC_VERBS.slice(0, -1).join(', ')} and ${PUBLIC_VERBS.at(-1)!}.`);
    }
    const { values, positionals } = parseArgs({ args: [...rest], options: PG_OPTIONS, allowPositionals: true, strict: true });
    json = values.json === true;
    if (values.help === true) {
      io.stdout(USAGE);
      return EXIT_OK;
    }
    for (const [option, verbs] of Object.entries(OPTION_VERBS)) {
      if (values[option as keyof typeof values] !== undefined && !verbs.includes(verb)) {
        throw new UsageError(`--${option} applies to ${verbs.filter((v) => PUBLIC_VERBS.includes(v)).join(' and ')} only.`);
      }
    }
    const location = repositoryFrom(values.repo, io.env);
    const endpoint = values.endpoint ?? nonEmpty(io.env['HOLDFAST_ENDPOINT']);
    if (endpoint === undefined) throw new UsageError('no S3 endpoint: pass --endpoint URL (e.g. http://vault.internal:9470, or https://s3.REGION.amazonaws.com for AWS) or set HOLDFAST_ENDPOINT.');
    const context: PgVerbContext = { verb, values, positionals, location, endpoint, retention: retentionFrom(values['retain-days'], io.clock), json, io };
    if (verb === 'wal-push' && values.async === true) return await (await import('./pg-wal-push-async.js')).walPushAsync(context);
    if (verb === 'wal-push' && (values.spool !== undefined || values.parallel !== undefined || values['async-timeout'] !== undefined)) {
      throw new UsageError('--spool, --parallel and --async-timeout go with --async.');
    }
    return await (await load())(context);
  } catch (error) {
    return reportFailure(verb ?? '', error, json, io);
  }
}

/**
 * Errors are told apart by name, not class, so that classifying a failure does not load the
 * modules of verbs that did not run. Each error class sets its `name`.
 */
const USAGE_ERRORS = new Set(['UsageError', 'RepositoryKeyError', 'RepositoryLocationError', 'S3ClientConfigError', 'S3CredentialsError', 'WalFileNameError', 'PgToolError', 'RestoreOptionError', 'RestoreTargetError']);
const ERROR_KINDS: Readonly<Record<string, string>> = {
  WalConflictError: 'conflict',
  WalIntegrityError: 'integrity',
  S3IntegrityError: 'integrity',
  BackupManifestError: 'integrity',
  BackupIntegrityError: 'integrity',
  TarFormatError: 'integrity',
  DecryptionError: 'integrity',
  WalGapError: 'wal-gap',
  RecoveryPlanError: 'no-restore-plan',
  TimelineHistoryError: 'no-restore-plan',
  BaseBackupError: 'incomplete',
  AsyncWalPushError: 'failure',
  S3RequestError: 'refused',
  S3TransportError: 'unreachable',
};

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function isParseArgsError(error: unknown): boolean {
  return error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
}

/** The exit code and message of a failure; S3 errors get the likely fix appended. */
function reportFailure(verb: string, error: unknown, json: boolean, io: PgCommandIo): number {
  const usage = USAGE_ERRORS.has(errorName(error)) || isParseArgsError(error);
  const text = error instanceof Error ? error.message : String(error);
  const message = usage ? text : `${text}${hintFor(error)}`;
  if (json) io.stdout(`${JSON.stringify({ error: { kind: usage ? 'usage' : (ERROR_KINDS[errorName(error)] ?? 'failure'), message } })}\n`);
  io.stderr(`holdfast pg ${verb}: ${message}\n`);
  if (errorName(error) === 'UsageError' || isParseArgsError(error)) io.stderr(USAGE);
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

function hintFor(error: unknown): string {
  const name = errorName(error);
  if (name === 'S3TransportError') return '. Is the S3 endpoint running and is --endpoint (HOLDFAST_ENDPOINT) right?';
  if (name !== 'S3RequestError') return '';
  switch ((error as { code?: string }).code) {
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
