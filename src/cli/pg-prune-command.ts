import { parseArgs } from 'node:util';
import { formatRepositoryLocation, RepositoryLocationError, type BackupRepositoryLocation } from '../backup/pg/backup-repository.js';
import { pruneRepository, PruneInterruptedError, type PruneResult } from '../backup/pg/repository-pruning.js';
import { RetentionPolicyError, retentionPolicy } from '../backup/pg/retention-plan.js';
import { S3Client } from '../infra/s3-client/s3-client.js';
import { S3ClientConfigError, s3ClientOptionsFromEnvironment } from '../infra/s3-client/s3-client-environment.js';
import { S3RequestError, S3TransportError } from '../infra/s3-client/s3-client-errors.js';
import { S3CredentialsError } from '../infra/s3-client/s3-credentials.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from './exit-codes.js';
import { type PgCommandIo, repositoryFrom, UsageError } from './pg-options.js';
import { formatBytes, ProgressLine } from './progress-line.js';

export const PRUNE_USAGE = `Usage:
  holdfast pg prune (--keep-count N | --keep-days D | both) [--dry-run]
                    [--repo s3://BUCKET/PREFIX] [--endpoint URL] [--json]

Removes base backups a retention policy no longer keeps, abandoned incomplete backups, and WAL
that no kept backup can need — as far as Object Lock allows.

  --keep-count N  keep the N newest complete backups, none older than 90 days
  --keep-days D   keep the backups that stopped within D days (at most 90: the
                  backup-data-immutability policy's maximum backup retention)
                  A backup either rule keeps stays; the newest complete backup always stays.
  --dry-run       check everything, delete nothing: print what would go and what is locked
  --json          print the result as one JSON document

What goes: a backup no rule keeps (manifest.json first, so a prune that stops half-way leaves an
incomplete backup that list and restore ignore, then its parts); a backup folder without a
manifest unchanged for 24 h; WAL older than the start of the oldest kept backup, never a
segment a kept backup needs for a recovery to the newest archived WAL; timeline history files
only of timelines no kept backup's recovery walks. Every version is deleted by its version id
(no delete markers left behind), and only once its retention has expired and no legal hold is
on; a version still locked is kept and reported ("kept: locked until …"), which is not an
error. Governance retention is never bypassed.

Credentials: a key of a service identity with the pruner role (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, or AWS_PROFILE); a backup-writer key may plan (--dry-run) but not delete.
Exit codes: 0 done (also when locked versions were kept), 1 failure, 2 usage, 3 refused by the
server (e.g. a key that may not delete).
`;

