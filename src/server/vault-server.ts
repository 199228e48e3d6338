import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerConfig } from '../config/server-config.js';
import type { MetadataStore } from '../domain/ports.js';
import { BucketProtection } from '../domain/bucket-protection.js';
import { AccessControl, parseBucketPolicy } from '../domain/identity/access-control.js';
import { ChangeApprovals } from '../domain/identity/change-approvals.js';
import { IdentityRegistry, SealedSecretMismatchError } from '../domain/identity/identity-registry.js';
import type { AccessDecider } from '../protocol/s3/authorization.js';
import { MultipartUploads } from '../domain/multipart.js';
import { ObjectLocks } from '../domain/object-locks.js';
import { sweepOrphanBlobs } from '../domain/orphan-sweep.js';
import { Vault } from '../domain/vault.js';
import { DigestWorkerPool } from '../infra/checksum/digest-worker-pool.js';
import type { Clock } from '../infra/clock.js';
import type { ServerResponse } from 'node:http';
import { s3errors } from '../domain/errors.js';
import { SecretBox } from '../infra/crypto/secret-box.js';
import { ADMIN_PREFIX, createAdminHandler } from '../protocol/admin/admin-http-handler.js';
import { createS3Handler } from '../protocol/s3/s3-http-handler.js';
import { type RootCredentialsOutcome, bootstrapRootCredentials } from './root-credentials-bootstrap.js';
import { RetentionClock } from '../domain/retention-clock.js';
import { ConfigError } from '../config/server-config.js';
import { Alerts } from '../domain/alerts/alerts.js';
import { securityAlerts } from '../domain/alerts/security-alerts.js';
import { AuditCheckpointer } from '../domain/audit/audit-checkpointer.js';
import { AuditLog } from '../domain/audit/audit-log.js';
import { exportAuditLog } from '../domain/audit/export-audit-log.js';
import { verifyAuditLog } from '../domain/audit/verify-audit-log.js';
import { AlertConfigError, parseAlertChannelsConfig } from '../infra/alerts/channels/alert-channel-config.js';
import { createAlertChannels } from '../infra/alerts/channels/create-alert-channels.js';
import { SqliteAlertQueueStore } from '../infra/alerts/sqlite/sqlite-alert-queue-store.js';
import { AuditSigner } from '../infra/audit/audit-signer.js';
import { type AuditEntrySink, createJsonLinesSink } from '../infra/audit/json-lines-sink.js';
import { createSyslogSink } from '../infra/audit/syslog-sink.js';
import { SqliteAuditStore } from '../infra/audit/sqlite/sqlite-audit-store.js';
import { PROMETHEUS_CONTENT_TYPE } from '../infra/metrics/exposition.js';
import { TlsFilesError, loadTlsFiles } from '../infra/tls/tls-files.js';
import type { AdminAlertsApi, AdminAuditApi, AdminJobsApi } from '../protocol/admin/admin-routes.js';
import { lockDataDir } from './data-dir-lock.js';
import { isLoopback, startListener } from './http-listener.js';
import { RequestEvidence } from './request-evidence.js';
import { SecurityAlertRules } from './security-alert-rules.js';
import { VaultCheckpointSink } from './vault-checkpoint-sink.js';
import { VaultEvidenceArchive } from './vault-evidence-archive.js';
import { VaultMetrics } from './vault-metrics.js';
import { vaultKeyLister } from './vault-wal-archive-lister.js';
import { JobConfigError, parseBackupJobs } from '../backup/jobs/job-config.js';
import { findExecutable } from '../infra/fs/find-executable.js';
import { type BackupJobsService, startBackupJobs } from './backup-jobs-service.js';
import { ConfigGuard } from '../domain/config-guard/config-guard.js';
import type { ConfigGuardStore } from '../domain/config-guard/config-guard-store.js';
import { parseReviewFrequencies, ReviewConfigError, type ReviewFrequencies } from '../domain/config-guard/review-calendar.js';
import { PostgresConfigGuardStore } from '../infra/config-guard/postgres-config-guard-store.js';
import { SqliteConfigGuardStore } from '../infra/config-guard/sqlite-config-guard-store.js';
import { startIntegrityScrub } from './integrity-scrub-service.js';
import { openVaultBlobs } from './vault-blobs.js';
import { openVaultMetadata } from './vault-metadata.js';
import { ClusterLeadership } from '../infra/metadata/postgres/cluster-leadership.js';
import { parseWalArchiveWatches, type WalArchiveWatch, WalArchiveWatchConfigError, WalArchiveMonitor } from '../backup/pg/wal-archive-monitor.js';

