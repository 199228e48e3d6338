import type { PgBenchOptions } from './pg-bench-options.js';
import type { CpuUse } from './pg-host.js';
import type { WalLoadResult } from './pg-wal-load.js';

/** What one `npm run bench:pg` measured; rendered as Markdown tables or JSON. */

export interface PgMachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly postgres: string;
  readonly pgbench: string;
  readonly pgbackrest: string;
  readonly holdfast: string;
  readonly filesystem: string;
  /** Busy cores of the machine during 3 s before the run started: someone else's load. */
  readonly busyCoresBeforeRun: number;
}

export type RowKind = 'holdfast' | 'pgbackrest' | 'floor';

export interface BackupRow {
  readonly kind: RowKind;
  readonly label: string;
  readonly wallMs: number;
  /** Data directory bytes (without pg_wal) over wall time, 10^6 bytes per second. */
  readonly mbPerSecond: number;
  readonly storedBytes: number | undefined;
  readonly toolCpuSeconds: number | undefined;
  readonly cpu: CpuUse;
}

export interface RestoreRow {
  readonly kind: RowKind;
  readonly label: string;
  /** The restore command: download, unpack, check, write the recovery settings. */
  readonly restoreMs: number;
  /** From starting the restored cluster until it had promoted (recovery to the target). */
  readonly recoveryMs: number | undefined;
  /** restoreMs + recoveryMs: time to a usable, writable database. */
  readonly rtoMs: number;
  readonly toolCpuSeconds: number | undefined;
  /** The row written before the target is there and the one written after it is not. */
  readonly targetVerified: boolean | undefined;
  /** WAL files restore_command delivered during recovery (each one a process start). */
  readonly walFetched: number | undefined;
  readonly cpu: CpuUse;
}

export interface PgBenchReport {
  readonly startedAt: string;
  readonly durationMs: number;
  readonly options: PgBenchOptions;
  readonly machine: PgMachineInfo;
  readonly database: { readonly scale: number; readonly dataDirBytes: number; readonly initSeconds: number };
  readonly backups: readonly BackupRow[];
  readonly restores: readonly RestoreRow[];
  readonly wal: readonly WalLoadResult[];
  readonly failures: readonly string[];
}

export function renderJson(report: PgBenchReport): string {
  return JSON.stringify({ ...report, flagged: report.failures.length > 0 }, null, 2);
}

const s = (ms: number | undefined) => (ms === undefined ? 'n/a' : (ms / 1000).toFixed(1));
const mb = (bytes: number | undefined) => (bytes === undefined ? '—' : `${(bytes / 1e6).toLocaleString('en-US', { maximumFractionDigits: 0 })} MB`);
const cpuS = (seconds: number | undefined) => (seconds === undefined ? '—' : seconds.toFixed(1));
const num = (value: number, digits = 2) => value.toFixed(digits);
/** A pipe inside a table cell (even in code) ends the cell unless escaped. */
const cellText = (text: string) => text.replaceAll('|', '\\|');

