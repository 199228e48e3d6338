import type { WalArchiveStatus } from '../backup/pg/wal-archive-monitor.js';
import type { LockStatistics } from '../domain/ports.js';
import type { Clock } from '../infra/clock.js';
import { MetricsRegistry } from '../infra/metrics/metrics-registry.js';
import { ProcessCollector } from '../infra/metrics/process-collector.js';
import type { S3RequestRecord } from '../protocol/s3/request-record.js';

/** Sources read at scrape time. */
export interface MetricSources {
  readonly lockStatistics: (nowMs: number) => Promise<LockStatistics>;
  readonly alertStats: () => Promise<{ pending: number; delivered: number; failedAttempts: number; oldestPendingMs: number | undefined }>;
  readonly audit: () => { buffered: number; dropped: number; lastCheckpointMs: number | undefined };
}

/** Counters the integrity scrub feeds as it goes. */
export interface IntegrityScrubMetrics {
  versionChecked(size: number): void;
  failureFound(problem: string): void;
}

/** Retention statistics scan the versions table: at most once per this interval. */
const LOCK_STATISTICS_TTL_MS = 30_000;

/**
 * The vault's Prometheus metrics: requests by operation and status, bytes, latency, what is
 * protected by retention and legal hold, audit entries, alert delivery. Request metrics are
 * updated on the hot path through cached children (a few ns each).
 */
export class VaultMetrics {
  readonly registry: MetricsRegistry;
  readonly #process: ProcessCollector;
  readonly #requests;
  readonly #duration;
  readonly #bytesIn;
  readonly #bytesOut;
  readonly #denied;
  readonly #auditEntries;
  readonly #alertsRaised;
  #jobRuns: ReturnType<MetricsRegistry['counter']> | undefined;
  #drills: ReturnType<MetricsRegistry['counter']> | undefined;
  #jobRunsPruned: ReturnType<MetricsRegistry['counter']> | undefined;
  #drillsSkipped: ReturnType<MetricsRegistry['counter']> | undefined;
  #drillsMissed: ReturnType<MetricsRegistry['counter']> | undefined;

