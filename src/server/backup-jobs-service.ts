import { join } from 'node:path';
import type { BackupJob } from '../backup/jobs/job-config.js';
import type { JobRun } from '../backup/jobs/job-run.js';
import { JobRunner, JobRunRefused } from '../backup/jobs/job-runner.js';
import { JobScheduler, type JobStatus } from '../backup/jobs/job-scheduler.js';
import { SqliteJobRunHistory } from '../backup/jobs/sqlite-job-run-history.js';
import { FileDrillJournal } from '../backup/jobs/drills/drill-journal.js';
import { DrillRunner } from '../backup/jobs/drills/drill-runner.js';
import type { JobDrillRecord } from '../backup/jobs/drills/drill-record.js';
import { EvidenceRecorder } from '../backup/jobs/evidence-recorder.js';
import { jobRunEvidence } from '../backup/jobs/job-run-evidence.js';
import { formatRepositoryLocation } from '../backup/pg/backup-repository.js';
import { startRecoveryPrefetch } from '../cli/pg-prefetch-worker-launch.js';
import { DEFAULT_RESTORE_PREFETCH, defaultRestoreCommand } from '../cli/pg-restore-options.js';
import type { EvidenceArchive } from '../domain/evidence/evidence-archive.js';
import type { NewSecurityAlert } from '../domain/alerts/security-alert.js';
import { securityAlerts } from '../domain/alerts/security-alerts.js';
import { s3errors } from '../domain/errors.js';
import type { IdentityRegistry } from '../domain/identity/identity-registry.js';
import { Secret } from '../domain/secret.js';
import type { Clock } from '../infra/clock.js';
import { S3Client } from '../infra/s3-client/s3-client.js';
import type { AdminJobsApi } from '../protocol/admin/admin-routes.js';
import type { VaultMetrics } from './vault-metrics.js';

/** The service identity the server's job runner writes as: backup-writer, nothing more. */
export const JOB_RUNNER_IDENTITY = 'holdfast-job-runner';
/**
 * The service identity that prunes runs by each job's retention: the pruner role (list, read
 * locks, delete versions whose lock expired), never write — the writer can never delete, the
 * pruner can never write (separation of duties).
 */
export const JOB_PRUNER_IDENTITY = 'holdfast-job-pruner';
/** The scheduler looks at the clock this often (start times and budgets are this precise). */
const TICK_MS = 15_000;

export interface BackupJobsServiceOptions {
  readonly jobs: readonly BackupJob[];
  readonly dataDir: string;
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly identities: IdentityRegistry;
  /** The server's own S3 endpoint (the runner writes through it, signed, audited, like any client). */
  readonly endpoint: string;
  readonly region: string;
  readonly ca: string | undefined;
  readonly metrics: VaultMetrics;
  /** Where job-run and drill evidence is kept write-once (the vault's system bucket). */
  readonly evidence: EvidenceArchive;
  readonly raise: (alert: NewSecurityAlert, routes: readonly string[] | undefined) => void;
  readonly log: { info(message: string): void; error(message: string, error?: unknown): void };
}

export interface BackupJobsService {
  readonly api: AdminJobsApi;
  close(): Promise<void>;
}

/**
 * Backup jobs inside `holdfast server`: the history (DATA/metadata/jobs.sqlite), the runner
 * writing through the server's own S3 endpoint with a backup-writer key — the same code and the
 * same rights as a separate agent — the scheduler, metrics, and alerts on failure and on the
 * dead man's switch. Runs a previous process left `running` are recorded `interrupted` (and
 * alerted) before anything else starts.
 */