const TRUSTED_TIME_SETTING = 'retention-clock-trusted-ms';
const NODE_ID_SETTING = 'node-id';
/** The unauthenticated Prometheus endpoint; `_` keeps it out of the bucket namespace (GET /metrics would list a bucket named "metrics"). */
export const METRICS_PATH = '/_holdfast/metrics';
/** The audit chain is re-verified this often (and at start-up); a failure raises an alert. */
const AUDIT_VERIFY_INTERVAL_MS = 24 * 3600 * 1000;
/** How often a cluster node that does not lead tries to take over (a dead leader is replaced within this). */
const LEADERSHIP_RETRY_MS = 5_000;

export interface Logger {
  info(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface RunningVault {
  readonly url: string;
  readonly rootCredentials: RootCredentialsOutcome;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes storage. */
  close(): Promise<void>;
}

/**
 * The composition root of the embedded deployment: one data directory holding
 *   metadata/vault.sqlite   metadata (SQLite, WAL; in PostgreSQL instead when metadataPostgresUrl is set)
 *   blobs/                  object bytes
 *   metadata/audit.sqlite   the tamper-evident audit chain (checkpoints go to the locked
 *                           holdfast-system-audit bucket)
 *   metadata/alerts.sqlite  the durable alert delivery queue
 *   metadata/config-guard.sqlite  baselines, drift checks, change requests, review sign-offs
 *                           (in PostgreSQL instead when configGuardPostgresUrl is set)
 *   keys/secret-box.key     the key that seals stored secrets (kept apart from the metadata)
 *   keys/audit-signing.key  the Ed25519 key that signs audit checkpoints
 *   root-credentials        written once on first start when no root key was given
 */
export interface StartOptions {
  /** The operator confirms the wall clock after a forward jump (`holdfast server --confirm-clock`). */
  readonly confirmClock?: boolean;
  /** Monotonic milliseconds; injected by tests. */
  readonly monotonicMs?: () => number;
}

export async function startVaultServer(
  config: ServerConfig,
  env: Readonly<Record<string, string | undefined>>,
  clock: Clock,
  log: Logger,
  startOptions: StartOptions = {},
): Promise<RunningVault> {
  // TLS and the plaintext rule are checked before anything is opened: a bad setting stops start-up.
  const tls = await loadTls(config, clock, log);
  if (tls === undefined && !isLoopback(config.listen.host) && !config.allowPlaintextNetwork) {
    throw new ConfigError(
      `Refusing to serve plain HTTP on ${config.listen.host}, which other machines can reach: credentials and data would cross the network unencrypted. ` +
        'Fix: give tlsCertFile and tlsKeyFile (`holdfast cert --out DIR` makes a self-signed pair), or set allowPlaintextNetwork (--allow-plaintext-network) when a TLS proxy sits in front.',
    );
  }
  let pgArchiveWatches: readonly WalArchiveWatch[];
  try {
    pgArchiveWatches = parseWalArchiveWatches(config.pgArchiveWatches);
  } catch (error) {
    if (error instanceof WalArchiveWatchConfigError) throw new ConfigError(`Invalid configuration: ${error.message}`);
    throw error;
  }
  let alertChannelConfigs;
  try {
    alertChannelConfigs = parseAlertChannelsConfig(config.alertChannels, env, 'alertChannels');
  } catch (error) {
    if (error instanceof AlertConfigError) throw new ConfigError(error.message);
    throw error;
  }
  let reviewFrequencies: ReviewFrequencies;
  try {
    reviewFrequencies = parseReviewFrequencies(config.reviewFrequencies);
  } catch (error) {
    if (error instanceof ReviewConfigError) throw new ConfigError(`Invalid configuration: ${error.message}.`);
    throw error;
  }
  const channelNames = [...new Set(['log', ...alertChannelConfigs.map((c) => c.name)])];
  let jobs;
  try {
    // Source tools are looked up now: a job that could never run stops the start with what to install.
    jobs = parseBackupJobs(config.jobs, { alertChannels: channelNames, env, nowMs: clock.nowMs(), toolInstalled: (tool) => findExecutable(tool, env['PATH']) !== undefined });
  } catch (error) {
    if (error instanceof JobConfigError) throw new ConfigError(`Invalid configuration: ${error.message}`);
    throw error;
  }

  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const releaseLock = await lockDataDir(config.dataDir);
  // Everything opened so far, closed in reverse order on shutdown or on a failed start.
  const closers: Array<() => Promise<void> | void> = [releaseLock];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        log.error('closing failed', error);
      }
    }
  };
  try {
    const secretBox = await openSecretBox(config);
    const { store: metadata, close: closeMetadata } = await openVaultMetadata(config, log);
    closers.push(closeMetadata);
    // Once-per-cluster work runs on one node (see ClusterLeadership); a single server always leads.
    let onLeadership: (leader: boolean) => void = () => undefined;
    const leadership =
      config.clusterNode && config.metadataPostgresUrl !== undefined
        ? await ClusterLeadership.start(config.metadataPostgresUrl, config.metadataPostgresSchema, {
            retryMs: LEADERSHIP_RETRY_MS,
            onChange: (leader) => onLeadership(leader),
            onError: (e) => log.error('cluster leadership: the PostgreSQL session broke; following until it is back', e),
          })
        : undefined;
    if (leadership !== undefined) closers.push(() => leadership.close());
    const leads = () => leadership?.isLeader ?? true;
    // The vault id names this metadata store (every cluster node shares it): the S3 blob prefix
    // is claimed in its name. The node id names this process's audit chain: the vault id for the
    // one server of a metadata store (as before clusters existed), its own for a cluster node.
    const vaultId = await stableVaultId(metadata);
    const nodeId = config.clusterNode ? await clusterNodeId(config.dataDir) : vaultId;
    const metadataLocation = config.metadataPostgresUrl === undefined ? `SQLite in ${config.dataDir}` : `PostgreSQL schema ${config.metadataPostgresSchema}`;
    const { store: blobs, orphanSweepGraceMs, maxWriteMs, backendNowMs, close: closeBlobs } = await openVaultBlobs(config, env, clock, { id: vaultId, metadata: metadataLocation });
    closers.push(closeBlobs);
    const digester = new DigestWorkerPool();
    closers.push(() => digester.close());

    // Alerts first: the clock check below may already have something to say.
    const alertStore = new SqliteAlertQueueStore(join(config.dataDir, 'metadata', 'alerts.sqlite'));
    closers.push(() => alertStore.close());
    const hasLogChannel = alertChannelConfigs.some((c) => c.kind === 'log');
    const channels = createAlertChannels(hasLogChannel ? alertChannelConfigs : [...alertChannelConfigs, { kind: 'log', name: 'log' }], {
      clock,
      writeLogLine: (line) => process.stderr.write(`${line}\n`),
    });
    const alerts = new Alerts({ store: alertStore, channels, clock, onDispatchError: (e) => log.error('alert dispatcher failed', e) });
    alerts.start();
    closers.push(() => alerts.close());
    const raise = (alert: Parameters<Alerts['raise']>[0]) => void alerts.raise(alert).catch((e: unknown) => log.error(`raising alert ${alert.rule} failed`, e));
    const raiseTo = (alert: Parameters<Alerts['raise']>[0], routes: readonly string[] | undefined) =>
      void (routes === undefined ? alerts.raise(alert) : alerts.raiseTo(alert, routes)).catch((e: unknown) => log.error(`raising alert ${alert.rule} failed`, e));

    const retentionClock = new RetentionClock({
      wall: clock,
      monotonicMs: startOptions.monotonicMs ?? (() => performance.now()),
      toleranceMs: config.clockJumpToleranceHours * 3600 * 1000,
      store: {
        load: async () => {
          const saved = await metadata.getSetting(TRUSTED_TIME_SETTING);
          return saved === undefined ? undefined : Number(saved);
        },
        save: (ms) => metadata.putSetting(TRUSTED_TIME_SETTING, String(Math.floor(ms))),
      },
      onJump: (jump) => {
        log.error(
          `ALERT: the system clock reads ${new Date(jump.wallMs).toISOString()}, ${Math.round((jump.wallMs - jump.trustedMs) / 3600_000)} h ahead of the last trusted time ${new Date(jump.trustedMs).toISOString()}. ` +
            'Object Lock retention expiry is paused (nothing locked can be deleted early). If the clock is right, restart with `holdfast server --confirm-clock`.',
        );
        raise(securityAlerts.clockAnomaly(jump));
      },
    });
    await retentionClock.start(startOptions.confirmClock === true);
    closers.push(() => retentionClock.persist());
    const vault = new Vault(metadata, blobs, clock, {
      region: config.region,
      inlineLimit: config.inlineObjectBytes,
      retentionClock,
      digester,
      onBlobFailure: (what, error) => log.error(`${what} failed`, error),
      ...(maxWriteMs === undefined ? {} : { maxWriteMs }),
    });
    const multipart = new MultipartUploads(vault);
    const locks = new ObjectLocks(vault);
    const identities = new IdentityRegistry(metadata, secretBox, {
      nowMs: () => clock.nowMs(),
      buckets: async () =>
        (await vault.listBuckets()).map((b) => ({ name: b.name, policy: b.controls.policy === undefined ? undefined : parseBucketPolicy(b.controls.policy, b.name) })),
    });
    try {
      await identities.load();
    } catch (error) {
      if (!(error instanceof SealedSecretMismatchError)) throw error;
      const key = config.secretBoxKeyFile === undefined ? `${join(config.dataDir, 'keys', 'secret-box.key')}` : `secretBoxKeyFile (${config.secretBoxKeyFile})`;
      throw new ConfigError(
        `Invalid configuration: the stored secret of access key ${error.accessKeyId} does not open with the sealing key ${key}: the metadata was sealed with another key. ` +
          'Fix: give this server the key that sealed it (for cluster nodes, the same secretBoxKeyFile on every node; for a moved vault, its original keys/secret-box.key).',
      );
    }
    const rootCredentials = await bootstrapRootCredentials(identities, env, config.dataDir, clock.nowMs());
    const accessControl = new AccessControl(async (bucket) => (await metadata.getBucket(bucket))?.controls);
    const access: AccessDecider = {
      principalOf: (id) => identities.principalOf(id),
      decide: (principal, action, target, context) => accessControl.decide(principal, action, target, context),
    };
    const approvals: ChangeApprovals = new ChangeApprovals(metadata, () => clock.nowMs(), (change): Promise<void> => protection.apply(change));
    const protection: BucketProtection = new BucketProtection(locks, approvals);
    const secrets = (id: string) => identities.secretFor(id);

    // The audit chain: entries in their own SQLite file, checkpoints in the locked system bucket.
    const auditStore = new SqliteAuditStore(join(config.dataDir, 'metadata', 'audit.sqlite'), nodeId);
    closers.push(() => auditStore.close());
    const auditSigner = await AuditSigner.openKeyFile(join(config.dataDir, 'keys', 'audit-signing.key'));
    const streamSink = auditStreamSink(config, log);
    if (streamSink !== undefined) closers.push(() => streamSink.close());
    const auditLog = await AuditLog.open({
      store: auditStore,
      clock,
      sink: streamSink === undefined ? undefined : (entry) => streamSink.write(entry),
      onError: (e) => log.error('audit log append failed (retrying)', e),
    });
    closers.push(() => auditLog.close());
    const checkpointSink = new VaultCheckpointSink(vault, config.auditCheckpointRetentionDays);
    await checkpointSink.ensureBucket();
    // Job runs, drills and approved baselines, written once and compliance-locked.
    const evidenceArchive = new VaultEvidenceArchive(vault, config.evidenceRetentionDays);
    await evidenceArchive.ensureBucket();
    // Baselines, drift, change requests and reviews: the vault's identities, audit log and alerts.
    const configGuardStore: ConfigGuardStore =
      config.configGuardPostgresUrl === undefined
        ? new SqliteConfigGuardStore(join(config.dataDir, 'metadata', 'config-guard.sqlite'))
        : await PostgresConfigGuardStore.open(config.configGuardPostgresUrl, { schema: config.configGuardPostgresSchema });
    closers.push(() => configGuardStore.close());
    const configGuard = new ConfigGuard({ store: configGuardStore, evidence: evidenceArchive, nowMs: () => clock.nowMs(), frequencies: reviewFrequencies, raise });
    let lastCheckpointMs: number | undefined;
    const checkpointer = new AuditCheckpointer({
      log: auditLog,
      store: auditStore,
      signer: auditSigner,
      sink: checkpointSink,
      clock,
      intervalMs: config.auditCheckpointMinutes * 60_000,
      onCheckpoint: (checkpoint) => {
        lastCheckpointMs = checkpoint.timeMs;
      },
      onError: (e) => {
        log.error('audit checkpoint refused', e);
        raise(securityAlerts.auditChainBroken({ position: 'latest checkpoint', reason: e instanceof Error ? e.message : String(e) }));
      },
    });
    await checkpointer.start();
    closers.push(() => checkpointer.close());
    // The server's own life is part of the record: when it ran, with which protections.
    const systemEntry = (action: string, details: Record<string, string | number | boolean | null>) =>
      auditLog.recordDurably({ kind: 'system', identity: '', accessKeyId: '', action, resource: '', result: 'ok', details });
    await systemEntry('system:ServerStarted', {
      pid: process.pid,
      listen: `${config.listen.host}:${config.listen.port}`,
      tls: tls !== undefined,
      auditCheckpointMinutes: config.auditCheckpointMinutes,
      alertChannels: channels.map((c) => c.name).join(','),
      clockConfirmed: startOptions.confirmClock === true,
    });
    closers.push(async () => {
      await systemEntry('system:ServerStopping', { pid: process.pid });
    });

    const verifyAudit = async () => {
      await auditLog.flush();
      const result = await verifyAuditLog(auditStore, await checkpointSink.list(), auditSigner.publicKey);
      const first = result.problems[0];
      if (first !== undefined) raise(securityAlerts.auditChainBroken({ position: `entry ${first.seq}`, reason: `${first.kind}: ${first.message}` }));
      return result;
    };
    const auditApi: AdminAuditApi = {
      verify: verifyAudit,
      checkpoints: async () => ({
        chain: nodeId,
        keyId: auditSigner.keyId,
        publicKeyPem: auditSigner.publicKeyPem(),
        checkpoints: (await checkpointSink.list()).sort((a, b) => a.seq - b.seq),
      }),
      exportLines: (query) => exportLines(auditLog, auditStore, query),
    };

    const metrics = new VaultMetrics(clock, {
      lockStatistics: (nowMs) => metadata.lockStatistics(nowMs),
      alertStats: () => alerts.stats(),
      audit: () => ({ buffered: auditLog.bufferedEntries, dropped: auditLog.droppedEntries, lastCheckpointMs }),
    });
    closers.push(() => metrics.close());
    // RPO of the PostgreSQL archives kept here: the age of each one's newest WAL segment.
    const archiveMonitor = new WalArchiveMonitor(pgArchiveWatches, vaultKeyLister(vault), clock, {
      stale: (status) => {
        const alert = securityAlerts.walArchiveStale({
          bucket: status.watch.bucket,
          prefix: status.watch.prefix,
          lastSegment: status.lastSegment,
          lastArchivedMs: status.lastArchivedMs,
          ageSeconds: status.ageSeconds,
          maxAgeSeconds: status.watch.maxArchiveAgeSeconds,
          checkError: status.checkError,
        });
        log.error(`ALERT: ${alert.summary}`);
        // Every node watches (each serves the metric); one raises the alert.
        if (leads()) raise(alert);
      },
      resumed: (status, staleForSeconds) => {
        if (leads()) raise(securityAlerts.walArchiveResumed({ bucket: status.watch.bucket, prefix: status.watch.prefix, lastSegment: status.lastSegment, staleForSeconds }));
      },
    });
    if (pgArchiveWatches.length > 0) {
      archiveMonitor.start(config.pgArchiveCheckSeconds * 1000, (e) => log.error('checking the WAL archives failed', e));
      closers.push(() => archiveMonitor.stop());
    }
    metrics.watchWalArchives(() => archiveMonitor.statuses());
    // Closed before the audit log and the metadata store: a pass in progress stops and is recorded interrupted.
    const scrub = startIntegrityScrub({
      vault,
      dataDir: config.dataDir,
      clock,
      intervalHours: config.scrubIntervalHours,
      fraction: config.scrubFraction,
      bytesPerSecond: config.scrubBytesPerSecond,
      metrics,
      raise,
      record: (action, resource, details) => auditLog.recordDurably({ kind: 'system', identity: '', accessKeyId: '', action, resource, result: 'ok', details }),
      log,
      runsScheduled: leads,
    });
    closers.push(() => scrub.close());
    const evidence = new RequestEvidence({
      audit: auditLog,
      metrics,
      alerts,
      rules: new SecurityAlertRules(),
      nowMs: () => clock.nowMs(),
      onError: (message, e) => log.error(message, e),
    });
    const alertsApi: AdminAlertsApi = {
      status: () => alerts.stats(),
      test: async (actor) =>
        alerts.raise({
          rule: 'policy-change',
          severity: 'info',
          title: 'Test alert',
          summary: `A test alert requested by ${actor} through the admin API. No action needed.`,
          coalesceKey: randomBytes(4).toString('hex'),
        }),
    };

    const secure = tls !== undefined;
    // Another node may change identities: each request sees the directory as committed when it arrived.
    const refreshIdentities = config.clusterNode ? { refreshIdentities: () => identities.refresh() } : {};
    const handler = createS3Handler({
      context: { vault, multipart, locks, protection, duties: identities },
      secrets,
      ...refreshIdentities,
      access,
      secureTransport: secure,
      clock,
      virtualHostDomain: config.virtualHostDomain,
      onInternalError: (requestId, error) => log.error(`request ${requestId} failed`, error),
      onRequestComplete: (record) => evidence.s3Request(record),
    });
    // Set once the listener is up (the job runner writes through it); until then the API says so.
    let backupJobs: BackupJobsService | undefined;
    const jobsApi = jobs.length === 0 ? undefined : lateJobsApi(() => backupJobs);
    const adminHandler = createAdminHandler({
      services: { vault, protection, identities, nowMs: () => clock.nowMs(), audit: auditApi, alerts: alertsApi, jobs: jobsApi, evidence: evidenceArchive, configGuard, scrub: scrub.api, simulate: (principal, action, target, context) => access.decide(principal, action, target, context) },
      secrets,
      ...refreshIdentities,
      access,
      secureTransport: secure,
      clock,
      onInternalError: (requestId, error) => log.error(`admin request ${requestId} failed`, error),
      beforeRespond: (actor, changes) => evidence.configurationChanged(actor, changes),
      onRequestComplete: (record, changes) => evidence.adminRequest(record, changes),
    });
    const serveMetrics = async (res: ServerResponse) => {
      try {
        const text = await metrics.registry.render();
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(text)) });
        res.end(text);
      } catch (error) {
        log.error('rendering metrics failed', error);
        res.writeHead(500).end();
      }
    };
    // The system clock, not the injected one: the orphan sweep compares this with blob modification
    // times, which the filesystem (or the S3 backend) stamps from real clocks.
    const startedMs = Date.now();
    const listener = await startListener({
      host: config.listen.host,
      port: config.listen.port,
      tls,
      handle: (req, res) => {
        const url = req.url ?? '/';
        if (url.startsWith(ADMIN_PREFIX)) void adminHandler(req, res);
        else if (url === METRICS_PATH && req.method === 'GET') void serveMetrics(res);
        else void handler(req, res);
      },
    });
    // First to close: no request may arrive once the audit log below is closed.
    closers.push(() => listener.close(config.shutdownGraceSeconds * 1000));
    if (jobs.length > 0) {
      const started = await startBackupJobs({
        jobs,
        dataDir: config.dataDir,
        clock,
        env,
        identities,
        endpoint: listener.url,
        region: config.region,
        ca: tls?.cert,
        metrics,
        evidence: evidenceArchive,
        raise: raiseTo,
        log,
      });
      backupJobs = started;
      // Closed before the listener: a run in progress is stopped and recorded interrupted while it can still be.
      closers.push(() => started.close());
      log.info(`backup jobs: ${jobs.map((j) => `${j.name} (${j.schedule.text} ${j.timeZone})`).join(', ')}`);
    }
    // Leftovers of writes a crash interrupted: only blobs older than this start (less the store's
    // grace for another clock, see S3_ORPHAN_SWEEP_GRACE_MS) are considered.
    const sweepOrphans = (cutoffMs: number) =>
      sweepOrphanBlobs(metadata, blobs, cutoffMs).then(
        ({ examined, removed }) => {
          log.info(`orphan blob sweep done: ${examined} blob(s) examined, ${removed} unreferenced blob(s) left by an interrupted write removed`);
        },
        (e: unknown) => log.error('orphan blob sweep failed', e),
      );
    if (leadership === undefined) {
      void sweepOrphans(startedMs - orphanSweepGraceMs);
    } else {
      // Cluster: the leader sweeps when it becomes leader. Other nodes are writing meanwhile, so
      // the cut-off is the grace before now, not this start: a blob is only a candidate once it
      // is older than any write in flight can be (S3_ORPHAN_SWEEP_GRACE_MS). "Now" is the blob
      // backend's, the clock of the LastModified times compared with it.
      onLeadership = (leader) => {
        log.info(leader ? `cluster node ${nodeId}: leading (scheduled scrub, sweeps, reminders)` : `cluster node ${nodeId}: following`);
        if (leader) {
          void backendNowMs().then(
            (nowMs) => sweepOrphans(nowMs - orphanSweepGraceMs),
            (e: unknown) => log.error('orphan blob sweep not started: reading the blob backend\'s clock failed', e),
          );
        }
      };
      if (leadership.isLeader) onLeadership(true);
    }
    const runAuditVerification = () =>
      void verifyAudit().then(
        (result) => {
          if (!result.ok) log.error(`ALERT: the audit chain does not verify: ${result.problems.length} problem(s); run \`holdfast audit verify\``);
        },
        (e: unknown) => log.error('audit verification failed to run', e),
      );
    runAuditVerification();
    const checkReviews = () => {
      if (leads()) void configGuard.alertOverdueReviews().catch((e: unknown) => log.error('checking configuration reviews failed', e));
    };
    checkReviews();

    const timers = [
      setInterval(() => {
        if (!leads()) return;
        multipart.sweepAbandoned(config.multipartExpiryHours * 3600 * 1000).catch((e: unknown) => log.error('abandoned multipart sweep failed', e));
      }, 60 * 60 * 1000),
      // The trusted time is saved each minute, so a restart can tell downtime from a clock jump.
      setInterval(() => {
        retentionClock.persist().catch((e: unknown) => log.error('saving the trusted time failed', e));
      }, 60_000),
      setInterval(runAuditVerification, AUDIT_VERIFY_INTERVAL_MS),
      setInterval(checkReviews, config.reviewCheckSeconds * 1000),
    ];
    for (const timer of timers) timer.unref();
    closers.push(() => {
      for (const timer of timers) clearInterval(timer);
    });

    return {
      url: listener.url,
      rootCredentials,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function lateJobsApi(service: () => BackupJobsService | undefined): AdminJobsApi {
  const api = (): AdminJobsApi => {
    const started = service();
    if (started === undefined) throw s3errors.serviceUnavailable('The backup job scheduler is still starting; try again in a moment.');
    return started.api;
  };
  return {
    list: () => api().list(),
    start: (job) => api().start(job),
    run: (id) => api().run(id),
    history: (job, limit) => api().history(job, limit),
    startDrill: (job) => api().startDrill(job),
    drill: (id) => api().drill(id),
  };
}

/** Reads and checks the TLS pair, or undefined for plain HTTP. A bad file stops start-up. */
async function loadTls(config: ServerConfig, clock: Clock, log: Logger): Promise<{ cert: string; key: string } | undefined> {
  if (config.tlsCertFile === undefined || config.tlsKeyFile === undefined) return undefined;
  try {
    const files = await loadTlsFiles(config.tlsCertFile, config.tlsKeyFile, clock);
    for (const warning of files.warnings) log.error(`TLS: ${warning}`);
    return { cert: files.certPem, key: files.keyPem.reveal() };
  } catch (error) {
    if (error instanceof TlsFilesError) throw new ConfigError(error.message);
    throw error;
  }
}

/**
 * The id of this metadata store, made once and kept in it (under its historical name "node-id":
 * before clusters, one server was one node). Two cluster nodes starting at once may both find
 * none: only the first write lands and both read it back, so they agree.
 */
async function stableVaultId(metadata: MetadataStore): Promise<string> {
  const existing = await metadata.getSetting(NODE_ID_SETTING);
  if (existing !== undefined) return existing;
  await metadata.compareAndSetSetting(NODE_ID_SETTING, undefined, `node-${randomBytes(6).toString('hex')}`);
  const stored = await metadata.getSetting(NODE_ID_SETTING);
  if (stored === undefined) throw new Error('the vault id was written but cannot be read back');
  return stored;
}

/**
 * A cluster node's own id, made once and kept in its data directory (the one thing there that
 * names it): its audit chain and its log lines carry it. Random, so two nodes never share one.
 */
async function clusterNodeId(dataDir: string): Promise<string> {
  const path = join(dataDir, 'node-id');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const id = `node-${randomBytes(6).toString('hex')}`;
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(`${id}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return id;
}

/** The key that seals stored secrets: secretBoxKeyFile (shared, must exist), else the data directory's own. */
async function openSecretBox(config: ServerConfig): Promise<SecretBox> {
  if (config.secretBoxKeyFile === undefined) return SecretBox.openKeyFile(join(config.dataDir, 'keys', 'secret-box.key'));
  try {
    return await SecretBox.openSharedKeyFile(config.secretBoxKeyFile);
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: secretBoxKeyFile ${config.secretBoxKeyFile} cannot be used (${(error as Error).message}). ` +
        'Fix: give a file holding the 32-byte sealing key (raw or base64), the same on every node, readable by the user running Holdfast and by no one else.',
    );
  }
}

