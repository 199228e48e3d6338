import type { S3Client } from '../../infra/s3-client/s3-client.js';
import type { ListedObjectVersion } from '../../infra/s3-client/s3-xml.js';
import { forEachLimited, type LockState, lockStateOf } from '../pg/repository-pruning.js';
import type { BackupJob } from './job-config.js';
import { planJobRunRetention, type JobRunRetentionPlan, type StoredRunKey } from './job-run-retention.js';

export interface JobPruneOptions {
  /** Signs as an identity with the pruner role (list, read locks, delete versions): never the writer. */
  readonly client: S3Client;
  readonly job: BackupJob;
  readonly nowMs: number;
  readonly protectedRuns: ReadonlyMap<string, 'newest-recorded-success' | 'running'>;
  readonly concurrency?: number;
}

export interface JobPruneResult {
  readonly plan: JobRunRetentionPlan;
  readonly removedRuns: readonly string[];
  /** Runs the retention let go but Object Lock (retention or legal hold) still protects. */
  readonly keptLocked: readonly { readonly runId: string; readonly lockedUntilMs: number | undefined; readonly legalHold: boolean }[];
  readonly deletedVersions: number;
  readonly deletedDeleteMarkers: number;
  readonly deletedBytes: number;
}

/**
 * Applies a job's `retention` to its runs in the destination bucket: one ListObjectVersions of
 * `PREFIX/runs/`, the plan (job-run-retention.ts), then per removable run a lock check of every
 * version (GetObjectRetention, GetObjectLegalHold) and, only if none is protected, deletes by
 * version id — manifest first, data versions before delete markers — so a run goes whole or not
 * at all. Governance retention is never bypassed. A refused delete stops the prune with the
 * server's error; what went before it is gone for good, which is what was asked.
 */
export async function pruneJobRuns(options: JobPruneOptions): Promise<JobPruneResult> {
  const { client, job, nowMs } = options;
  const bucket = job.destination.bucket;
  const versionsByKey = new Map<string, ListedObjectVersion[]>();
  for await (const version of client.listObjectVersions({ bucket, prefix: `${job.destination.prefix === '' ? '' : `${job.destination.prefix}/`}runs/` })) {
    const list = versionsByKey.get(version.key) ?? [];
    list.push(version);
    versionsByKey.set(version.key, list);
  }
  const stored: StoredRunKey[] = [...versionsByKey].map(([key, versions]) => ({
    key,
    versions: versions.filter((v) => !v.isDeleteMarker).length,
    current: versions.some((v) => v.isLatest && !v.isDeleteMarker),
    newestModifiedMs: Math.max(...versions.map((v) => (Number.isFinite(v.lastModifiedMs) ? v.lastModifiedMs : Infinity))),
  }));
  const plan = planJobRunRetention({ prefix: job.destination.prefix, stored, keepCount: job.retention.keepCount, keepDays: job.retention.keepDays, nowMs, protectedRuns: options.protectedRuns });
  const removable = plan.runs.filter((r) => !r.keep);
  const bucketLock = removable.length === 0 ? { enabled: false } : await client.getObjectLockConfiguration(bucket);

  const removedRuns: string[] = [];
  const keptLocked: JobPruneResult['keptLocked'][number][] = [];
  let deletedVersions = 0;
  let deletedDeleteMarkers = 0;
  let deletedBytes = 0;
  for (const run of removable) {
    const versions = run.keys.flatMap((key) => versionsByKey.get(key) ?? []);
    const locks: LockState[] = [];
    if (bucketLock.enabled) {
      await forEachLimited(versions.filter((v) => !v.isDeleteMarker), options.concurrency ?? 8, async (v) => {
        locks.push(await lockStateOf(client, bucket, v, nowMs));
      });
    }
    const held = locks.filter((l) => l.kind !== 'unlocked');
    if (held.length > 0) {
      const until = held.flatMap((l) => (l.kind === 'retained' ? [l.retainUntilMs] : []));
      keptLocked.push({ runId: run.runId, lockedUntilMs: until.length === 0 ? undefined : Math.max(...until), legalHold: held.some((l) => l.kind === 'legal-hold') });
      continue;
    }
    for (const key of run.keys) {
      // Data versions before delete markers: removing a marker first would make a hidden version current again.
      const ordered = [...(versionsByKey.get(key) ?? [])].sort((a, b) => Number(a.isDeleteMarker) - Number(b.isDeleteMarker));
      for (const v of ordered) {
        await client.deleteObject({ bucket, key, versionId: v.versionId });
        if (v.isDeleteMarker) deletedDeleteMarkers += 1;
        else {
          deletedVersions += 1;
          deletedBytes += v.size;
        }
      }
    }
    removedRuns.push(run.runId);
  }
  return Object.freeze({ plan, removedRuns: Object.freeze(removedRuns), keptLocked: Object.freeze(keptLocked), deletedVersions, deletedDeleteMarkers, deletedBytes });
}
