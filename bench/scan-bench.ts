// `npm run bench:scan`: secret-scanning throughput against the I/O floor, in one run on one
// machine (issue 7, "Benchmark"). Not a test. For each corpus it times, warm page cache:
//   holdfast   the scanner in this process (one core), full built-in rule set
//   grep floor `grep -E -r -i -c` with the union of the rules' keywords over the same bytes
// and for git history the same pair over `git log --all -p -U1`. Writes only under $TMPDIR.
// The floor is one core: GNU grep has no threads (unlike `git grep`, which defaults to one per
// core, and `rg`, which needs -j1). Each pair runs SCAN_BENCH_REPEAT times (default 3),
// interleaved, and the best of each is kept; CPU seconds (user + system, from the shell's
// `times` for grep, /proc for the scanner's `git log`) are printed too, since on a shared machine
// wall time also measures the neighbours. SCAN_BENCH_THREADS=N (default 1) adds rows for the
// working trees scanned by N worker threads (`scan secrets --threads N`), beside the same floor.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../src/infra/clock.js';
import { gitHistoryUnits } from '../src/guard/secrets/git-history-source.js';
import { SECRETS_NOT_IN_SOURCE } from '../src/guard/secrets/secret-finding.js';
import { loadSecretRules } from '../src/guard/secrets/secret-rules.js';
import { scanTreeInParallel } from '../src/guard/secrets/parallel-tree-scan.js';
import { scanUnits } from '../src/guard/secrets/secret-scan.js';
import { emptySourceStats, type SourceStats } from '../src/guard/secrets/text-unit.js';
import { workingTreeUnits } from '../src/guard/secrets/working-tree-source.js';

const TREE_MB = Number(process.env.SCAN_BENCH_TREE_MB ?? 64);
const rules = loadSecretRules();

function findRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error('no package.json above the benchmark');
}