export async function startBackupJobs(options: BackupJobsServiceOptions): Promise<BackupJobsService> {
  const { jobs, clock, log } = options;
  const history = new SqliteJobRunHistory(join(options.dataDir, 'metadata', 'jobs.sqlite'));
  const byName = new Map(jobs.map((job) => [job.name, job]));
  for (const run of history.interruptLeftovers(clock.nowMs(), 'the server stopped while the run was in progress (crash, kill or power loss); no manifest was written by this run')) {
    log.error(`backup job ${run.job}: run ${run.id} was left running by the previous process; recorded as interrupted`);
    const job = byName.get(run.job);
    options.raise(securityAlerts.backupJobFailed({ job: run.job, outcome: 'interrupted', runId: run.id, error: run.error ?? 'interrupted' }), job?.alertRoutes);
  }
  const credentials = await serviceCredentials(options.identities, JOB_RUNNER_IDENTITY, 'backup-writer', 'backup jobs of holdfast server');
  const client = new S3Client({ endpoint: new URL(options.endpoint), region: options.region, credentials: { ...credentials, source: `identity ${JOB_RUNNER_IDENTITY}` }, ca: options.ca });
  const recorder = new EvidenceRecorder(history, options.evidence, (e) => log.error('storing an evidence record in the evidence archive failed (kept in the job history; retried)', e));
  // Evidence of job runs is written as runs finish; the runner does not wait for it.
  const pendingEvidence = new Set<Promise<void>>();
  const keep = (promise: Promise<void>) => {
    pendingEvidence.add(promise);
    void promise.finally(() => pendingEvidence.delete(promise));
  };
  const prunerCredentials = await serviceCredentials(options.identities, JOB_PRUNER_IDENTITY, 'pruner', 'retention pruning of backup job runs');
  const pruneClient = new S3Client({ endpoint: new URL(options.endpoint), region: options.region, credentials: { ...prunerCredentials, source: `identity ${JOB_PRUNER_IDENTITY}` }, ca: options.ca });
  const runner = new JobRunner({
    jobs,
    history,
    clock,
    client: () => client,
    pruneClient: () => pruneClient,
    env: options.env,
    events: {
      pruned: (job, outcome) => {
        if (outcome.ok) {
          options.metrics.backupJobRunsPruned(job.name, outcome.removedRuns.length);
          if (outcome.removedRuns.length + outcome.keptLocked.length > 0) {
            log.info(`backup job ${job.name}: retention removed ${outcome.removedRuns.length} run(s) (${outcome.deletedVersions} versions, ${outcome.deletedBytes} bytes)${outcome.keptLocked.length === 0 ? '' : `; ${outcome.keptLocked.length} run(s) past retention stay until their Object Lock expires`}`);
          }
          return;
        }
        log.error(`backup job ${job.name}: pruning by retention failed: ${outcome.error}`);
        options.raise(securityAlerts.backupJobFailed({ job: job.name, outcome: 'prune failed', error: `removing runs past the job's retention failed: ${outcome.error}`, bucket: job.destination.bucket, prefix: job.destination.prefix }), job.alertRoutes);
      },
      finished: (job, run, stored) => {
        options.metrics.backupJobFinished(job.name, run.outcome);
        keep(recorder.record('job-runs', run.id, job.name, run.outcome, run.endedMs ?? clock.nowMs(), jobRunEvidence(job, run, stored)));
        if (run.outcome === 'succeeded') {
          log.info(`backup job ${job.name}: run ${run.id} succeeded (${run.objects} objects, ${run.bytes} bytes)`);
          return;
        }
        log.error(`backup job ${job.name}: run ${run.id} ${run.outcome}: ${run.error ?? ''}`);
        options.raise(
          securityAlerts.backupJobFailed({ job: job.name, outcome: run.outcome, runId: run.id, error: run.error ?? run.outcome, bucket: job.destination.bucket, prefix: job.destination.prefix }),
          job.alertRoutes,
        );
      },
    },
  });
  const scheduler = new JobScheduler(runner, history, clock, {
    overdue: (status) => {
      const alert = securityAlerts.backupJobOverdue({
        job: status.job.name,
        schedule: status.job.schedule.text,
        timeZone: status.job.timeZone,
        lastSuccessMs: status.lastSuccessMs,
        sinceMs: status.sinceMs,
        expectedIntervalMs: status.job.expectedIntervalMs,
        nowMs: clock.nowMs(),
        lastOutcome: status.lastRun?.outcome,
      });
      log.error(`ALERT: ${alert.summary}`);
      options.raise(alert, status.job.alertRoutes);
    },
    skipped: (job, reason) => log.error(`backup job ${job.name}: scheduled run skipped: ${reason}`),
  });
  options.metrics.watchBackupJobs(() => scheduler.statuses());
  scheduler.start(TICK_MS, (e) => log.error('the backup job scheduler failed', e));

  const drills = new DrillRunner({
    jobs,
    history,
    clock,
    client: () => client,
    // The scratch PostgreSQL cluster's restore_command (wal-fetch) reads WAL with the runner's key.
    env: { ...options.env, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey.reveal() },
    endpoint: () => options.endpoint,
    // An https endpoint with the vault's own certificate: wal-fetch in the scratch cluster must trust it.
    caBundle: options.endpoint.startsWith('https:') ? options.ca : undefined,
    journal: new FileDrillJournal(join(options.dataDir, 'metadata', 'drills-in-progress')),
    restoreCommand: (job, spool) => defaultRestoreCommand(formatRepositoryLocation({ bucket: job.destination.bucket, prefix: job.destination.prefix }), options.endpoint, ['--prefetch', String(DEFAULT_RESTORE_PREFETCH), '--spool', spool]),
    startPrefetch: (job, spool, firstSegment, segmentBytes, env) => {
      startRecoveryPrefetch({
        spoolRoot: spool,
        firstSegment,
        segmentBytes,
        count: DEFAULT_RESTORE_PREFETCH,
        repository: formatRepositoryLocation({ bucket: job.destination.bucket, prefix: job.destination.prefix }),
        endpoint: options.endpoint,
        keyFile: undefined,
        env,
      });
    },
    finished: async (job, record) => {
      options.metrics.restoreDrillFinished(job.name, record.outcome);
      await recorder.record('drills', record.id, job.name, record.outcome, Date.parse(record.finishedAt), { ...record });
      if (record.outcome === 'passed') {
        log.info(`restore drill ${record.id} of ${job.name} passed (RTO ${record.rtoSeconds} s, RPO ${record.rpoSeconds} s)`);
        return;
      }
      log.error(`restore drill ${record.id} of ${job.name} ${record.outcome}: ${record.reason ?? ''}`);
      options.raise(securityAlerts.restoreDrillFailed({ job: job.name, drillId: record.id, reason: record.reason ?? 'failed', runId: record.backup?.runId ?? null, bucket: job.destination.bucket }), job.alertRoutes);
    },
    skipped: (job, reason) => {
      options.metrics.restoreDrillSkipped(job.name);
      log.error(`restore drill of ${job.name}: the scheduled drill did not start: ${reason}`);
    },
    missed: (job, missed) => {
      options.metrics.restoreDrillMissed(job.name, missed.count);
      const alert = securityAlerts.restoreDrillMissed({ job: job.name, schedule: job.drill.schedule?.text ?? '', timeZone: job.drill.timeZone, ...missed });
      log.error(`ALERT: ${alert.summary}`);
      options.raise(alert, job.alertRoutes);
    },
    onStep: (job, step) => log.info(`restore drill of ${job}: ${step}`),
  });
  options.metrics.watchRestoreDrills(
    jobs.map((j) => j.name),
    () =>
      jobs.flatMap((job) => {
        const [newest] = history.listEvidence({ kind: 'drills', job: job.name, limit: 1 });
        if (newest === undefined) return [];
        const record = JSON.parse(newest.record) as JobDrillRecord;
        return [{ job: job.name, passed: record.outcome === 'passed', finishedMs: Date.parse(record.finishedAt), rtoSeconds: record.rtoSeconds, rpoSeconds: record.rpoSeconds }];
      }),
  );
  // Drills a previous process left half-done: their scratch targets torn down, each recorded interrupted (and alerted).
  for (const record of await drills.recoverInterrupted()) log.error(`restore drill ${record.id} of ${record.job} was cut off by the previous process; ${record.target}`);
  // Then the scheduled drills nobody ran while the server was down: reported, and drilled once now.
  drills.catchUpMissed();
  const drillTimer = setInterval(() => {
    try {
      drills.tick();
    } catch (e) {
      log.error('the restore drill scheduler failed', e);
    }
    void recorder.retryPending();
  }, TICK_MS);
  drillTimer.unref();

  const api: AdminJobsApi = {
    list: async () => ({ jobs: scheduler.statuses().map(statusView) }),
    start: async (name) => {
      try {
        const { id } = runner.start(name, 'manual');
        return { run: runView(history.get(id)!) };
      } catch (error) {
        if (error instanceof JobRunRefused) throw error.reason === 'no-such-job' ? s3errors.noSuchEntity(`Backup job "${name}"`) : s3errors.invalidRequest(error.message);
        throw error;
      }
    },
    run: async (id) => {
      const run = history.get(id);
      if (run === undefined) throw s3errors.noSuchEntity(`Job run "${id}"`);
      return { run: runView(run), job: byName.get(run.job) === undefined ? undefined : jobView(byName.get(run.job)!) };
    },
    startDrill: async (name) => {
      try {
        const { id, startedMs } = drills.start(name, 'manual');
        return { drill: { id, job: name, status: 'running', startedAt: iso(startedMs) } };
      } catch (error) {
        if (error instanceof JobRunRefused) throw error.reason === 'no-such-job' ? s3errors.noSuchEntity(`Backup job "${name}"`) : s3errors.invalidRequest(error.message);
        throw error;
      }
    },
    drill: async (id) => {
      const active = drills.active(id);
      const steps = drills.steps(id) ?? [];
      if (active !== undefined) return { drill: { id, job: active.job, status: 'running', startedAt: iso(active.startedMs), step: active.step, steps } };
      const kept = history.getEvidence('drills', id);
      if (kept === undefined) throw s3errors.noSuchEntity(`Restore drill "${id}"`);
      return { drill: { id, job: kept.job, status: kept.outcome, archivedAt: kept.archivedAt ?? null, steps, record: JSON.parse(kept.record) as unknown } };
    },
    history: async (job, limit) => {
      if (job !== undefined && !byName.has(job) && history.list({ job, limit: 1 }).length === 0) throw s3errors.noSuchEntity(`Backup job "${job}"`);
      return { runs: history.list({ ...(job === undefined ? {} : { job }), limit }).map(runView) };
    },
  };
  return {
    api,
    close: async () => {
      clearInterval(drillTimer);
      await scheduler.stop();
      await Promise.all([runner.close(), drills.close()]);
      await Promise.all(pendingEvidence);
      client.close();
      pruneClient.close();
      history.close();
    },
  };
}

