import { join } from 'node:path';
import type { NewSecurityAlert } from '../domain/alerts/security-alert.js';
import { securityAlerts } from '../domain/alerts/security-alerts.js';
import { s3errors } from '../domain/errors.js';
import { IntegrityScrubber } from '../domain/scrub/integrity-scrubber.js';
import type { ScrubFinding, ScrubPass } from '../domain/scrub/scrub-records.js';
import type { Vault } from '../domain/vault.js';
import type { Clock } from '../infra/clock.js';
import { SqliteScrubRecords } from '../infra/scrub/sqlite-scrub-records.js';
import type { AdminScrubApi } from '../protocol/admin/admin-routes.js';
import type { VaultMetrics } from './vault-metrics.js';

export interface IntegrityScrubServiceOptions {
  readonly vault: Vault;
  readonly dataDir: string;
  readonly clock: Clock;
  /** 0: no scheduled passes. */
  readonly intervalHours: number;
  readonly fraction: number;
  readonly bytesPerSecond: number;
  readonly metrics: VaultMetrics;
  readonly raise: (alert: NewSecurityAlert) => void;
  /** A system entry in the audit log. */
  readonly record: (action: string, resource: string, details: Record<string, string | number | boolean | null>) => Promise<unknown>;
  readonly log: { info(message: string): void; error(message: string, error?: unknown): void };
  /** Whether this process runs the scheduled passes (cluster nodes: only the leader); manual passes always run. */
  readonly runsScheduled?: () => boolean;
}

export interface IntegrityScrubService {
  readonly api: AdminScrubApi;
  close(): Promise<void>;
}

/**
 * The integrity scrub inside `holdfast server`: passes on a timer (the first one interval after
 * start-up, so a restart loop does not re-read the vault each time) and on demand through the
 * admin API. Each damaged version raises `object-integrity-failed`, is kept in
 * DATA/metadata/scrub.sqlite and gets a system entry in the audit log.
 */
export function startIntegrityScrub(options: IntegrityScrubServiceOptions): IntegrityScrubService {
  const { clock, log } = options;
  const records = new SqliteScrubRecords(join(options.dataDir, 'metadata', 'scrub.sqlite'));
  const leftovers = records.interruptLeftovers(clock.nowMs());
  if (leftovers > 0) log.info(`integrity scrub: ${leftovers} pass(es) cut off by the last stop recorded as interrupted; the next pass resumes at the saved position`);
  let lastPassEndedMs = records.passes(1)[0]?.endedMs;
  const counters = options.metrics.watchIntegrityScrub(() => ({ lastPassEndedMs, lastCycleCompletedMs: records.lastCycleCompletedMs(), running: scrubber.running !== undefined }));
  const scrubber: IntegrityScrubber = new IntegrityScrubber({
    vault: options.vault,
    records,
    clock,
    bytesPerSecond: options.bytesPerSecond,
    onVersionChecked: (size) => counters.versionChecked(size),
    onFinding: (finding) => {
      counters.failureFound(finding.problem);
      log.error(`ALERT: integrity scrub: ${finding.bucket}/${finding.key} (version ${finding.versionId}) ${finding.problem}: ${finding.detail}`);
      options.raise(securityAlerts.objectIntegrityFailed(finding));
      void options
        .record('system:ObjectIntegrityFailed', `${finding.bucket}/${finding.key}`, { versionId: finding.versionId, problem: finding.problem, detail: finding.detail, passId: finding.passId })
        .catch((e: unknown) => log.error('recording an integrity finding in the audit log failed', e));
    },
    onPassEnd: (pass) => {
      lastPassEndedMs = pass.endedMs;
      log.info(`integrity scrub ${pass.id} ${pass.outcome}: ${pass.versions} of ${pass.totalVersions} versions, ${pass.bytes} bytes, ${pass.failures} damaged${pass.error === undefined ? '' : ` (${pass.error})`}`);
      void options
        .record('system:IntegrityScrubFinished', '', { passId: pass.id, outcome: pass.outcome, versions: pass.versions, bytes: pass.bytes, failures: pass.failures, cycleCompleted: pass.cycleCompleted })
        .catch((e: unknown) => log.error('recording the scrub pass in the audit log failed', e));
    },
  });
  const timer =
    options.intervalHours === 0
      ? undefined
      : setInterval(() => {
          if (scrubber.running === undefined && (options.runsScheduled?.() ?? true)) scrubber.start('scheduled', options.fraction);
        }, options.intervalHours * 3600_000);
  timer?.unref();

  const api: AdminScrubApi = {
    start: (fraction) => {
      const { pass, started } = scrubber.start('manual', fraction ?? options.fraction);
      return Promise.resolve({ pass: passView(pass), started });
    },
    status: (limit) =>
      Promise.resolve({
        schedule: { intervalHours: options.intervalHours, fraction: options.fraction, bytesPerSecond: options.bytesPerSecond },
        running: scrubber.running === undefined ? null : passView(scrubber.running),
        lastCycleCompletedAt: iso(records.lastCycleCompletedMs()),
        cursor: records.cursor() ?? null,
        passes: records.passes(limit).map(passView),
        findings: records.findings({ limit }).map(findingView),
      }),
    pass: (id) => {
      const pass = records.pass(id);
      if (pass === undefined) throw s3errors.invalidArgument(`No integrity scrub pass ${id}.`, 'pass', id);
      return Promise.resolve({ pass: passView(pass), findings: records.findings({ passId: id, limit: 1000 }).map(findingView) });
    },
  };
  return {
    api,
    close: async () => {
      if (timer !== undefined) clearInterval(timer);
      await scrubber.close();
      records.close();
    },
  };
}

function passView(pass: ScrubPass) {
  return {
    id: pass.id,
    trigger: pass.trigger,
    outcome: pass.outcome,
    startedAt: iso(pass.startedMs),
    endedAt: iso(pass.endedMs),
    fraction: pass.fraction,
    totalVersions: pass.totalVersions,
    plannedVersions: pass.plannedVersions,
    versions: pass.versions,
    bytes: pass.bytes,
    failures: pass.failures,
    fromPosition: pass.fromPosition ?? null,
    toPosition: pass.toPosition ?? null,
    cycleCompleted: pass.cycleCompleted,
    error: pass.error ?? null,
  };
}

function findingView(finding: ScrubFinding) {
  return { passId: finding.passId, at: iso(finding.atMs), bucket: finding.bucket, key: finding.key, versionId: finding.versionId, size: finding.size, problem: finding.problem, detail: finding.detail };
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