  constructor(clock: Clock, sources: MetricSources) {
    const registry = new MetricsRegistry();
    this.registry = registry;
    this.#process = registry.register(new ProcessCollector({ clock }));
    this.#requests = registry.counter({ name: 'holdfast_requests_total', help: 'Requests answered, by API (s3, admin), operation and HTTP status.', labelNames: ['api', 'operation', 'status'] });
    this.#duration = registry.histogram({ name: 'holdfast_request_duration_seconds', help: 'Time from the request line to the end of the response.', labelNames: ['api', 'operation'] });
    this.#bytesIn = registry.counter({ name: 'holdfast_received_bytes_total', help: 'Request payload bytes (declared length).', labelNames: ['operation'] });
    this.#bytesOut = registry.counter({ name: 'holdfast_sent_bytes_total', help: 'Response body bytes (content length).', labelNames: ['operation'] });
    this.#denied = registry.counter({ name: 'holdfast_authorization_denied_total', help: 'Actions refused by policy, by IAM action.', labelNames: ['action'] });
    this.#auditEntries = registry.counter({ name: 'holdfast_audit_entries_total', help: 'Audit log entries recorded.' });
    this.#alertsRaised = registry.counter({ name: 'holdfast_alerts_raised_total', help: 'Security alerts raised, by rule.', labelNames: ['rule'] });

    let cached: { atMs: number; stats: LockStatistics } | undefined;
    const lockStatistics = async (): Promise<LockStatistics> => {
      const nowMs = clock.nowMs();
      if (cached === undefined || nowMs - cached.atMs > LOCK_STATISTICS_TTL_MS) cached = { atMs: nowMs, stats: await sources.lockStatistics(nowMs) };
      return cached.stats;
    };
    registry.gauge({
      name: 'holdfast_objects_under_retention',
      help: 'Object versions whose Object Lock retention has not expired (refreshed at most every 30 s).',
      collect: async (g) => g.set((await lockStatistics()).retainedVersions),
    });
    registry.gauge({ name: 'holdfast_bytes_under_retention', help: 'Bytes of object versions under unexpired retention.', collect: async (g) => g.set((await lockStatistics()).retainedBytes) });
    registry.gauge({ name: 'holdfast_objects_under_legal_hold', help: 'Object versions with a legal hold on.', collect: async (g) => g.set((await lockStatistics()).legalHoldVersions) });
    registry.gauge({ name: 'holdfast_bytes_under_legal_hold', help: 'Bytes of object versions with a legal hold on.', collect: async (g) => g.set((await lockStatistics()).legalHoldBytes) });
    registry.gauge({ name: 'holdfast_audit_buffered_entries', help: 'Audit entries recorded but not yet committed.', collect: (g) => g.set(sources.audit().buffered) });
    registry.gauge({ name: 'holdfast_audit_dropped_entries', help: 'Audit entries dropped because the store failed for too long (each gap is marked in the chain).', collect: (g) => g.set(sources.audit().dropped) });
    registry.gauge({
      name: 'holdfast_audit_last_checkpoint_timestamp_seconds',
      help: 'When the audit chain head was last signed into the locked system bucket (0: never).',
      collect: (g) => g.set((sources.audit().lastCheckpointMs ?? 0) / 1000),
    });
    registry.gauge({ name: 'holdfast_alerts_pending', help: 'Alert deliveries queued and not yet delivered.', collect: async (g) => g.set((await sources.alertStats()).pending) });
    registry.gauge({ name: 'holdfast_alerts_delivered', help: 'Alert deliveries completed since the data directory was created.', collect: async (g) => g.set((await sources.alertStats()).delivered) });
    registry.gauge({ name: 'holdfast_alert_delivery_failures', help: 'Failed alert delivery attempts since the data directory was created.', collect: async (g) => g.set((await sources.alertStats()).failedAttempts) });
    registry.gauge({
      name: 'holdfast_alerts_oldest_pending_age_seconds',
      help: 'Age of the oldest undelivered alert (0 when none wait).',
      collect: async (g) => {
        const oldest = (await sources.alertStats()).oldestPendingMs;
        g.set(oldest === undefined ? 0 : Math.max(0, (clock.nowMs() - oldest) / 1000));
      },
    });
  }

  /**
   * Backup jobs: runs by outcome (counted as they finish), and per job, read at scrape time, the
   * last success, the last run's duration and whether the dead man's switch is tripped.
   */
  watchBackupJobs(statuses: () => readonly { job: { name: string; expectedIntervalMs: number }; lastSuccessMs: number | undefined; lastRun: { startedMs: number; endedMs: number | undefined } | undefined; overdue: boolean; running: unknown }[]): void {
    const runs = this.registry.counter({ name: 'holdfast_backup_job_runs_total', help: 'Finished backup job runs, by job and outcome (succeeded, failed, timed-out, interrupted).', labelNames: ['job', 'outcome'] });
    this.#jobRuns = runs;
    for (const s of statuses()) for (const outcome of ['succeeded', 'failed', 'timed-out', 'interrupted']) runs.labels(s.job.name, outcome);
    const pruned = this.registry.counter({ name: 'holdfast_backup_job_pruned_runs_total', help: "Runs of a backup job removed by its retention (Object Lock expired, older than the job's keepCount/keepDays).", labelNames: ['job'] });
    this.#jobRunsPruned = pruned;
    for (const s of statuses()) pruned.labels(s.job.name);
    const labelNames = ['job'] as const;
    this.registry.gauge({
      name: 'holdfast_backup_job_last_success_timestamp_seconds',
      help: 'When the last successful run of a backup job ended (0: never).',
      labelNames,
      collect: (g) => {
        for (const s of statuses()) g.labels(s.job.name).set((s.lastSuccessMs ?? 0) / 1000);
      },
    });
    this.registry.gauge({
      name: 'holdfast_backup_job_last_duration_seconds',
      help: 'How long the last finished run of a backup job took, whatever its outcome.',
      labelNames,
      collect: (g) => {
        for (const s of statuses()) if (s.lastRun?.endedMs !== undefined) g.labels(s.job.name).set((s.lastRun.endedMs - s.lastRun.startedMs) / 1000);
      },
    });
    this.registry.gauge({
      name: 'holdfast_backup_job_overdue',
      help: "1 when a backup job has not succeeded within its expected interval (the dead man's switch; alert backup-job-overdue).",
      labelNames,
      collect: (g) => {
        for (const s of statuses()) g.labels(s.job.name).set(s.overdue ? 1 : 0);
      },
    });
    this.registry.gauge({
      name: 'holdfast_backup_job_running',
      help: '1 while a run of the backup job is in progress.',
      labelNames,
      collect: (g) => {
        for (const s of statuses()) g.labels(s.job.name).set(s.running === undefined ? 0 : 1);
      },
    });
  }

