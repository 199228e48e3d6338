/**
 * `npm run bench:pg`: Holdfast against pgBackRest on one PostgreSQL 15 cluster and one vault, same
 * run (issue 5, "Benchmark"): full base backup, restore to a target time until the copy is
 * promoted, and WAL archiving under pgbench load — with the floors of this machine (tar, gzip -1,
 * an archive_command that does nothing) beside them. Not a test: `npm test` never runs it.
 *
 * Steps run one after another, never at the same time. Everything lives under one temporary
 * directory owned by the postgres OS user; clusters, the vault and running commands are stopped
 * and the directory removed at the end, on failure, on Ctrl-C and on the time budget.
 */
import { readFileSync, rmSync } from 'node:fs';
import { chown, mkdtemp } from 'node:fs/promises';
import { totalmem, cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filesystemOf } from './filesystem-of.js';
import { HoldfastTool, PGBACKREST, PgBackRestTool } from './pg-backup-tools.js';
import { type PgBenchOptions, USAGE, parsePgBenchOptions } from './pg-bench-options.js';
import { type BenchCluster, createCluster, liveClusters, PG_BIN } from './pg-cluster.js';
import { measureBackups, measureRestores, prepareRestoreTarget } from './pg-bench-steps.js';
import { CpuMeter, cpuModel, killGroup, postgresOsUser, run, runningCommands, treeBytes, versionOf } from './pg-host.js';
import { type PgBenchReport, renderJson, renderMarkdown } from './pg-report.js';
import { type BenchVault, startBenchVault } from './pg-vault.js';
import { type ArchiverVariant, measureArchiving, setArchiveCommand, switchAndWaitArchived, type WalLoadResult } from './pg-wal-load.js';

const HOLDFAST_CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const startedAt = Date.now();

let parsed: PgBenchOptions | 'help';
try {
  parsed = parsePgBenchOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${describe(error)}\n${USAGE}\n`);
  process.exit(64);
}
if (parsed === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const options: PgBenchOptions = parsed;
const user = postgresOsUser();
const scratch = await mkdtemp(join(tmpdir(), 'holdfast-pgbench-'));
if (user !== undefined) await chown(scratch, user.uid, user.gid);

let vault: BenchVault | undefined;
let cleaning: Promise<void> | undefined;
/** Orderly: clusters (fast shutdown), then the vault, then the directory. */
async function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const pid of runningCommands) killGroup(pid, 'SIGTERM');
    for (const cluster of [...liveClusters]) await cluster.stop().catch(() => cluster.kill());
    await vault?.stop().catch(() => vault?.kill());
    // Asynchronous archivers (Holdfast's worker, pgBackRest's async process) exit once idle.
    rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
  })();
  return cleaning;
}
// Last resort when the process is leaving anyway (uncaught error, process.exit): no waiting.
process.once('exit', () => {
  for (const pid of runningCommands) killGroup(pid, 'SIGKILL');
  for (const cluster of liveClusters) cluster.kill();
  vault?.kill();
  rmSync(scratch, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping clusters and the vault, removing ${scratch}`);
    void cleanUp().finally(() => process.exit(130));
  });
}
setTimeout(() => {
  progress(`stopped: the run exceeded its ${options.budgetMs / 60_000}-minute budget`);
  void cleanUp().finally(() => process.exit(2));
}, options.budgetMs).unref();

const failures: string[] = [];
const report = await runBench().catch(async (error: unknown) => {
  await cleanUp();
  throw error;
});
await cleanUp();
process.stdout.write(`${options.json ? renderJson(report) : renderMarkdown(report)}\n`);
process.exitCode = failures.length > 0 ? 1 : 0;

