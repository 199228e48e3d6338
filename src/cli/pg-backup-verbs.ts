import { join, resolve } from 'node:path';
import { readBackupCatalog } from '../backup/pg/backup-catalog.js';
import { formatRepositoryLocation } from '../backup/pg/backup-repository.js';
import { runBaseBackup } from '../backup/pg/base-backup.js';
import { restoreToPointInTime } from '../backup/pg/point-in-time-restore.js';
import { type DrillProbe, runRestoreDrill } from '../backup/pg/restore-drill.js';
import { RecoveryPlanError } from '../backup/pg/recovery-wal-plan.js';
import { readRepositoryOverview } from '../backup/pg/repository-overview.js';
import { verifyRepository } from '../backup/pg/repository-verification.js';
import { S3Client } from '../infra/s3-client/s3-client.js';
import { s3ClientOptionsFromEnvironment } from '../infra/s3-client/s3-client-environment.js';
import { EXIT_OK, EXIT_PROBLEMS_FOUND } from './exit-codes.js';
import { reportBackup, reportDrill, reportList, reportRestore, reportShow, reportVerify } from './pg-command-reports.js';
import { boundedInteger, keyFileArguments, type PgVerbContext, repositoryKeyFor, UsageError } from './pg-options.js';
import { DEFAULT_RESTORE_PREFETCH, DEFAULT_RESTORE_SPOOL, defaultRestoreCommand, parseRestoreTarget } from './pg-restore-options.js';
import { ProgressLine } from './progress-line.js';

/** `backup`, `list`, `show`, `verify` and `restore`: the verbs people run, not PostgreSQL. */