/** A service identity with one role and its key, created on first use and kept (sealed) in the identity registry. */
async function serviceCredentials(identities: IdentityRegistry, name: string, role: 'backup-writer' | 'pruner', description: string): Promise<{ accessKeyId: string; secretAccessKey: Secret }> {
  if (!identities.listIdentities().some((i) => i.name === name)) {
    await identities.createIdentity({ name, kind: 'service', roles: [role] }, 'holdfast-server');
  }
  for (const key of identities.listAccessKeys(name)) {
    const secret = key.status === 'active' ? identities.secretFor(key.accessKeyId) : undefined;
    if (secret !== undefined) return { accessKeyId: key.accessKeyId, secretAccessKey: new Secret(secret) };
  }
  const created = await identities.createAccessKey(name, { description });
  return { accessKeyId: created.key.accessKeyId, secretAccessKey: created.secretAccessKey };
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

function jobView(job: BackupJob) {
  return {
    name: job.name,
    source: job.source.kind,
    schedule: job.schedule.text,
    timeZone: job.timeZone,
    destination: job.destination,
    retention: { keepCount: job.retention.keepCount ?? null, keepDays: job.retention.keepDays ?? null },
    timeBudgetMinutes: job.timeBudgetMs / 60_000,
    expectedIntervalHours: job.expectedIntervalMs / 3600_000,
    alertRoutes: job.alertRoutes ?? null,
    databases: job.source.kind === 'mariadb-dump' ? job.source.databases : job.source.kind === 'pg-dump' ? [job.source.database] : null,
  };
}

export function statusView(status: JobStatus) {
  return {
    ...jobView(status.job),
    nextRunAt: iso(status.nextRunMs),
    running: status.running === undefined ? null : { id: status.running.id, startedAt: iso(status.running.startedMs) },
    lastRun: status.lastRun === undefined ? null : runView(status.lastRun),
    lastSuccessAt: iso(status.lastSuccessMs),
    overdue: status.overdue,
  };
}

export function runView(run: JobRun) {
  return {
    id: run.id,
    job: run.job,
    trigger: run.trigger,
    outcome: run.outcome,
    startedAt: iso(run.startedMs),
    endedAt: iso(run.endedMs),
    durationSeconds: run.endedMs === undefined ? null : (run.endedMs - run.startedMs) / 1000,
    bytes: run.bytes,
    objects: run.objects,
    manifestKey: run.manifestKey ?? null,
    error: run.error ?? null,
    logExcerpt: run.logExcerpt ?? null,
  };
}
