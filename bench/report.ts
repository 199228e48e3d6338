import type { BenchOptions } from './bench-options.js';
import type { PointResult } from './workload.js';

/** The columns of the table: the two servers, the raw limit, and the generator's ceiling. */
export type Column = 'holdfast' | 's3rver' | 'raw' | 'ceiling';
export const COLUMNS: readonly Column[] = ['holdfast', 's3rver', 'raw', 'ceiling'];
/** Other processes' CPU above this (in cores) makes the run worth repeating. */
const NOISY_CORES = 0.15;
const TITLES: Readonly<Record<Column, string>> = {
  holdfast: 'Holdfast',
  s3rver: 's3rver',
  raw: 'raw fsync limit',
  ceiling: 'generator ceiling',
};

/** A goal from issue 2: Holdfast's value at least `atLeast` times the other column's. */
export interface Target {
  readonly against: 's3rver' | 'raw';
  readonly atLeast: number;
}

export interface Row {
  readonly id: string;
  readonly label: string;
  readonly unit: 'MB/s' | 'ops/s';
  readonly target?: Target;
  /** Each column's measurements of this point, one per round, in the order they ran. */
  readonly cells: Partial<Record<Column, readonly PointResult[]>>;
}

/** One column of one row over its rounds: the median the table and the verdicts use, and the range. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Throughput of each round that had a successful request, in the order they ran. */
  readonly rounds: readonly number[];
}

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
  /** Filesystem type and device of the temporary directory every column wrote to. */
  readonly filesystem: string;
}

export interface BenchReport {
  readonly startedAt: string;
  readonly durationMs: number;
  readonly options: BenchOptions;
  readonly machine: MachineInfo;
  readonly rows: readonly Row[];
  readonly peakRssBytes: Partial<Record<Column | 'loadGenerator', number>>;
  /** CPU used by processes outside the benchmark while each column ran, in cores: the most of any of its rounds. */
  readonly otherCpuCores: Partial<Record<Column, number>>;
  /**
   * CPU a server used while it sat idle during another column's rounds, in cores (averaged over
   * those rounds): the servers are all started for the whole run, so an idle one must stay quiet.
   */
  readonly idleCpuCores: Partial<Record<Column, number>>;
  /** Columns that could not be measured at all (server failed to start, worker crashed…). */
  readonly failures: readonly string[];
}

/** The column's median throughput over its rounds: what the table shows and the ratios compare. */
export function throughput(row: Row, column: Column): number | undefined {
  return spread(row, column)?.median;
}

export function spread(row: Row, column: Column): Spread | undefined {
  const rounds = (row.cells[column] ?? []).flatMap((point) => {
    const value = pointThroughput(row.unit, point);
    return value === undefined ? [] : [value];
  });
  if (rounds.length === 0) return undefined;
  const sorted = [...rounds].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, rounds };
}

function pointThroughput(unit: Row['unit'], point: PointResult): number | undefined {
  if (point.elapsedMs <= 0 || point.ops === 0) return undefined;
  return unit === 'MB/s' ? point.bytes / 1e6 / (point.elapsedMs / 1000) : point.ops / (point.elapsedMs / 1000);
}

function errorsOf(row: Row, column: Column): number {
  return (row.cells[column] ?? []).reduce((sum, point) => sum + point.errors, 0);
}

export function totalErrors(report: BenchReport): number {
  return report.rows.reduce((sum, row) => sum + COLUMNS.reduce((s, c) => s + errorsOf(row, c), 0), 0);
}

export function isFlagged(report: BenchReport): boolean {
  return totalErrors(report) > 0 || report.failures.length > 0;
}

export function targetVerdicts(report: BenchReport): { row: Row; ratio: number | undefined; met: boolean }[] {
  return report.rows.flatMap((row) => {
    if (row.target === undefined) return [];
    const ratio = ratioOf(row, row.target.against);
    return [{ row, ratio, met: ratio !== undefined && ratio >= row.target.atLeast }];
  });
}

function ratioOf(row: Row, against: Column): number | undefined {
  const mine = throughput(row, 'holdfast');
  const theirs = throughput(row, against);
  return mine === undefined || theirs === undefined || theirs === 0 ? undefined : mine / theirs;
}

export function renderJson(report: BenchReport): string {
  return JSON.stringify(
    {
      ...report,
      rows: report.rows.map((row) => ({
        ...row,
        throughput: Object.fromEntries(COLUMNS.map((c) => [c, throughput(row, c) ?? null])),
        spread: Object.fromEntries(COLUMNS.map((c) => [c, spread(row, c) ?? null])),
        ratios: { holdfastToS3rver: ratioOf(row, 's3rver') ?? null, holdfastToRaw: ratioOf(row, 'raw') ?? null },
      })),
      targets: targetVerdicts(report).map(({ row, ratio, met }) => ({ row: row.id, ...row.target, ratio, met })),
      errors: totalErrors(report),
      flagged: isFlagged(report),
    },
    null,
    2,
  );
}