export function renderMarkdown(report: PgBenchReport): string {
  const { options, machine, database } = report;
  const lines: string[] = [];
  lines.push(`## Holdfast vs pgBackRest, PostgreSQL backups${options.quick ? ' (--quick: a smoke run, not a result)' : ''}`);
  lines.push('');
  lines.push(
    `pgbench scale ${database.scale}: ${mb(database.dataDirBytes)} of data directory without pg_wal (pgbench -i took ${database.initSeconds.toFixed(0)} s). ` +
      `One vault (HTTPS on 127.0.0.1), one source cluster, same run.`,
  );
  lines.push('', ...summary(report));
  if (report.backups.length > 0) {
    lines.push('', '### Base backup (full)', '');
    lines.push('| tool | backup s | MB/s | stored | tool CPU s | vault CPU s | machine busy cores |');
    lines.push('|---|--:|--:|--:|--:|--:|--:|');
    for (const row of report.backups) {
      lines.push(`| ${cellText(row.label)} | ${s(row.wallMs)} | ${row.mbPerSecond.toFixed(0)} | ${mb(row.storedBytes)} | ${cpuS(row.toolCpuSeconds)} | ${cpuS(row.kind === 'floor' ? undefined : row.cpu.vaultCpuSeconds)} | ${num(row.cpu.machineBusyCores)} |`);
    }
  }
  if (report.restores.length > 0) {
    lines.push('', '### Restore to a target time, until the copy is promoted', '');
    lines.push('| tool | restore command s | recovery until promoted s | WAL files fetched | RTO s | tool CPU s | vault CPU s | machine busy cores | target checked |');
    lines.push('|---|--:|--:|--:|--:|--:|--:|--:|---|');
    for (const row of report.restores) {
      const checked = row.targetVerified === undefined ? '—' : row.targetVerified ? 'yes' : '**NO**';
      lines.push(
        `| ${cellText(row.label)} | ${s(row.restoreMs)} | ${row.recoveryMs === undefined ? '—' : s(row.recoveryMs)} | ${row.walFetched ?? '—'} | ${s(row.rtoMs)} | ${cpuS(row.toolCpuSeconds)} | ${cpuS(row.kind === 'floor' ? undefined : row.cpu.vaultCpuSeconds)} | ${num(row.cpu.machineBusyCores)} | ${checked} |`,
      );
    }
  }
  if (report.wal.length > 0) {
    lines.push('', `### WAL archiving under \`pgbench -c ${options.clients} -j ${options.threads} -T ${options.walSeconds}\``, '');
    lines.push(
      '| archive_command | pgbench tps | segments written | written seg/s | archived seg/s | max lag (segments) | lag at end | drain after end s | failures | vault CPU s | machine busy cores | backlog drain seg/s | CPU s per segment (machine / vault) |',
    );
    lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const row of report.wal) {
      const lag = row.maxLagSegments > 1 && row.id !== 'noop' ? `**${row.maxLagSegments}**` : String(row.maxLagSegments);
      lines.push(
        `| ${cellText(row.label)} | ${row.tps === undefined ? 'n/a' : row.tps.toFixed(0)} | ${row.segmentsGenerated} | ${num(row.generatedPerSecond)} | ${num(row.archivedPerSecond)} | ${lag} | ${row.lagAtEndSegments} | ${s(row.drainMs)} | ${row.failures} | ${cpuS(row.cpu.vaultCpuSeconds)} | ${num(row.cpu.machineBusyCores)} | ${backlogCells(row)} |`,
      );
    }
  }
  lines.push('');
  lines.push(
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, Linux ${machine.kernel}, ${machine.filesystem}; ` +
      `${machine.postgres}; ${machine.pgbench}; ${machine.pgbackrest}; Holdfast ${machine.holdfast} on Node ${machine.node}. ` +
      `Other load before the run: ${machine.busyCoresBeforeRun.toFixed(2)} busy cores. ${report.startedAt}, ${Math.round(report.durationMs / 1000)} s.`,
  );
  lines.push('', ...notes(report).map((note) => `- ${note}`));
  if (report.failures.length > 0) {
    lines.push('', '### Failures', '');
    for (const failure of report.failures) {
      const [first = '', ...rest] = failure.split('\n');
      lines.push(`- ${first}`);
      if (rest.length > 0) lines.push('', '```', ...rest.slice(-25), '```', '');
    }
    lines.push('', `**RUN FLAGGED**: ${report.failures.length} step(s) failed; the numbers above are incomplete.`);
  }
  return lines.join('\n');
}

function backlogCells(row: WalLoadResult): string {
  const b = row.backlog;
  if (b === undefined || b.segments === 0) return '— | —';
  const seconds = b.drainMs / 1000;
  return `${num(b.perSecond)} | ${num((b.cpu.machineBusyCores * seconds) / b.segments, 3)} / ${num(b.cpu.vaultCpuSeconds / b.segments, 3)}`;
}

const HOLDFAST_DEFAULTS = 'Holdfast';
/** The label pg-bench-steps.ts gives the restore with the default restore_command. */
export const HOLDFAST_DEFAULT_RESTORE = 'Holdfast (default restore_command: prefetch 8 into pg_wal/holdfast-prefetch)';

/**
 * The one table: per tool configuration, backup, restore and archiving side by side.
 * Holdfast has one backup/restore configuration (one stream) and two archivers; pgBackRest's
 * process-max=1 row pairs with its synchronous archive-push, process-max=2 with async.
 */
function summary(report: PgBenchReport): string[] {
  const backup = (label: string) => report.backups.find((row) => row.label === label);
  const restore = (label: string) => report.restores.find((row) => row.label === label);
  const wal = (id: string) => report.wal.find((row) => row.id === id);
  const rows: [string, string | undefined, string][] = [
    ['Holdfast (wal-push)', HOLDFAST_DEFAULTS, 'holdfast-sync'],
    ['Holdfast (wal-push --async)', undefined, 'holdfast-async'],
    ['pgBackRest process-max=1 (archive-push)', 'pgBackRest process-max=1', 'pgbackrest-sync'],
    ['pgBackRest process-max=2 (archive-push async, process-max=2)', 'pgBackRest process-max=2', 'pgbackrest-async'],
  ];
  const out = ['| tool | backup s | MB/s | stored | restore s (RTO) | WAL archived seg/s | max lag (segments) |', '|---|--:|--:|--:|--:|--:|--:|'];
  for (const [label, toolLabel, walId] of rows) {
    // Holdfast's newest backup is the one its restores use; the first backup row is in the detail table.
    const b = toolLabel === undefined ? undefined : toolLabel === HOLDFAST_DEFAULTS ? (backup('Holdfast (again, after pgBackRest)') ?? backup('Holdfast')) : backup(toolLabel);
    const r = toolLabel === undefined ? undefined : toolLabel === HOLDFAST_DEFAULTS ? restore(HOLDFAST_DEFAULT_RESTORE) : restore(toolLabel);
    const w = wal(walId);
    const same = toolLabel === undefined ? '〃' : '—';
    out.push(
      `| ${label} | ${b === undefined ? same : s(b.wallMs)} | ${b === undefined ? same : b.mbPerSecond.toFixed(0)} | ${b === undefined ? same : mb(b.storedBytes)} | ` +
        `${r === undefined ? same : s(r.rtoMs)} | ${w === undefined ? '—' : num(w.archivedPerSecond)} | ${w === undefined ? '—' : String(w.maxLagSegments)} |`,
    );
  }
  return out;
}

function notes(report: PgBenchReport): string[] {
  const { options } = report;
  const out = [
    'backup s: wall time of `holdfast pg backup` / `pgbackrest backup --type=full`, each complete only once its stop segment is archived; ' +
      'MB/s = data directory bytes (without pg_wal) per second; stored = compressed backup bytes in the vault (gzip level 1 for both; WAL not included).',
    'restore s: the restore command (download, decompress, checks, recovery settings; files fsynced, both tools\' default) plus starting the copy until ' +
      'it has replayed WAL to the target time and promoted (`pg_is_in_recovery()` false): time to a writable database. Holdfast restores its newest ' +
      'backup (the second, taken right after pgBackRest\'s), with its default restore_command (lean `wal-fetch`, a worker prefetching 8 segments into ' +
      'the copy\'s pg_wal/holdfast-prefetch) and with `--no-prefetch` (one download per call); pgBackRest its newest (the process-max=2 one), ' +
      'with process-max 1 and 2 and its default (synchronous) archive-get (WAL files fetched: every file restore_command delivered, each one a process start).',
    'tool CPU s: user+system CPU of the tool and every process it waited for (GNU time): for Holdfast\'s backup that includes pg_basebackup. ' +
      'vault CPU s: the vault process over the step. machine busy cores: all CPUs over the step, everyone\'s (the machine is shared).',
    `WAL: archive_command set with ALTER SYSTEM + reload, a CHECKPOINT, then \`pgbench -c ${options.clients} -j ${options.threads} -T ${options.walSeconds}\` ` +
      '(fsync on); lag = segments waiting in pg_wal/archive_status/*.ready (sampled every 200 ms); archived seg/s = segments archived from the start ' +
      'until the backlog was empty, over that time. While an archiver keeps up, archived seg/s equals written seg/s: it is the load, not the archiver\'s limit. ' +
      `The limit: backlog drain seg/s — archiving paused (empty archive_command), ${options.backlogSegments} segments written by bulk inserts of random md5 text, ` +
      'then the archiver set and timed until no `.ready` is left; CPU s per segment = the whole machine\'s busy CPU (everyone\'s) and the vault\'s, per segment drained.',
    'Floors: `tar` and `tar | gzip -1` of the data directory to a pipe (what reading and compressing cost on this machine, one core); ' +
      '`pg_basebackup -Ft | gzip -1` to a local file (Holdfast\'s pipeline without the vault); and `gzip -dc | tar x` of that file plus `sync` ' +
      '(a restore without network, checks or recovery). `archive_command = true` archives nothing: the WAL rate pgbench reaches without an archiver.',
    'Holdfast runs as the README sets it up: an Object Lock bucket with a COMPLIANCE default retention, a backup-writer key for backup and wal-push, ' +
      'a restore-reader key for restores, the vault\'s certificate verified. pgBackRest: a bucket without Object Lock, a key allowed to delete in ' +
      'its bucket (it rewrites and deletes its own files during a backup; the vault\'s separation-of-duties check needed an override for that), ' +
      'TLS not verified (it rejects the IP-address certificate).',
  ];
  if (report.machine.busyCoresBeforeRun >= 0.15) {
    out.push(`**Shared machine: ${report.machine.busyCoresBeforeRun.toFixed(2)} cores were busy before the run started; rerun when it is quiet.**`);
  }
  return out;
}
