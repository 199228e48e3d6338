import { hostname } from 'node:os';
import type { BackupJob } from '../job-config.js';
import { DRILLABLE_SOURCES } from '../drill-config.js';
import { readRunManifest } from '../job-restore.js';
import type { JobRun } from '../job-run.js';
import type { JobRunManifest } from '../job-run-manifest.js';
import { drillDirectoryRun } from './directory-drill.js';
import { drillReason, type DrillObject, type JobDrillRecord, seconds } from './drill-record.js';
import { type KindDrillContext, type KindDrillResult, message } from './kind-drill.js';
import { drillMariadbRun } from './mariadb-drill.js';
import { drillPgBaseBackup } from './pg-job-drill.js';

export interface JobDrillContext extends KindDrillContext {
  readonly trigger: 'schedule' | 'manual';
  /** The vault's S3 endpoint and the wal-fetch restore_command, for pg-base-backup drills. */
  readonly endpoint: string;
  readonly restoreCommand: (spool: string) => string;
}

/**
 * One restore drill of a job: its newest successful run (`run`; undefined when it has none)
 * restored into an isolated scratch target by the drill of its source kind, checked, measured
 * and torn down, summed up in an evidence record. Never throws for a problem of the backup or
 * the scratch target: that is a failed drill, with the reason in the record.
 */
export async function runJobDrill(job: BackupJob, run: JobRun | undefined, context: JobDrillContext): Promise<JobDrillRecord> {
  const startedMs = context.startedMs;
  let result: KindDrillResult;
  let manifest: JobRunManifest | undefined;
  const noRun = job.source.kind !== 'pg-base-backup' && (run === undefined || run.manifestKey === undefined);
  if (noRun) {
    result = { checks: [{ name: 'restore', outcome: 'failed', detail: `job ${job.name} has no successful run to restore` }], usableMs: undefined, newestRestorableMs: undefined, objects: [], target: 'none' };
  } else {
    try {
      if (job.source.kind !== 'pg-base-backup') {
        context.onStep(`reading the manifest of run ${run!.id}`);
        manifest = await readRunManifest(context.client, job.destination.bucket, run!.manifestKey!);
      }
      switch (job.source.kind) {
        case 'mariadb-dump':
          result = await drillMariadbRun(job.source, job.drill, job.destination.bucket, manifest!, context);
          break;
        case 'directory':
          result = await drillDirectoryRun(job.drill, job.destination.bucket, manifest!, context);
          break;
        case 'pg-base-backup':
          result = await drillPgBaseBackup(job, job.drill, context);
          break;
        default:
          throw new Error(`restore drills are not available for ${job.source.kind} jobs yet (drills restore ${DRILLABLE_SOURCES.join(', ')} jobs); restore it with \`holdfast jobs restore ${job.name}\` to test it by hand`);
      }
    } catch (error) {
      result = { checks: [{ name: 'restore', outcome: 'failed', detail: message(error) }], usableMs: undefined, newestRestorableMs: undefined, objects: [], target: 'none' };
    }
  }
  const finishedMs = context.clock.nowMs();
  const reason = drillReason(result.checks);
  const objects: DrillObject[] = [
    ...(manifest?.parts.map((p) => ({ key: p.key, sha256: p.sha256, size: p.size })) ?? []),
    ...result.objects,
  ];
  return {
    format: 'holdfast-evidence',
    version: 1,
    kind: 'drill',
    id: context.id,
    job: job.name,
    source: job.source.kind,
    trigger: context.trigger,
    host: hostname(),
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: new Date(finishedMs).toISOString(),
    outcome: reason === undefined ? 'passed' : 'failed',
    ...(reason === undefined ? {} : { reason }),
    backup:
      run === undefined && result.backupId === undefined
        ? null
        : {
            runId: run?.id ?? null,
            manifestKey: run?.manifestKey ?? null,
            bucket: job.destination.bucket,
            takenAt: manifest?.startedAt ?? null,
            ...(result.backupId === undefined ? {} : { pgBackupId: result.backupId }),
          },
    target: result.target,
    rtoSeconds: result.usableMs === undefined ? null : seconds(result.usableMs - startedMs),
    rpoSeconds: result.newestRestorableMs === undefined ? null : seconds(Math.max(0, startedMs - result.newestRestorableMs)),
    newestRestorableAt: result.newestRestorableMs === undefined ? null : new Date(result.newestRestorableMs).toISOString(),
    checks: result.checks,
    objects,
  };
}