const OPTIONS = {
  repo: { type: 'string' },
  endpoint: { type: 'string' },
  'keep-count': { type: 'string' },
  'keep-days': { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `holdfast pg prune …` (dispatched from pg-command.ts). */
export async function runPgPrune(args: readonly string[], io: PgCommandIo): Promise<number> {
  let json = false;
  let client: S3Client | undefined;
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
    json = values.json === true;
    if (values.help === true) {
      io.stdout(PRUNE_USAGE);
      return EXIT_OK;
    }
    if (positionals.length > 0) throw new UsageError('prune takes no arguments, only options.');
    const policy = retentionPolicy(wholeNumber('--keep-count', values['keep-count']), wholeNumber('--keep-days', values['keep-days']));
    const location = repositoryFrom(values.repo, io.env);
    const endpoint = values.endpoint ?? nonEmpty(io.env['HOLDFAST_ENDPOINT']);
    if (endpoint === undefined) throw new UsageError('no S3 endpoint: pass --endpoint URL (e.g. http://vault.internal:9470) or set HOLDFAST_ENDPOINT.');
    client = new S3Client({ ...s3ClientOptionsFromEnvironment(endpoint, io.env), clock: io.clock });
    const progress = new ProgressLine('holdfast pg prune', { write: io.stderr, interactive: io.interactive === true });
    const result = await pruneRepository({
      client,
      location,
      policy,
      dryRun: values['dry-run'] === true,
      clock: io.clock,
      onProgress: (p) => progress.update(p.done, p.total, p.phase === 'checking' ? 'versions checked for locks' : 'versions deleted'),
    });
    progress.done();
    reportPrune(result, location, json, io);
    return EXIT_OK;
  } catch (error) {
    return reportPruneFailure(error, json, io);
  } finally {
    client?.close();
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function wholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`${flag} takes a whole number, not "${text}".`);
  return Number(text);
}

function iso(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? 'an unknown time' : new Date(ms).toISOString();
}

export function reportPrune(result: PruneResult, location: BackupRepositoryLocation, json: boolean, io: PgCommandIo): void {
  const { plan } = result;
  const unitOf = (kind: string, subject: string) => result.units.find((u) => u.kind === kind && u.subject === subject);
  const walUnits = result.units.filter((u) => u.kind === 'wal');
  const walLocked = walUnits.filter((u) => u.outcome === 'kept-locked');
  const latestWalLock = walLocked.reduce<number | undefined>((max, u) => (u.lockedUntilMs === undefined ? max : Math.max(max ?? -Infinity, u.lockedUntilMs)), undefined);
  const walGone = walUnits.length - walLocked.length;
  const lockedLabel = (u: { lockedUntilMs: number | undefined; legalHold: boolean }) => (u.legalHold ? 'kept: legal hold' : `kept: locked until ${iso(u.lockedUntilMs)}`);
  for (const warning of plan.warnings) io.stderr(`holdfast pg prune: warning: ${warning}\n`);

  if (json) {
    io.stdout(
      `${JSON.stringify({
        repository: formatRepositoryLocation(location),
        dryRun: result.dryRun,
        policy: { keepCount: plan.policy.keepCount ?? null, keepDays: plan.policy.keepDays ?? null },
        bucketLock: result.bucketLock,
        backups: plan.backups.map((b) => {
          const unit = unitOf('backup', b.manifest.id);
          return {
            id: b.manifest.id,
            startTime: b.manifest.startTime,
            stopTime: b.manifest.stopTime,
            timeline: b.manifest.timeline,
            decision: b.keep && !b.reasons.includes('locked') ? 'keep' : (unit?.outcome ?? 'kept-locked'),
            reasons: b.reasons,
            versions: unit?.versions ?? null,
            bytes: unit?.bytes ?? null,
            lockedUntil: unit?.lockedUntilMs === undefined ? null : iso(unit.lockedUntilMs),
            legalHold: unit?.legalHold ?? false,
          };
        }),
        incomplete: plan.incomplete.map((f) => ({ id: f.id, newestModified: iso(f.newestModifiedMs), decision: f.removable ? (unitOf('incomplete-backup', f.id)?.outcome ?? 'kept-locked') : 'keep-recent', keys: f.keys.length })),
        wal: {
          keptFrom: plan.wal.keptFrom ?? null,
          notPruned: plan.wal.notPruned ?? null,
          files: walUnits.length,
          removed: result.dryRun ? 0 : walGone,
          wouldRemove: result.dryRun ? walGone : 0,
          keptLocked: walLocked.length,
          lockedUntil: latestWalLock === undefined ? null : iso(latestWalLock),
        },
        deleted: result.deleted,
        locked: result.locked.map((v) => ({ key: v.key, versionId: v.versionId, ...(v.lock.kind === 'legal-hold' ? { legalHold: true } : { mode: v.lock.mode, retainUntil: iso(v.lock.retainUntilMs) }) })),
        untouched: plan.untouched,
        warnings: plan.warnings,
      })}\n`,
    );
    return;
  }

  const policy = [plan.policy.keepCount === undefined ? '' : `keep-count ${plan.policy.keepCount}`, plan.policy.keepDays === undefined ? '' : `keep-days ${plan.policy.keepDays}`].filter((p) => p !== '').join(', ');
  const rule = result.bucketLock.defaultRetention;
  const lock = !result.bucketLock.enabled ? 'no Object Lock' : rule === undefined ? 'Object Lock, no default retention' : `Object Lock, default ${rule.mode} ${rule.days !== undefined ? `${rule.days} day(s)` : `${rule.years ?? '?'} year(s)`}`;
  io.stdout(`${formatRepositoryLocation(location)}: ${policy}; ${lock}${result.dryRun ? '; DRY RUN: nothing deleted' : ''}\n\n`);
  const table = [['BACKUP', 'STOPPED', 'DECISION']];
  for (const b of plan.backups) {
    const unit = unitOf('backup', b.manifest.id);
    let decision: string;
    if (b.keep && !b.reasons.includes('locked')) decision = `keep (${b.reasons.join(', ')})${b.beyondPolicyMaximum ? ' — older than the policy maximum' : ''}`;
    else if (unit === undefined || unit.outcome === 'kept-locked') decision = unit === undefined ? 'kept: locked' : lockedLabel(unit);
    else decision = `${unit.outcome === 'removed' ? 'removed' : 'would remove'} (${unit.versions} version(s), ${formatBytes(unit.bytes)})`;
    table.push([b.manifest.id, b.manifest.stopTime, decision]);
  }
  for (const f of plan.incomplete) {
    const unit = unitOf('incomplete-backup', f.id);
    const decision = !f.removable ? `incomplete, changed ${iso(f.newestModifiedMs)}: kept for now` : unit?.outcome === 'kept-locked' ? `incomplete: ${lockedLabel(unit)}` : `incomplete: ${unit?.outcome === 'removed' ? 'removed' : 'would remove'} (${unit?.versions ?? 0} version(s))`;
    table.push([f.id, '-', decision]);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) io.stdout(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`);
  if (plan.backups.length === 0) io.stdout('(no complete backups)\n');

  if (plan.wal.notPruned !== undefined) io.stdout(`\nWAL: nothing removed: ${plan.wal.notPruned}\n`);
  else {
    const verb = result.dryRun ? 'would remove' : 'removed';
    io.stdout(`\nWAL: kept from ${plan.wal.keptFrom!} (the start of the oldest kept backup); ${verb} ${walGone} older file(s)${walLocked.length > 0 ? `; ${walLocked.length} kept: locked until ${iso(latestWalLock)}` : ''}\n`);
  }
  const d = result.deleted;
  io.stdout(
    `\n${result.dryRun ? 'Would delete' : 'Deleted'} ${d.versions} version(s) and ${d.deleteMarkers} delete marker(s), ${formatBytes(d.bytes)}` +
      `${result.locked.length > 0 ? `; ${result.locked.length} version(s) kept because Object Lock still protects them` : ''}.\n`,
  );
  if (plan.untouched.length > 0) io.stdout(`Left alone (not written by holdfast, or unreadable): ${plan.untouched.length} key(s), e.g. ${plan.untouched[0]!}\n`);
}

/** Exit 2 for usage, 3 when the server refused (a 4xx, e.g. a key without delete rights), else 1. */
function reportPruneFailure(error: unknown, json: boolean, io: PgCommandIo): number {
  const usage =
    error instanceof UsageError ||
    error instanceof RetentionPolicyError ||
    error instanceof RepositoryLocationError ||
    error instanceof S3ClientConfigError ||
    error instanceof S3CredentialsError ||
    (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true);
  const cause = error instanceof PruneInterruptedError ? error.cause : error;
  const refused = cause instanceof S3RequestError && cause.status >= 400 && cause.status < 500;
  const text = error instanceof Error ? error.message : String(error);
  const message = usage ? text : `${text}${hintFor(cause)}`;
  if (json) io.stdout(`${JSON.stringify({ error: { kind: usage ? 'usage' : refused ? 'refused' : cause instanceof S3TransportError ? 'unreachable' : 'failure', message } })}\n`);
  io.stderr(`holdfast pg prune: ${message}\n`);
  if (usage && (error instanceof UsageError || error instanceof TypeError)) io.stderr(PRUNE_USAGE);
  return usage ? EXIT_USAGE : refused ? EXIT_REFUSED : EXIT_FAILURE;
}

function hintFor(error: unknown): string {
  if (error instanceof S3TransportError) return '. Is the S3 endpoint running and is --endpoint (HOLDFAST_ENDPOINT) right?';
  if (!(error instanceof S3RequestError)) return '';
  switch (error.code) {
    case 'AccessDenied':
    case 'Forbidden':
      return error.operation === 'DeleteObject'
        ? '. Hint: pruning needs the key of a service identity with the pruner role; backup-writer and restore-reader keys can never delete (separation of duties: whoever writes backups cannot destroy them). --dry-run works with any key that can list. If this is a pruner key, Object Lock refused: the server still holds the version retained.'
        : '. Hint: prune lists versions and reads their Object Lock state: use the key of a service identity with the pruner role.';
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'ExpiredToken':
      return '. Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the AWS_PROFILE in use) and AWS_REGION.';
    case 'NoSuchBucket':
      return '. Fix --repo: the bucket does not exist.';
    default:
      return '';
  }
}
