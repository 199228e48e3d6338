/**
 * `npm run bench:s3`: Holdfast against s3rver, the raw fsync'd write and the load generator's own
 * ceiling, one table, same run, same machine (issue 2, "Benchmark"). Not a test: `npm test` never
 * runs it.
 *
 * Columns are measured one after another, never at the same time: first the do-nothing server
 * (the generator's ceiling), alone; then Holdfast, s3rver and the raw limit are started together
 * and take turns: the large rows once each, then the 4 KiB points round by round (`--rounds`),
 * the table showing each point's median. Each server and the load generator are separate
 * processes; this orchestrator only sequences them and waits.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BackgroundLoadMeter, CLOCK_TICKS_PER_SECOND, ticksOf } from './background-load.js';
import { filesystemOf } from './filesystem-of.js';
import { type BenchOptions, USAGE, parseBenchOptions } from './bench-options.js';
import { WorkerProcess } from './ipc-worker.js';
import { type BenchReport, type Column, type MachineInfo, type Row, isFlagged, renderJson, renderMarkdown } from './report.js';
import { type ServerUnderTest, peakRssBytes, startHoldfast, startNullServer, startS3rver } from './servers-under-test.js';
import { KEYS_KEPT_FOR_GETS, type PointResult, type Scenario } from './workload.js';

const execFileAsync = promisify(execFile);
const HOLDFAST_ENTRY = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** The raw limit's thread pool: at least the highest concurrency, so the pool is not its bottleneck. */
const RAW_THREADPOOL_SIZE = 64;

interface PlannedRow {
  readonly row: Row;
  /** `round` is 0 for the points measured once, 1… for the 4 KiB rounds (each PUT round writes new keys). */
  readonly scenario: (state: ColumnState, round: number) => Scenario;
  /** Called with the result, to carry keys from a PUT point to the GET point after it. */
  readonly after?: (state: ColumnState, result: PointResult) => void;
}

interface ColumnState {
  keysForGets: readonly string[];
}