async function withClient<T>(context: PgVerbContext, use: (client: S3Client) => Promise<T>): Promise<T> {
  const client = new S3Client({ ...s3ClientOptionsFromEnvironment(context.endpoint, context.io.env), clock: context.io.clock });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

function noArguments(context: PgVerbContext): void {
  if (context.positionals.length > 0) throw new UsageError(`${context.verb} takes no arguments, only options.`);
}

function progressLine(context: PgVerbContext): ProgressLine {
  return new ProgressLine(`holdfast pg ${context.verb}`, { write: context.io.stderr, interactive: context.io.interactive === true });
}

export async function backup(context: PgVerbContext): Promise<number> {
  noArguments(context);
  const mib = boundedInteger('part-mib', context.values['part-mib'], 1, 1024);
  const encryption = await repositoryKeyFor(context);
  const progress = progressLine(context);
  const result = await withClient(context, (client) =>
    runBaseBackup({
      client,
      location: context.location,
      connection: context.values['pg-connection'],
      env: context.io.env,
      retainDays: context.retention?.retainDays,
      ...(mib === undefined ? {} : { partTarBytes: mib * 1024 * 1024 }),
      clock: context.io.clock,
      encryption,
      onProgress: (p) => progress.update(p.tarBytes, undefined, `${p.parts} part(s) stored`),
    }),
  );
  progress.done();
  reportBackup(result, context.json, context.io);
  return EXIT_OK;
}

export async function list(context: PgVerbContext): Promise<number> {
  noArguments(context);
  reportList(await withClient(context, (client) => readBackupCatalog(client, context.location)), context.json, context.io);
  return EXIT_OK;
}

export async function show(context: PgVerbContext): Promise<number> {
  const [backupId, extra] = context.positionals;
  if (extra !== undefined) throw new UsageError('show takes at most one BACKUP-ID.');
  const encryption = await repositoryKeyFor(context);
  const overview = await withClient(context, (client) => readRepositoryOverview(client, context.location, encryption));
  if (backupId !== undefined && !overview.backups.some((b) => b.manifest.id === backupId)) {
    throw new RecoveryPlanError(`there is no complete backup ${backupId} in ${formatRepositoryLocation(context.location)}; \`holdfast pg list\` shows the backups there.`);
  }
  reportShow(overview, context.location, backupId, context.json, context.io);
  return EXIT_OK;
}

export async function verify(context: PgVerbContext): Promise<number> {
  noArguments(context);
  const encryption = await repositoryKeyFor(context);
  const progress = progressLine(context);
  const verification = await withClient(context, (client) =>
    verifyRepository({
      client,
      location: context.location,
      readData: context.values.quick !== true,
      clock: context.io.clock,
      encryption,
      onProgress: (p) => progress.update(p.bytes, p.totalBytes, `${p.objects}/${p.totalObjects} objects`),
    }),
  );
  progress.done();
  reportVerify(verification, context.location, context.json, context.io);
  return verification.problems.length === 0 ? EXIT_OK : EXIT_PROBLEMS_FOUND;
}

export async function restore(context: PgVerbContext): Promise<number> {
  const { values } = context;
  if (context.positionals.length > 0) throw new UsageError('restore takes no arguments, only options (--into DIR).');
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
  const prefetch = boundedInteger('prefetch', values.prefetch, 1, 1000);
  const prefetchGiven = prefetch !== undefined || values.spool !== undefined;
  if (prefetchGiven && values['restore-command'] !== undefined) throw new UsageError('--prefetch and --spool set up the default restore_command; with --restore-command, put them in yours.');
  if (prefetchGiven && values['no-prefetch'] === true) throw new UsageError('--no-prefetch writes a restore_command without a prefetch spool; leave out --prefetch and --spool with it.');
  const encryption = await repositoryKeyFor(context);
  const fetchOptions = [
    ...(values['no-prefetch'] === true
      ? []
      : ['--prefetch', String(prefetch ?? DEFAULT_RESTORE_PREFETCH), '--spool', values.spool === undefined ? DEFAULT_RESTORE_SPOOL : resolve(values.spool)]),
    ...keyFileArguments(context),
  ];
  if (encryption !== undefined && values['encryption-key-file'] === undefined && values['restore-command'] === undefined) {
    context.io.stderr(
      context.io.env['HOLDFAST_ENCRYPTION_KEY_FILE'] !== undefined
        ? 'holdfast pg restore: note: the restored server reads the key for restore_command from HOLDFAST_ENCRYPTION_KEY_FILE in its environment.\n'
        : 'holdfast pg restore: note: the restored server needs HOLDFAST_ENCRYPTION_KEY (or HOLDFAST_ENCRYPTION_KEY_FILE) in its environment for restore_command.\n',
    );
  }
  const progress = progressLine(context);
  const result = await withClient(context, (client) =>
    restoreToPointInTime({
      client,
      location: context.location,
      into: resolve(into),
      ...choice,
      backupId: values.backup,
      restoreCommand: values['restore-command'] ?? defaultRestoreCommand(formatRepositoryLocation(context.location), context.endpoint, fetchOptions),
      env: context.io.env,
      sync: values['no-sync'] !== true,
      clock: context.io.clock,
      encryption,
      onProgress: (p) => progress.update(p.bytes, p.totalBytes),
    }),
  );
  progress.done();
  if (values['no-prefetch'] !== true && values['restore-command'] === undefined) {
    const spoolRoot = values.spool === undefined ? join(resolve(into), DEFAULT_RESTORE_SPOOL) : resolve(values.spool);
    const first = result.plan.required[0]?.firstSegment;
    if (first !== undefined) await startPrefetchFor(first, result.backup.walSegmentSize, spoolRoot, prefetch ?? DEFAULT_RESTORE_PREFETCH, context);
  }
  reportRestore(result, resolve(into), context.json, context.io);
  return EXIT_OK;
}

/**
 * Starts prefetching the recovery's first segments now, so they are in the spool when the
 * server starts. An optimisation only: a failure is a warning, and wal-fetch starts the worker
 * itself then.
 */
async function startPrefetchFor(firstSegment: string, segmentBytes: number, spoolRoot: string, count: number, context: PgVerbContext): Promise<void> {
  try {
    const { startRecoveryPrefetch } = await import('./pg-prefetch-worker-launch.js');
    startRecoveryPrefetch({
      spoolRoot,
      firstSegment,
      segmentBytes,
      count,
      repository: formatRepositoryLocation(context.location),
      endpoint: context.endpoint,
      keyFile: context.values['encryption-key-file'],
      env: context.io.env,
    });
  } catch (error) {
    context.io.stderr(`holdfast pg ${context.verb}: warning: could not start prefetching WAL into ${spoolRoot} (${error instanceof Error ? error.message : String(error)}); the server's first restore_command starts it.\n`);
  }
}

/** `holdfast pg keygen --out FILE`: a new repository key (base64 of 32 random bytes), mode 0600, never over an existing file. */
export async function keygen(out: string | undefined, json: boolean, io: PgVerbContext['io']): Promise<number> {
  if (out === undefined) throw new UsageError('keygen needs --out FILE: where to write the new key (keep a copy away from the backups: without it they cannot be restored).');
  const { RepositoryKey } = await import('../backup/pg/repository-key.js');
  const { writeFile } = await import('node:fs/promises');
  const text = RepositoryKey.generate();
  try {
    await writeFile(resolve(out), text, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${out} exists; keygen never overwrites a key (the backups sealed with it would be lost). Choose another path.`);
    throw error;
  }
  const keyId = RepositoryKey.fromBase64(text, out).keyId;
  io.stdout(json ? `${JSON.stringify({ outcome: 'created', path: resolve(out), keyId })}\n` : `wrote a new repository key to ${resolve(out)} (key id ${keyId}); keep a copy away from the backups: without it they cannot be restored.\n`);
  return EXIT_OK;
}

/** `--probe NAME=SQL` or `--probe NAME@DATABASE=SQL`. */
function parseProbe(text: string): DrillProbe {
  const match = /^([A-Za-z0-9_.-]{1,64})(?:@([A-Za-z0-9_$-]{1,63}))?=(.+)$/s.exec(text);
  if (match === null) throw new UsageError(`--probe "${text}" is not NAME=SQL or NAME@DATABASE=SQL; e.g. --probe 'orders=SELECT count(*) > 0 FROM orders'.`);
  return { name: match[1]!, sql: match[3]!, ...(match[2] === undefined ? {} : { database: match[2] }) };
}

/** `holdfast pg drill`: restore the newest backup into a scratch cluster, check it, record the evidence. */
export async function drill(context: PgVerbContext): Promise<number> {
  noArguments(context);
  const probes = (context.values.probe ?? []).map(parseProbe);
  const encryption = await repositoryKeyFor(context);
  const progress = progressLine(context);
  const record = await withClient(context, (client) =>
    runRestoreDrill({
      client,
      location: context.location,
      endpoint: context.endpoint,
      env: context.io.env,
      probes,
      backupId: context.values.backup,
      encryption,
      ...(context.values.scratch === undefined ? {} : { scratchRoot: resolve(context.values.scratch) }),
      storeEvidence: context.values['no-evidence'] !== true,
      restoreCommand: (spool) => defaultRestoreCommand(formatRepositoryLocation(context.location), context.endpoint, ['--prefetch', String(DEFAULT_RESTORE_PREFETCH), '--spool', spool, ...keyFileArguments(context)]),
      startPrefetch: (spool, firstSegment, segmentBytes) => startPrefetchFor(firstSegment, segmentBytes, spool, DEFAULT_RESTORE_PREFETCH, context),
      clock: context.io.clock,
      onStep: (text) => progress.update(0, undefined, text),
    }),
  );
  progress.done();
  reportDrill(record, context.json, context.io);
  return record.outcome === 'passed' ? EXIT_OK : EXIT_PROBLEMS_FOUND;
}