export function renderMarkdown(report: BenchReport): string {
  const lines: string[] = [];
  const { options, machine } = report;
  lines.push(`## Holdfast S3 benchmark${options.quick ? ' (--quick: a smoke run, not a result)' : ''}`);
  lines.push('');
  lines.push(`| scenario | ${COLUMNS.map((c) => TITLES[c]).join(' | ')} | Holdfast/s3rver | Holdfast/raw | target |`);
  lines.push(`|---|${COLUMNS.map(() => '--:').join('|')}|--:|--:|---|`);
  for (const row of report.rows) {
    const cells = COLUMNS.map((c) => cell(row, c));
    const verdict = row.target === undefined ? '—' : `≥ ${row.target.atLeast}× ${row.target.against}: ${judge(row, row.target)}`;
    lines.push(`| ${row.label} | ${cells.join(' | ')} | ${ratio(ratioOf(row, 's3rver'))} | ${ratio(ratioOf(row, 'raw'))} | ${verdict} |`);
  }
  const rss = report.peakRssBytes;
  const mib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : String(Math.round(bytes / 1024 / 1024)));
  const rssRatio = rss.holdfast !== undefined && rss.s3rver !== undefined ? ratio(rss.holdfast / rss.s3rver) : '—';
  lines.push(
    `| peak RSS of the server (VmHWM), MiB | ${mib(rss.holdfast)} | ${mib(rss.s3rver)} | ${mib(rss.raw)} | ${mib(rss.ceiling)} | ${rssRatio} | — | — |`,
  );
  const other = COLUMNS.map((c) => (report.otherCpuCores[c] === undefined ? 'n/a' : report.otherCpuCores[c].toFixed(2)));
  lines.push(`| other processes' CPU during the column (its busiest round), cores | ${other.join(' | ')} | — | — | — |`);
  if (options.rounds > 1) {
    lines.push('');
    lines.push(
      `4 KiB rows: median of ${options.rounds} rounds per column (min–max in brackets); the ratios and the target verdicts ` +
        `compare the medians. The columns took turns round by round (Holdfast, s3rver, raw, Holdfast, …), so a neighbour's ` +
        `burst lands in one round of one column rather than in all of a column. Large rows and the generator ceiling: one round.`,
    );
  }

  lines.push('');
  lines.push(
    `Same run, same machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, Linux ${machine.kernel}, ` +
      `Node ${machine.node}; every column wrote to the same temporary filesystem (${machine.filesystem}). ` +
      `${report.startedAt}, ${Math.round(report.durationMs / 1000)} s.`,
  );
  lines.push('');
  lines.push(...notes(report).map((note) => `- ${note}`));

  const errorLines = errorReport(report);
  if (errorLines.length > 0) {
    lines.push('', '### Errors', '', ...errorLines);
  }
  if (isFlagged(report)) {
    lines.push('', `**RUN FLAGGED**: ${totalErrors(report)} failed requests, ${report.failures.length} columns not measured. The numbers above are not a result.`);
  }
  return lines.join('\n');
}