const started = Date.now();
let parsed: BenchOptions | 'help';
try {
  parsed = parseBenchOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${describe(error)}\n${USAGE}\n`);
  process.exit(64);
}
if (parsed === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const options: BenchOptions = parsed;

const live = new Set<{ kill(): void }>();
const scratch = await mkdtemp(join(tmpdir(), 'holdfast-bench-'));
process.once('exit', () => {
  for (const child of live) child.kill();
  rmSync(scratch, { recursive: true, force: true });
});
process.once('SIGINT', () => process.exit(130));
setTimeout(() => {
  progress(`stopped: the run exceeded its ${options.budgetMs / 60_000}-minute budget`);
  process.exit(2);
}, options.budgetMs).unref();

const plan = planRows(options);
const largeRows = plan.filter((planned) => planned.row.unit === 'MB/s');
const smallRows = plan.filter((planned) => planned.row.unit === 'ops/s');
const failures: string[] = [];
const peakRss: BenchReport['peakRssBytes'] = {};
const otherCpu: BenchReport['otherCpuCores'] = {};
const idleTicks = new Map<Column, { ticks: number; seconds: number }>();
const generator = new WorkerProcess(new URL('./load-generator.js', import.meta.url), []);
live.add(generator);

progress(
  `${options.quick ? 'quick' : 'full'} run: 4 columns × (${sizeLabel(options.largeBytes)} PUT+GET once, 4 KiB PUT+GET at ` +
    `c=${options.concurrencies.join('/')} × ${options.rounds} round${options.rounds === 1 ? '' : 's'}, ` +
    `${options.durationMs / 1000} s each); scratch ${scratch}`,
);
const wanted = new Set<Column>(options.columns);
// The three columns that the targets compare are started together (after the ceiling, measured
// alone) and stay up for the whole run, so the 4 KiB points can take turns round by round: a
// neighbour's burst then spoils one round of one column, not a whole column, and the median
// leaves it out.
const contenders: Contender[] = [];
if (wanted.has('ceiling')) await measureCeiling();
if (wanted.has('holdfast')) {
  await startContender('Holdfast', async () => serverContender('holdfast', 'Holdfast', await startHoldfast(HOLDFAST_ENTRY, join(scratch, 'holdfast'))));
}
if (wanted.has('s3rver')) {
  await startContender('s3rver', async () => {
    const dir = join(scratch, 's3rver');
    await mkdir(dir);
    return serverContender('s3rver', 's3rver', await startS3rver(dir));
  });
}
if (wanted.has('raw')) await startContender('raw fsync limit', () => startRaw());

for (const contender of [...contenders]) {
  await measureRound(contender, largeRows, 0);
}
for (let round = 1; round <= options.rounds; round++) {
  for (const contender of [...contenders]) await measureRound(contender, smallRows, round);
}
for (const contender of contenders) {
  peakRss[contender.column] = await peakRssBytes(contender.pid);
  await contender.stop();
  live.delete(contender);
}
peakRss.loadGenerator = await peakRssBytes(generator.pid);
await generator.stop();
live.delete(generator);

const report: BenchReport = {
  startedAt: new Date(started).toISOString(),
  durationMs: Date.now() - started,
  options,
  machine: await machineInfo(scratch),
  // All PUT points, then all GET points (they ran interleaved: each GET reads what the PUT before it wrote).
  rows: [...plan.map((planned) => planned.row)].sort((a, b) => rowRank(a) - rowRank(b)),
  peakRssBytes: peakRss,
  otherCpuCores: otherCpu,
  idleCpuCores: Object.fromEntries(
    [...idleTicks].map(([column, { ticks, seconds }]) => [column, seconds > 0 ? ticks / CLOCK_TICKS_PER_SECOND / seconds : 0]),
  ),
  failures,
};
process.stdout.write(`${options.json ? renderJson(report) : renderMarkdown(report)}\n`);
process.exitCode = isFlagged(report) ? 1 : 0;

/** A column measured through the run: a server driven by the load generator, or the raw process. */
interface Contender {
  readonly column: Column;
  readonly name: string;
  readonly pid: number;
  run(scenario: Scenario): Promise<PointResult>;
  /** The last lines the process printed, for failure reports. */
  output(): string;
  stop(): Promise<void>;
  kill(): void;
}

/** Once, alone, before the other columns start: the generator against a do-nothing server. */
async function measureCeiling(): Promise<void> {
  progress('do-nothing server: starting');
  let server: ServerUnderTest;
  try {
    server = await startNullServer();
  } catch (error) {
    failures.push(`do-nothing server not measured: ${describe(error)}`);
    return;
  }
  live.add(server);
  await measureRound(serverContender('ceiling', 'do-nothing server', server), plan, 0);
  peakRss.ceiling = await peakRssBytes(server.pid);
  await server.stop();
  live.delete(server);
}

async function startContender(name: string, start: () => Promise<Contender>): Promise<void> {
  progress(`${name}: starting`);
  try {
    const contender = await start();
    contenders.push(contender);
    live.add(contender);
  } catch (error) {
    failures.push(`${name} not measured: ${describe(error)}`);
    progress(`${name}: failed to start (${describe(error)})`);
  }
}

function serverContender(column: Column, name: string, server: ServerUnderTest): Contender {
  return {
    column,
    name,
    pid: server.pid,
    run: (scenario) => generator.run(scenario, server.target),
    output: () => server.output(),
    stop: () => server.stop(),
    kill: () => server.kill(),
  };
}

async function startRaw(): Promise<Contender> {
  const dir = join(scratch, 'raw');
  await mkdir(dir);
  const raw = new WorkerProcess(new URL('./raw-fsync-limit.js', import.meta.url), [dir], {
    ...process.env,
    UV_THREADPOOL_SIZE: String(RAW_THREADPOOL_SIZE),
  });
  return { column: 'raw', name: 'raw fsync limit', pid: raw.pid, run: (scenario) => raw.run(scenario), output: () => '', stop: () => raw.stop(), kill: () => raw.kill() };
}

/**
 * One round of `rows` for one column, the others idle. Dirty pages are flushed first, so no
 * column pays for the writeback of another's un-synced writes (s3rver never fsyncs). A column that
 * fails is reported and left out of the rounds after.
 */
async function measureRound(contender: Contender, rows: readonly PlannedRow[], round: number): Promise<void> {
  if (rows.length === 0) return;
  await flushDirtyPages();
  const idle = contenders.filter((other) => other !== contender);
  const ours = [process.pid, generator.pid, contender.pid, ...idle.map((other) => other.pid)];
  const meter = await BackgroundLoadMeter.start(ours);
  const idleBefore = await Promise.all(idle.map((other) => ticksOf([other.pid])));
  const began = performance.now();
  const state: ColumnState = { keysForGets: [] };
  const tag = round === 0 ? contender.name : `${contender.name}, round ${round}/${options.rounds}`;
  try {
    for (const planned of rows) {
      progress(`${tag}: ${planned.row.label} …`);
      const result = await contender.run(planned.scenario(state, round));
      const cells = planned.row.cells as Partial<Record<Column, PointResult[]>>;
      (cells[contender.column] ??= []).push(result);
      planned.after?.(state, result);
      const value = pointValue(planned.row.unit, result);
      progress(
        `${tag}: ${planned.row.label} → ${value === undefined ? 'no successful request' : `${value.toFixed(1)} ${planned.row.unit}`}` +
          (result.errors > 0 ? ` (${result.errors} errors, e.g. ${result.errorSamples[0] ?? '?'})` : ''),
      );
    }
  } catch (error) {
    failures.push(`${contender.name}: ${describe(error)}\n${contender.output()}`);
    const index = contenders.indexOf(contender);
    if (index >= 0) contenders.splice(index, 1);
    peakRss[contender.column] = await peakRssBytes(contender.pid);
    await contender.stop();
    live.delete(contender);
  }
  const seconds = (performance.now() - began) / 1000;
  const others = await meter.otherCores();
  if (others !== undefined) otherCpu[contender.column] = Math.max(otherCpu[contender.column] ?? 0, others);
  const idleAfter = await Promise.all(idle.map((other) => ticksOf([other.pid])));
  idle.forEach((other, i) => {
    const sum = idleTicks.get(other.column) ?? { ticks: 0, seconds: 0 };
    idleTicks.set(other.column, { ticks: sum.ticks + (idleAfter[i] ?? 0) - (idleBefore[i] ?? 0), seconds: sum.seconds + seconds });
  });
}

function pointValue(unit: Row['unit'], result: PointResult): number | undefined {
  if (result.elapsedMs <= 0 || result.ops === 0) return undefined;
  return unit === 'MB/s' ? result.bytes / 1e6 / (result.elapsedMs / 1000) : result.ops / (result.elapsedMs / 1000);
}

/** Writes back every dirty page of the scratch filesystem (`sync -f`), outside any timed window. */
async function flushDirtyPages(): Promise<void> {
  await execFileAsync('sync', ['-f', scratch]);
}

function planRows(opts: BenchOptions): PlannedRow[] {
  const large = sizeLabel(opts.largeBytes);
  const largeKey = `large-${opts.largeBytes}`;
  const rows: PlannedRow[] = [];
  if (opts.rows !== 'small') {
    rows.push(
      {
        row: { id: 'put-large', label: `PUT ${large}, MB/s`, unit: 'MB/s', target: { against: 'raw', atLeast: 0.7 }, cells: {} },
        scenario: () => ({ kind: 'large-put', key: largeKey, bytes: opts.largeBytes }),
      },
      {
        row: { id: 'get-large', label: `GET ${large}, MB/s`, unit: 'MB/s', cells: {} },
        scenario: () => ({ kind: 'large-get', key: largeKey, bytes: opts.largeBytes }),
      },
    );
  }
  if (opts.rows === 'large') return rows;
  const timing = { durationMs: opts.durationMs, warmupMs: opts.warmupMs };
  for (const concurrency of opts.concurrencies) {
    rows.push({
      row: { id: `put-small-c${concurrency}`, label: `PUT 4 KiB c=${concurrency}, ops/s`, unit: 'ops/s', target: { against: 's3rver', atLeast: 3 }, cells: {} },
      scenario: (_, round) => ({ kind: 'small-put', keyPrefix: `small-r${round}-c${concurrency}-`, concurrency, maxOps: opts.smallPutKeys, ...timing }),
      after: (state, result) => {
        state.keysForGets = result.writtenKeys?.slice(0, KEYS_KEPT_FOR_GETS) ?? [];
      },
    });
    rows.push({
      row: { id: `get-small-c${concurrency}`, label: `GET 4 KiB c=${concurrency}, ops/s`, unit: 'ops/s', target: { against: 's3rver', atLeast: 3 }, cells: {} },
      scenario: (state) => ({ kind: 'small-get', keys: state.keysForGets, concurrency, ...timing }),
    });
  }
  return rows;
}

function rowRank(row: Row): number {
  const order = ['put-large', 'get-large', 'put-small', 'get-small'];
  return order.findIndex((prefix) => row.id.startsWith(prefix)) * 1000 + Number(/c(\d+)$/.exec(row.id)?.[1] ?? 0);
}

async function machineInfo(dir: string): Promise<MachineInfo> {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown CPU',
    cores: cpuList.length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.versions.node,
    kernel: release(),
    filesystem: await filesystemOf(dir),
  };
}

function sizeLabel(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3} GiB` : `${bytes / 1024 ** 2} MiB`;
}

function progress(message: string): void {
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stderr.write(`[bench ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}] ${message}\n`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
