/**
 * `npm run bench:s3`: Holdfast against s3rver, the raw fsync'd write and the load generator's own
 * ceiling, one table, same run, same machine (issue 2, "Benchmark"). Not a test: `npm test` never
 * runs it.
 *
 * Columns are measured one after another, never at the same time: the do-nothing server (the
 * generator's ceiling), Holdfast, s3rver, then the raw limit. Each server and the load generator
 * are separate processes; this orchestrator only sequences them and waits.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackgroundLoadMeter } from './background-load.js';
import { filesystemOf } from './filesystem-of.js';
import { type BenchOptions, USAGE, parseBenchOptions } from './bench-options.js';
import { WorkerProcess } from './ipc-worker.js';
import { type BenchReport, type Column, type MachineInfo, type Row, isFlagged, renderJson, renderMarkdown, throughput } from './report.js';
import { type ServerUnderTest, peakRssBytes, startHoldfast, startNullServer, startS3rver } from './servers-under-test.js';
import { KEYS_KEPT_FOR_GETS, type PointResult, type Scenario } from './workload.js';

const HOLDFAST_ENTRY = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** The raw limit's thread pool: at least the highest concurrency, so the pool is not its bottleneck. */
const RAW_THREADPOOL_SIZE = 64;

interface PlannedRow {
  readonly row: Row;
  readonly scenario: (state: ColumnState) => Scenario;
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
const failures: string[] = [];
const peakRss: BenchReport['peakRssBytes'] = {};
const otherCpu: BenchReport['otherCpuCores'] = {};
const generator = new WorkerProcess(new URL('./load-generator.js', import.meta.url), []);
live.add(generator);

progress(
  `${options.quick ? 'quick' : 'full'} run: 4 columns × (${sizeLabel(options.largeBytes)} PUT+GET, 4 KiB PUT+GET at c=${options.concurrencies.join('/')}, ` +
    `${options.durationMs / 1000} s each); scratch ${scratch}`,
);
const wanted = new Set<Column>(options.columns);
if (wanted.has('ceiling')) await measureServer('ceiling', 'do-nothing server', () => startNullServer());
if (wanted.has('holdfast')) {
  await measureServer('holdfast', 'Holdfast', async () => startHoldfast(HOLDFAST_ENTRY, join(scratch, 'holdfast')));
}
if (wanted.has('s3rver')) {
  await measureServer('s3rver', 's3rver', async () => {
    const dir = join(scratch, 's3rver');
    await mkdir(dir);
    return startS3rver(dir);
  });
}
if (wanted.has('raw')) await measureRaw();
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
  failures,
};
process.stdout.write(`${options.json ? renderJson(report) : renderMarkdown(report)}\n`);
process.exitCode = isFlagged(report) ? 1 : 0;

async function measureServer(column: Column, name: string, start: () => Promise<ServerUnderTest>): Promise<void> {
  progress(`${name}: starting`);
  let server: ServerUnderTest;
  try {
    server = await start();
  } catch (error) {
    failures.push(`${name} not measured: ${describe(error)}`);
    progress(`${name}: failed to start (${describe(error)})`);
    return;
  }
  live.add(server);
  const meter = await BackgroundLoadMeter.start([process.pid, generator.pid, server.pid]);
  try {
    await measureColumn(column, name, (scenario) => generator.run(scenario, server.target));
    otherCpu[column] = await meter.otherCores();
  } catch (error) {
    failures.push(`${name}: ${describe(error)}\n${server.output()}`);
  } finally {
    peakRss[column] = await peakRssBytes(server.pid);
    await server.stop();
    live.delete(server);
  }
  await rm(join(scratch, column), { recursive: true, force: true });
}

async function measureRaw(): Promise<void> {
  const dir = join(scratch, 'raw');
  await mkdir(dir);
  const raw = new WorkerProcess(new URL('./raw-fsync-limit.js', import.meta.url), [dir], {
    ...process.env,
    UV_THREADPOOL_SIZE: String(RAW_THREADPOOL_SIZE),
  });
  live.add(raw);
  const meter = await BackgroundLoadMeter.start([process.pid, raw.pid]);
  try {
    await measureColumn('raw', 'raw fsync limit', (scenario) => raw.run(scenario));
    otherCpu.raw = await meter.otherCores();
  } catch (error) {
    failures.push(`raw fsync limit: ${describe(error)}`);
  } finally {
    peakRss.raw = await peakRssBytes(raw.pid);
    await raw.stop();
    live.delete(raw);
  }
  await rm(dir, { recursive: true, force: true });
}

async function measureColumn(column: Column, name: string, run: (scenario: Scenario) => Promise<PointResult>): Promise<void> {
  const state: ColumnState = { keysForGets: [] };
  for (const planned of plan) {
    progress(`${name}: ${planned.row.label} …`);
    const result = await run(planned.scenario(state));
    (planned.row.cells as Record<Column, PointResult>)[column] = result;
    planned.after?.(state, result);
    const value = throughput(planned.row, column);
    progress(
      `${name}: ${planned.row.label} → ${value === undefined ? 'no successful request' : `${value.toFixed(1)} ${planned.row.unit}`}` +
        (result.errors > 0 ? ` (${result.errors} errors, e.g. ${result.errorSamples[0] ?? '?'})` : ''),
    );
  }
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
      scenario: () => ({ kind: 'small-put', keyPrefix: `small-c${concurrency}-`, concurrency, maxOps: opts.smallPutKeys, ...timing }),
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