/** Source-like text: code, config and prose lines, a few planted secrets (built from pieces). */
async function generateTree(root: string, megabytes: number): Promise<void> {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const word = () => ['user', 'order', 'token', 'value', 'config', 'handler', 'request', 'cache', 'secretary', 'passwordless'][Math.floor(random() * 10)]!;
  const id = (n: number) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[Math.floor(random() * 62)]).join('');
  const line = () => {
    switch (Math.floor(random() * 6)) {
      case 0: return `export function ${word()}${id(4)}(input: string): number { return input.length * ${Math.floor(random() * 100)}; }`;
      case 1: return `  "${word()}_${id(3)}": "${id(12)} ${word()} ${word()}",`;
      case 2: return `const ${word()}Url = 'https://api.example.com/v1/${word()}/${id(8)}';`;
      case 3: return `# ${word()} ${word()} ${word()} — see docs/${word()}.md for the ${word()} flow`;
      case 4: return `${word().toUpperCase()}_TIMEOUT=${Math.floor(random() * 1000)}`;
      default: return `  if (${word()}.${word()} === undefined) throw new Error('${word()} ${id(6)} missing');`;
    }
  };
  const total = megabytes * 1024 * 1024;
  for (let written = 0, file = 0; written < total; file++) {
    const lines: string[] = [];
    let size = 0;
    while (size < 32 * 1024) {
      const text = random() < 0.0005 ? `GH_TOKEN=${'gh' + 'p_' + id(36)}` : line();
      lines.push(text);
      size += text.length + 1;
    }
    const path = join(root, `dir${file % 40}`, `file${file}.${['ts', 'json', 'env', 'md'][file % 4]}`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${lines.join('\n')}\n`);
    written += size;
  }
}

const REPEAT = Number(process.env.SCAN_BENCH_REPEAT ?? 3);
const THREADS = Number(process.env.SCAN_BENCH_THREADS ?? 1);

interface Timing { seconds: number; cpuSeconds: number }

/** CPU seconds of this process's finished children (`git log` for history), from /proc on Linux; 0 elsewhere. */
function childrenCpuSeconds(): number {
  try {
    // Fields 16 and 17 (cutime, cstime), in clock ticks (USER_HZ, 100 on Linux), after the ")" of the name.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}

/** Times a scan; `process.cpuUsage()` covers worker threads too, `git log` is added from /proc. */
async function timeScan(scan: () => Promise<readonly unknown[]>, stats: SourceStats) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const children = childrenCpuSeconds();
  const findings = await scan();
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6 + childrenCpuSeconds() - children;
  return { seconds: (performance.now() - started) / 1000, cpuSeconds, bytes: stats.bytes, findings: findings.length };
}

/** `times` output, "0m1.250s 0m0.100s" for the shell, then the same for its children. */
function childCpuSeconds(times: string): number {
  const children = times.trim().split('\n').at(-1) ?? '';
  return [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, [, minutes, seconds]) => sum + Number(minutes) * 60 + Number(seconds), 0);
}

/** Runs a shell pipeline, discarding its output; returns wall and CPU seconds (of the pipeline). */
function timeShell(command: string, cwd: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', `{ ${command} ; } >/dev/null; status=$?; times; exit $status`], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let times = '';
    child.stdout.on('data', (chunk: Buffer) => (times += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 || code === 1 ? resolve({ seconds: (performance.now() - started) / 1000, cpuSeconds: childCpuSeconds(times) }) : reject(new Error(`${command} exited ${code}`))));
  });
}

/** The best wall and the best CPU time of REPEAT interleaved runs of the scanner and the floor. */
async function bestOf<T extends Timing>(scan: () => Promise<T>, floor: () => Promise<Timing>): Promise<{ holdfast: T; floor: Timing }> {
  const scans: T[] = [];
  const floors: Timing[] = [];
  for (let round = 0; round < REPEAT; round++) {
    scans.push(await scan());
    floors.push(await floor());
  }
  const best = (runs: readonly Timing[]) => ({ seconds: Math.min(...runs.map((run) => run.seconds)), cpuSeconds: Math.min(...runs.map((run) => run.cpuSeconds)) });
  return { holdfast: { ...scans[0]!, ...best(scans) }, floor: best(floors) };
}

const keywordPattern = [...new Set(rules.rules.flatMap((rule) => rule.keywords))].map((keyword) => keyword.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');

interface Row { corpus: string; megabytes: number; holdfast: Timing; floor: Timing; findings: number }

const judging = { clock: new ManualClock(0), policy: SECRETS_NOT_IN_SOURCE };
const scanOptions = { ruleSet: rules, ...judging };

async function benchTree(name: string, root: string, rows: Row[], threads = 1): Promise<void> {
  const options = { maxFileBytes: 5 * 1024 * 1024, excludedDirectories: [], decoding: rules.textDecoding, screen: rules.prefilter };
  const scanTree = (stats: SourceStats) => (threads === 1 ? scanUnits(workingTreeUnits(root, options, stats), scanOptions) : scanTreeInParallel(root, options, { ...judging, threads }, stats));
  await scanTree(emptySourceStats()); // warm the page cache
  const best = await bestOf(
    () => {
      const stats = emptySourceStats();
      return timeScan(() => scanTree(stats), stats);
    },
    // -I skips binary files, as the scanner does; -c makes grep read every file to the end.
    () => timeShell(`LC_ALL=C grep -E -r -i -c -I '${keywordPattern.replaceAll("'", "'\\''")}' .`, root),
  );
  rows.push({ corpus: name, megabytes: best.holdfast.bytes / 1e6, holdfast: best.holdfast, floor: best.floor, findings: best.holdfast.findings });
}

async function benchHistory(name: string, repo: string, rows: Row[]): Promise<void> {
  const best = await bestOf(
    () => {
      const stats = emptySourceStats();
      return timeScan(() => scanUnits(gitHistoryUnits(repo, { maxUnitBytes: 5 * 1024 * 1024, decoding: rules.textDecoding }, stats), scanOptions), stats);
    },
    () => timeShell(`git log --all -p -U1 --no-color | LC_ALL=C grep -E -i -c '${keywordPattern.replaceAll("'", "'\\''")}'`, repo),
  );
  rows.push({ corpus: name, megabytes: best.holdfast.bytes / 1e6, holdfast: best.holdfast, floor: best.floor, findings: best.holdfast.findings });
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'holdfast-scan-bench-'));
  const rows: Row[] = [];
  try {
    const tree = join(work, 'tree');
    await generateTree(tree, TREE_MB);
    await benchTree(`generated tree (${TREE_MB} MiB)`, tree, rows);
    await benchTree('node_modules', join(findRoot(), 'node_modules'), rows);
    if (THREADS > 1) {
      await benchTree(`generated tree, ${THREADS} threads`, tree, rows, THREADS);
      await benchTree(`node_modules, ${THREADS} threads`, join(findRoot(), 'node_modules'), rows, THREADS);
    }
    const git = (args: string[]) => spawnSync('git', ['-C', tree, '-c', 'user.name=bench', '-c', 'user.email=bench@example.org', '-c', 'commit.gpgsign=false', ...args], { stdio: 'ignore' });
    if (git(['init', '-q']).status === 0) {
      for (let part = 0; part < 40; part += 10) {
        git(['add', ...Array.from({ length: 10 }, (_, index) => `dir${part + index}`)]);
        git(['commit', '-q', '-m', `part ${part}`]);
      }
      await benchHistory('git history of the generated tree', tree, rows);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const header = '| corpus | MB | holdfast MB/s | grep -E keyword floor MB/s | holdfast / floor time | holdfast / floor CPU time | findings |';
  console.log(`${header}\n|---|--:|--:|--:|--:|--:|--:|`);
  for (const row of rows) {
    console.log(
      `| ${row.corpus} | ${row.megabytes.toFixed(1)} | ${(row.megabytes / row.holdfast.seconds).toFixed(1)} | ${(row.megabytes / row.floor.seconds).toFixed(1)} | ${(row.holdfast.seconds / row.floor.seconds).toFixed(2)}× | ${(row.holdfast.cpuSeconds / row.floor.cpuSeconds).toFixed(2)}× (${row.holdfast.cpuSeconds.toFixed(2)} / ${row.floor.cpuSeconds.toFixed(2)} s) | ${row.findings} |`,
    );
  }
  console.log(`\nBest of ${REPEAT} interleaved runs each. Target (issue 7): within 3× of the floor on one core. The floor for git history includes \`git log -p\` itself (and its CPU time).`);
}

await main();