function notes(report: BenchReport): string[] {
  const { options, machine } = report;
  const gib = options.largeBytes / 1024 / 1024 / 1024;
  const large = gib >= 1 ? `${gib} GiB` : `${options.largeBytes / 1024 / 1024} MiB`;
  const out = [
    `MB/s is 10^6 bytes per second of wall-clock time for one ${large} object; ops/s counts successful requests over ` +
      `${options.durationMs / 1000} s after a ${options.warmupMs} ms warm-up, in a closed loop of c concurrent requests ` +
      `(c keep-alive connections). Every response's status (and, for GET, its length) is checked.`,
    `The load generator (node:http, keep-alive agent) runs in its own process, apart from the server under test; but ` +
      `with ${machine.cores} cores, client and server share the CPU, so every server column is also paying for its load.`,
    `generator ceiling: the same generator against a do-nothing node:http server in its own process (PUT: body read, ` +
      `200; GET: 200 with the bytes from memory). A server column close to it is limited by the generator, not measured.`,
    `Auth: 4 KiB requests use SigV4 presigned URLs (UNSIGNED-PAYLOAD, made by @smithy/signature-v4 before each point, ` +
      `not timed); ${large} requests use SigV4 header auth with UNSIGNED-PAYLOAD. Holdfast verifies every signature; ` +
      `s3rver is given its built-in S3RVER key and does not verify V4 signatures.`,
    `Durability is not equal: Holdfast fsyncs data and metadata before answering 200; s3rver never fsyncs (an ` +
      `acknowledged object may be lost on power failure); raw fsync limit = a minimal process writing the same bytes ` +
      `(4 KiB: create, write, fsync, close per object, c at a time on libuv's thread pool sized to 64; ${large}: ` +
      `streamed 1 MiB writes and one fsync). Raw GET reads the files back (page cache warm, as for the servers).`,
    `Peak RSS: VmHWM of each server process at the end of the run (raw: the minimal process; generator ceiling: the ` +
      `do-nothing server). The load generator itself peaked at ` +
      `${report.peakRssBytes.loadGenerator === undefined ? 'n/a' : Math.round(report.peakRssBytes.loadGenerator / 1024 / 1024)} MiB.`,
  ];
  const idle = COLUMNS.filter((c) => report.idleCpuCores[c] !== undefined).map((c) => `${TITLES[c]} ${report.idleCpuCores[c]!.toFixed(3)}`);
  if (idle.length > 0) {
    out.push(
      `Every server stays up for the whole run, idle while another column is measured, with the dirty pages of the ` +
        `previous measurement flushed (sync) before each starts. CPU of the idle servers in those windows, cores: ${idle.join(', ')}` +
        ` (included in no column's "other processes").`,
    );
  }
  const noisiest = Math.max(0, ...Object.values(report.otherCpuCores));
  if (noisiest >= NOISY_CORES) {
    out.push(
      `**Noisy machine: other processes used up to ${noisiest.toFixed(2)} of the ${machine.cores} cores while a column ran ` +
        `(last row); columns ran one after another, so they did not all compete with the same load. ` +
        `${options.rounds > 1 ? 'Compare the ranges: a burst in one round moves a median less than a min or max. ' : ''}Rerun when the machine is quiet.**`,
    );
  }
  for (const row of report.rows) {
    const peer = throughput(row, 's3rver');
    const raw = throughput(row, 'raw');
    if (row.id.startsWith('put-small') && row.target?.against === 's3rver' && peer !== undefined && raw !== undefined) {
      const needed = row.target.atLeast * peer;
      if (needed > raw) {
        out.push(
          `${row.label}: the target needs ${Math.round(needed)} ops/s, more than the raw limit of ${Math.round(raw)} ` +
            `new files written and fsync'd per second at this concurrency: reaching it takes cheaper durable writes than ` +
            `one new file each (appending to an existing log, as SQLite's WAL does, or one fsync for several objects).`,
        );
      }
    }
    const ceiling = throughput(row, 'ceiling');
    for (const column of ['holdfast', 's3rver'] as const) {
      const value = throughput(row, column);
      if (ceiling !== undefined && value !== undefined && value >= 0.6 * ceiling) {
        out.push(`**${row.label}: ${TITLES[column]} reached ${Math.round((100 * value) / ceiling)}% of the generator ceiling; it may be limited by the generator.**`);
      }
    }
    for (const column of COLUMNS) {
      for (const point of row.cells[column] ?? []) {
        if (row.id.startsWith('put-small') && point.elapsedMs < 0.9 * options.durationMs && point.ops > 0) {
          out.push(`${row.label}, ${TITLES[column]}: ran out of its ${options.smallPutKeys} prepared keys after ${(point.elapsedMs / 1000).toFixed(1)} s.`);
        }
      }
    }
  }
  return out;
}

function errorReport(report: BenchReport): string[] {
  const out = report.failures.flatMap((failure) => {
    const [first = '', ...rest] = failure.split('\n');
    return rest.length === 0 ? [`- ${first}`] : [`- ${first}`, '', '```', ...rest.slice(-30), '```', ''];
  });
  for (const row of report.rows) {
    for (const column of COLUMNS) {
      const errors = errorsOf(row, column);
      if (errors === 0) continue;
      const samples = (row.cells[column] ?? []).flatMap((point) => point.errorSamples).slice(0, 5);
      out.push(`- ${row.label}, ${TITLES[column]}: ${errors} failed, e.g.`);
      out.push(...samples.map((sample) => `  - \`${sample.replaceAll('`', "'")}\``));
    }
  }
  return out;
}

function cell(row: Row, column: Column): string {
  const points = row.cells[column];
  if (points === undefined || points.length === 0) return 'n/a';
  const values = spread(row, column);
  let shown = values === undefined ? 'failed' : number(values.median);
  if (values !== undefined && points.length > 1) shown += ` (${number(values.min)}–${number(values.max)})`;
  if (values !== undefined && values.rounds.length < points.length) shown += ` ⚠ ${points.length - values.rounds.length} of ${points.length} rounds failed`;
  const errors = errorsOf(row, column);
  return errors > 0 ? `${shown} ⚠ ${errors} errors` : shown;
}

function number(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

function judge(row: Row, target: Target): string {
  const value = ratioOf(row, target.against);
  if (value === undefined) return 'n/a';
  return value >= target.atLeast ? 'met' : '**missed**';
}

function ratio(value: number | undefined): string {
  return value === undefined ? '—' : `${value >= 10 ? value.toFixed(0) : value.toFixed(2)}×`;
}