  /**
   * Restore drills: drills by outcome (counted as they finish) and, per job, read at scrape time
   * from the newest drill record: whether it passed, when it finished, its RTO and RPO.
   */
  watchRestoreDrills(jobs: readonly string[], last: () => readonly { job: string; passed: boolean; finishedMs: number; rtoSeconds: number | null; rpoSeconds: number | null }[]): void {
    const drills = this.registry.counter({ name: 'holdfast_restore_drills_total', help: 'Finished restore drills, by job and outcome (passed, failed, interrupted).', labelNames: ['job', 'outcome'] });
    this.#drillsSkipped = this.registry.counter({ name: 'holdfast_restore_drills_skipped_total', help: 'Scheduled restore drills that did not start because the previous drill of the job was still running.', labelNames: ['job'] });
    this.#drills = drills;
    for (const job of jobs) for (const outcome of ['passed', 'failed']) drills.labels(job, outcome);
    this.#drillsMissed = this.registry.counter({ name: 'holdfast_restore_drills_missed_total', help: 'Scheduled restore drill times that passed while the server was down (counted at start-up; one catch-up drill runs).', labelNames: ['job'] });
    for (const job of jobs) this.#drillsSkipped.labels(job);
    for (const job of jobs) this.#drillsMissed.labels(job);
    const labelNames = ['job'] as const;
    const gauge = (name: string, help: string, value: (d: ReturnType<typeof last>[number]) => number | null) =>
      this.registry.gauge({
        name,
        help,
        labelNames,
        collect: (g) => {
          for (const d of last()) {
            const v = value(d);
            if (v !== null) g.labels(d.job).set(v);
          }
        },
      });
    gauge('holdfast_restore_drill_last_passed', 'Whether the newest restore drill of a backup job passed (1) or failed (0); absent before the first drill.', (d) => (d.passed ? 1 : 0));
    gauge('holdfast_restore_drill_last_timestamp_seconds', 'When the newest restore drill of a backup job finished.', (d) => d.finishedMs / 1000);
    gauge('holdfast_restore_drill_last_rto_seconds', 'Recovery time of the newest restore drill: seconds from its start to a usable restore.', (d) => d.rtoSeconds);
    gauge('holdfast_restore_drill_last_rpo_seconds', 'Recovery point of the newest restore drill: age of the newest restorable moment when it started.', (d) => d.rpoSeconds);
  }

  restoreDrillSkipped(job: string): void {
    this.#drillsSkipped?.labels(job).inc();
  }

  restoreDrillMissed(job: string, count: number): void {
    this.#drillsMissed?.labels(job).inc(count);
  }

  restoreDrillFinished(job: string, outcome: string): void {
    this.#drills?.labels(job, outcome).inc();
  }

  backupJobFinished(job: string, outcome: string): void {
    this.#jobRuns?.labels(job, outcome).inc();
  }

  backupJobRunsPruned(job: string, runs: number): void {
    if (runs > 0) this.#jobRunsPruned?.labels(job).inc(runs);
  }