async function runBench(): Promise<PgBenchReport> {
  const busyBefore = await (async () => {
    const meter = await CpuMeter.start(process.pid);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    return (await meter.read()).machineBusyCores;
  })();
  progress(`${options.quick ? 'quick' : 'full'} run: pgbench scale ${options.scale}, phases ${options.phases.join(', ')}; scratch ${scratch}; ${busyBefore.toFixed(2)} cores busy before the start`);

  const home = scratch;
  vault = await startBenchVault(HOLDFAST_CLI, join(scratch, 'vault'));
  progress(`vault listening on ${vault.endpoint}`);
  const context = { vault, user, home };
  const holdfast = await HoldfastTool.setUp(HOLDFAST_CLI, context, 'pg-holdfast');
  const pgbackrest = await PgBackRestTool.setUp(context, 'pg-pgbackrest');

  // archive_command does nothing while pgbench -i writes its ~1 GB of WAL: no backup needs it.
  const source = await createCluster(
    scratch,
    { wal_level: 'replica', archive_mode: 'on', archive_command: 'true' },
    { user, env: { ...holdfast.serverEnv(), ...pgbackrest.serverEnv() } },
  );
  await pgbackrest.configure(source);
  await pgbackrest.stanzaCreate();
  progress(`source cluster on port ${source.port}; pgbench -i -s ${options.scale} …`);
  const init = await run(join(PG_BIN, 'pgbench'), ['-h', source.base, '-p', String(source.port), '-U', 'postgres', '-i', '-s', String(options.scale), '-q', 'postgres'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    user,
    cwd: scratch,
    timeoutMs: 60 * 60_000,
  });
  await source.query('CHECKPOINT');
  const dataDirBytes = await treeBytes(source.dataDir, ['pg_wal']);
  progress(`pgbench -i done in ${(init.wallMs / 1000).toFixed(0)} s: ${(dataDirBytes / 1e6).toFixed(0)} MB of data directory without pg_wal`);

  // From here on every segment goes to both repositories, so each can restore past its backup.
  const both = `${holdfast.archiveCommand('sync')} && ${pgbackrest.archiveCommand('sync')}`;
  await setArchiveCommand(source, both);
  await switchAndWaitArchived(source);

  const steps = { source, holdfast, pgbackrest, vault, user, scratch, dataDirBytes, options, progress, failures };
  const backups = options.phases.includes('backup') ? await measureBackups(steps) : { rows: [], pgbackrestSet: undefined };
  let restores: PgBenchReport['restores'] = [];
  if (options.phases.includes('restore') && failures.length === 0) {
    const target = await prepareRestoreTarget(steps);
    restores = await measureRestores(steps, target, backups.pgbackrestSet);
  }
  const wal = options.phases.includes('wal') ? await measureWal(source, holdfast, pgbackrest) : [];
  await source.stop();

  return {
    startedAt: new Date(startedAt).toISOString(),
    durationMs: Date.now() - startedAt,
    options,
    machine: {
      cpu: await cpuModel(),
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      kernel: release(),
      node: process.versions.node,
      postgres: await versionOf(join(PG_BIN, 'postgres'), ['--version']),
      pgbench: await versionOf(join(PG_BIN, 'pgbench'), ['--version']),
      pgbackrest: await versionOf(PGBACKREST, ['version']),
      holdfast: holdfastVersion(),
      filesystem: await filesystemOf(scratch),
      busyCoresBeforeRun: busyBefore,
    },
    database: { scale: options.scale, dataDirBytes, initSeconds: init.wallMs / 1000 },
    backups: backups.rows,
    restores,
    wal,
    failures,
  };
}

async function measureWal(source: BenchCluster, holdfast: HoldfastTool, pgbackrest: PgBackRestTool): Promise<WalLoadResult[]> {
  const spool = join(scratch, 'holdfast-spool');
  const variants: ArchiverVariant[] = [
    { id: 'noop', label: 'floor: `true` (archives nothing)', archiveCommand: 'true' },
    { id: 'holdfast-sync', label: 'Holdfast `wal-push`', archiveCommand: holdfast.archiveCommand('sync') },
    { id: 'holdfast-async', label: 'Holdfast `wal-push --async --spool` (4 parallel)', archiveCommand: holdfast.archiveCommand({ spool }) },
    { id: 'pgbackrest-sync', label: 'pgBackRest `archive-push`', archiveCommand: pgbackrest.archiveCommand('sync') },
    { id: 'pgbackrest-async', label: 'pgBackRest `archive-push` async, process-max=2', archiveCommand: pgbackrest.archiveCommand({ processMax: 2 }) },
  ];
  const results: WalLoadResult[] = [];
  for (const variant of variants) {
    progress(`WAL archiving: ${variant.label}, pgbench -c ${options.clients} -j ${options.threads} -T ${options.walSeconds} …`);
    try {
      const result = await measureArchiving(source, variant, {
        seconds: options.walSeconds,
        clients: options.clients,
        threads: options.threads,
        user,
        vaultPid: vault!.pid,
        drainTimeoutMs: 10 * 60_000,
        backlogSegments: options.backlogSegments,
      });
      results.push(result);
      progress(
        `WAL archiving: ${variant.label} → ${result.tps?.toFixed(0) ?? '?'} tps, ${result.segmentsGenerated} segments written, ` +
          `${result.archivedPerSecond.toFixed(2)} archived/s, max lag ${result.maxLagSegments}, ${result.failures} failures` +
          (result.backlog === undefined ? '' : `; backlog of ${result.backlog.segments} drained at ${result.backlog.perSecond.toFixed(2)} segments/s`),
      );
    } catch (error) {
      failures.push(`WAL archiving with ${variant.label}: ${describe(error)}\n${source.output().slice(-2000)}`);
      progress(`WAL archiving: ${variant.label} failed: ${describe(error).split('\n')[0] ?? ''}`);
    }
  }
  return results;
}

function holdfastVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

function progress(message: string): void {
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  process.stderr.write(`[bench:pg ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}] ${message}\n`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
