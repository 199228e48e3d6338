import { runRestoreDrill } from '../../pg/restore-drill.js';
import type { DrillConfig } from '../drill-config.js';
import type { BackupJob } from '../job-config.js';
import { type KindDrillContext, type KindDrillResult } from './kind-drill.js';

/**
 * A drill of a pg-base-backup job is `holdfast pg drill` on the job's repository (restore-drill.ts):
 * the newest backup with all archived WAL into a throwaway cluster on a free port, promoted,
 * pg_amcheck, the probes, torn down. Its RPO is the age of the newest replayed transaction.
 * `restoreCommand` is the wal-fetch the scratch cluster runs (with `env`'s credentials).
 */
export async function drillPgBaseBackup(job: BackupJob, drill: DrillConfig, context: KindDrillContext & { readonly endpoint: string; readonly restoreCommand: (spool: string) => string }): Promise<KindDrillResult> {
  const record = await runRestoreDrill({
    client: context.client,
    location: { bucket: job.destination.bucket, prefix: job.destination.prefix },
    endpoint: context.endpoint,
    env: { ...context.env },
    restoreCommand: context.restoreCommand,
    probes: drill.probes.map((p) => ({ name: p.name, sql: p.sql, ...(p.database === undefined ? {} : { database: p.database }) })),
    ...(drill.scratchDirectory === undefined ? {} : { scratchRoot: drill.scratchDirectory }),
    storeEvidence: false,
    clock: context.clock,
    onStep: context.onStep,
  });
  const startedMs = Date.parse(record.startedAt);
  return {
    checks: record.checks,
    usableMs: record.rtoSeconds === null ? undefined : startedMs + record.rtoSeconds * 1000,
    newestRestorableMs: record.newestRestoredTransactionAt === null ? undefined : Date.parse(record.newestRestoredTransactionAt),
    objects: record.objects,
    target: 'a throwaway PostgreSQL cluster on a free loopback port, archive_mode off (stopped and removed afterwards)',
    ...(record.backup === null ? {} : { backupId: record.backup.id }),
  };
}
