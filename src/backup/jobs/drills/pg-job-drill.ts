import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANIFEST_NAME } from '../../pg/backup-layout.js';
import { isBackupId } from '../../pg/backup-id.js';
import { type RestoreDrillOptions, runRestoreDrill } from '../../pg/restore-drill.js';
import { isNoSuchKey } from '../../../infra/s3-client/s3-client-errors.js';
import type { DrillConfig } from '../drill-config.js';
import type { BackupJob } from '../job-config.js';
import type { JobRun } from '../job-run.js';
import { type KindDrillContext, type KindDrillResult } from './kind-drill.js';

const TARGET = 'a throwaway PostgreSQL cluster on a free loopback port, archive_mode off (stopped and removed afterwards)';

/**
 * A drill of a pg-base-backup job is `holdfast pg drill` on the job's repository (restore-drill.ts)
 * for the backup the job's newest successful run made — not simply the newest backup there,
 * which may come from somewhere else (`holdfast pg backup` by hand, another server) and would
 * prove nothing about the job — with all archived WAL, into a throwaway cluster on a free port,
 * promoted, pg_amcheck, the probes, torn down. Its RPO is the age of the newest replayed
 * transaction. `restoreCommand` is the wal-fetch the scratch cluster runs (with `env`'s credentials).
 */
export async function drillPgBaseBackup(
  job: BackupJob,
  run: JobRun,
  drill: DrillConfig,
  context: KindDrillContext & { readonly endpoint: string; readonly restoreCommand: (spool: string) => string; readonly startPrefetch?: RestoreDrillOptions['startPrefetch']; readonly caBundle?: string | undefined },
): Promise<KindDrillResult> {
  const backupId = backupIdOfRun(job, run);
  const where = `s3://${job.destination.bucket}/${job.destination.prefix}`;
  const failed = (detail: string, id?: string): KindDrillResult => ({ checks: [{ name: 'restore', outcome: 'failed', detail }], usableMs: undefined, newestRestorableMs: undefined, objects: [], target: 'none', ...(id === undefined ? {} : { backupId: id }) });
  if (backupId === undefined) return failed(`run ${run.id} of job ${job.name} recorded no base backup manifest (${run.manifestKey ?? 'none'}); run the job again`);
  // The current version, as the restore's catalog sees it: a manifest hidden by a delete marker is as missing as one never written.
  const manifestThere = await context.client.headObject({ bucket: job.destination.bucket, key: run.manifestKey! }).then(
    () => true,
    (error: unknown) => {
      if (isNoSuchKey(error)) return false;
      throw error;
    },
  );
  if (!manifestThere) {
    return failed(`backup ${backupId}, made by run ${run.id} (the job's newest successful run), is missing from ${where}: its manifest ${run.manifestKey} is gone; find out who removed it, and run the job again`, backupId);
  }
  // The scratch directory is named after the drill and journaled before it exists, so a crash or
  // a budget stop finds the cluster in it (its postmaster.pid) and removes it. Short: the
  // cluster's Unix socket lives in it, and a socket path may not exceed 107 bytes.
  const scratchRoot = join(drill.scratchDirectory ?? tmpdir(), `hf-drill-${context.id}`);
  await context.track({ kind: 'pg-scratch', path: scratchRoot });
  await mkdir(scratchRoot, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = { ...context.env };
  if (context.caBundle !== undefined) {
    // wal-fetch runs as the postgres OS user, which may not read the server's certificate file
    // where it lies: a copy beside the cluster (a certificate, no secret) that goes with it.
    const caFile = join(scratchRoot, 'ca-bundle.pem');
    await writeFile(caFile, context.caBundle, { mode: 0o644 });
    env['AWS_CA_BUNDLE'] = caFile;
  }
  const record = await runRestoreDrill({
    client: context.client,
    location: { bucket: job.destination.bucket, prefix: job.destination.prefix },
    endpoint: context.endpoint,
    env,
    restoreCommand: context.restoreCommand,
    ...(context.startPrefetch === undefined ? {} : { startPrefetch: context.startPrefetch }),
    probes: drill.probes.map((p) => ({ name: p.name, sql: p.sql, ...(p.database === undefined ? {} : { database: p.database }) })),
    backupId,
    scratchDirectory: scratchRoot,
    storeEvidence: false,
    clock: context.clock,
    signal: context.signal,
    onStep: context.onStep,
  }).finally(() => rm(scratchRoot, { recursive: true, force: true, maxRetries: 5 }));
  const startedMs = Date.parse(record.startedAt);
  return {
    checks: record.checks,
    usableMs: record.rtoSeconds === null ? undefined : startedMs + record.rtoSeconds * 1000,
    newestRestorableMs: record.newestRestoredTransactionAt === null ? undefined : Date.parse(record.newestRestoredTransactionAt),
    objects: record.objects,
    target: TARGET,
    backupId: record.backup?.id ?? backupId,
  };
}

/** `PREFIX/backups/<id>/manifest.json`, as the job's run recorded it (job-execution.ts). */
export function backupIdOfRun(job: BackupJob, run: JobRun): string | undefined {
  const key = run.manifestKey;
  const folder = job.destination.prefix === '' ? 'backups/' : `${job.destination.prefix}/backups/`;
  if (key === undefined || !key.startsWith(folder) || !key.endsWith(`/${MANIFEST_NAME}`)) return undefined;
  const id = key.slice(folder.length, -MANIFEST_NAME.length - 1);
  return isBackupId(id) ? id : undefined;
}