  /**
   * The integrity scrub: versions and bytes read back and damaged versions found (counted as the
   * scrub goes), and, read at scrape time, when the last pass ended, when the rotating walk last
   * covered the whole vault, and whether a pass is running.
   */
  watchIntegrityScrub(status: () => { lastPassEndedMs: number | undefined; lastCycleCompletedMs: number | undefined; running: boolean }): IntegrityScrubMetrics {
    const versions = this.registry.counter({ name: 'holdfast_scrub_versions_total', help: 'Object versions the integrity scrub read back and checked.' });
    const bytes = this.registry.counter({ name: 'holdfast_scrub_bytes_total', help: 'Bytes the integrity scrub read back.' });
    const failures = this.registry.counter({ name: 'holdfast_scrub_failures_total', help: 'Object versions the integrity scrub found damaged or missing, by problem (alert object-integrity-failed).', labelNames: ['problem'] });
    for (const problem of ['missing-blob', 'size-mismatch', 'etag-mismatch', 'checksum-mismatch', 'read-error']) failures.labels(problem);
    this.registry.gauge({
      name: 'holdfast_scrub_last_pass_timestamp_seconds',
      help: 'When the last integrity scrub pass ended, whatever its outcome (0: never).',
      collect: (g) => g.set((status().lastPassEndedMs ?? 0) / 1000),
    });
    this.registry.gauge({
      name: 'holdfast_scrub_last_full_cycle_timestamp_seconds',
      help: 'When the rotating integrity scrub last reached the end of the vault, i.e. every version had been read since the cycle before (0: never).',
      collect: (g) => g.set((status().lastCycleCompletedMs ?? 0) / 1000),
    });
    this.registry.gauge({ name: 'holdfast_scrub_running', help: '1 while an integrity scrub pass runs.', collect: (g) => g.set(status().running ? 1 : 0) });
    return {
      versionChecked: (size) => {
        versions.inc();
        bytes.inc(size);
      },
      failureFound: (problem) => failures.labels(problem).inc(),
    };
  }

  /** The RPO of watched PostgreSQL archives, read at scrape time. */
  watchWalArchives(statuses: () => readonly WalArchiveStatus[]): void {
    const labelNames = ['bucket', 'prefix'] as const;
    this.registry.gauge({
      name: 'holdfast_pg_wal_last_archived_timestamp_seconds',
      help: 'When the newest WAL segment of a watched PostgreSQL archive arrived (0: none yet).',
      labelNames,
      collect: (g) => {
        for (const s of statuses()) g.labels(s.watch.bucket, s.watch.prefix).set((s.lastArchivedMs ?? 0) / 1000);
      },
    });
    this.registry.gauge({
      name: 'holdfast_pg_wal_archive_age_seconds',
      help: 'Seconds since the newest WAL segment of a watched archive arrived (since watching began, if none has): the recovery point a restore would miss.',
      labelNames,
      collect: (g) => {
        for (const s of statuses()) g.labels(s.watch.bucket, s.watch.prefix).set(s.ageSeconds);
      },
    });
    this.registry.gauge({
      name: 'holdfast_pg_wal_archive_max_age_seconds',
      help: 'The bound on holdfast_pg_wal_archive_age_seconds above which the wal-archive-stale alert fires.',
      labelNames,
      collect: (g) => {
        for (const s of statuses()) g.labels(s.watch.bucket, s.watch.prefix).set(s.watch.maxArchiveAgeSeconds);
      },
    });
  }

  observeRequest(api: 's3' | 'admin', record: S3RequestRecord): void {
    const operation = record.operation ?? 'Unknown';
    this.#requests.labels(api, operation, String(record.status)).inc();
    this.#duration.labels(api, operation).observe(record.durationSeconds);
    if (record.bytesIn > 0) this.#bytesIn.labels(operation).inc(record.bytesIn);
    if (record.bytesOut > 0) this.#bytesOut.labels(operation).inc(record.bytesOut);
    if (record.denial !== undefined) this.#denied.labels(record.denial.action).inc();
  }

  auditEntryRecorded(): void {
    this.#auditEntries.inc();
  }

  alertRaised(rule: string): void {
    this.#alertsRaised.labels(rule).inc();
  }

  close(): void {
    this.#process.stop();
  }
}
