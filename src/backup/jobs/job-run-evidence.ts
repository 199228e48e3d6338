import { hostname } from 'node:os';
import type { BackupJob } from './job-config.js';
import type { JobRun } from './job-run.js';
import type { StoredObject } from './store-streamed-run.js';

/**
 * The evidence record of one backup job run (kind `job-runs`): what ran, from where to where,
 * when, how it ended and why, and every object it wrote with its version and SHA-256, so a later
 * reader can tell that the objects restored are the ones this run stored.
 */
export function jobRunEvidence(job: BackupJob, run: JobRun, stored: readonly StoredObject[]) {
  return {
    format: 'holdfast-evidence',
    version: 1,
    kind: 'job-run',
    id: run.id,
    job: job.name,
    source: job.source.kind,
    trigger: run.trigger,
    host: hostname(),
    startedAt: new Date(run.startedMs).toISOString(),
    endedAt: run.endedMs === undefined ? null : new Date(run.endedMs).toISOString(),
    outcome: run.outcome,
    error: run.error ?? null,
    destination: { bucket: job.destination.bucket, prefix: job.destination.prefix },
    manifestKey: run.manifestKey ?? null,
    bytes: run.bytes,
    objects: stored.map((o) => ({ key: o.key, ...(o.versionId === undefined ? {} : { versionId: o.versionId }), size: o.size, sha256: o.sha256 })),
  } as const;
}