/** Every audit entry also goes to stdout (JSON lines) or syslog, for centralized logging. */
function auditStreamSink(config: ServerConfig, log: Logger): AuditEntrySink | undefined {
  const onError = (e: unknown) => log.error('audit stream failed', e);
  switch (config.auditLogStream) {
    case 'none':
      return undefined;
    case 'stdout':
      return createJsonLinesSink(process.stdout, { onError });
    case 'syslog': {
      const target = config.auditSyslog!;
      return createSyslogSink({ ...target, appName: 'holdfast', onError });
    }
  }
}

async function* exportLines(auditLog: AuditLog, store: SqliteAuditStore, query: Readonly<Record<string, string>>): AsyncGenerator<string> {
  const time = (name: string): number | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw s3errors.invalidArgument(`${name} must be an ISO 8601 time.`, name, value);
    return ms;
  };
  const result = query['result'];
  if (result !== undefined && !['allowed', 'denied', 'error', 'ok'].includes(result)) {
    throw s3errors.invalidArgument('result must be one of allowed, denied, error, ok.', 'result', result);
  }
  for (const name of Object.keys(query)) {
    if (!['from', 'to', 'identity', 'action', 'result', 'bucket'].includes(name)) throw s3errors.invalidArgument(`Unknown filter "${name}".`, name);
  }
  await auditLog.flush();
  yield* exportAuditLog(store, {
    fromMs: time('from'),
    toMs: time('to'),
    identity: query['identity'],
    actionPrefix: query['action'],
    result: result as 'allowed' | 'denied' | 'error' | 'ok' | undefined,
    bucket: query['bucket'],
  });
}
