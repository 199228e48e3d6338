// `npm run bench:scan`: secret-scanning throughput against the I/O floor, in one run on one
// machine (issue 7, "Benchmark"). Not a test. For each corpus it times, warm page cache:
//   holdfast   the scanner in this process (one core), full built-in rule set
//   floors     `rg -j1`, `git grep --threads 1` (the issue's named floor tools) and GNU `grep`
//              (a stricter reference), each with the union of the rules' keywords over the same bytes
// and for git history the same over `git log --all -p -U1` (`git grep` cannot read a pipe).
// Every floor is one core. Each corpus runs SCAN_BENCH_REPEAT times (default 3), scanner and
// floors interleaved, and the best of each is kept; CPU seconds (user + system, from the shell's
// `times` for the floors, /proc for the scanner's `git log`) are printed too, since on a shared
// machine wall time also measures the neighbours. SCAN_BENCH_THREADS=N (default 1) adds rows for
// the working trees scanned by N worker threads (`scan secrets --threads N`), beside the same floors.
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

/** The best wall and the best CPU time of REPEAT interleaved runs of the scanner and each floor. */
async function bestOf<T extends Timing>(scan: () => Promise<T>, floors: Readonly<Record<FloorName, (() => Promise<Timing>) | undefined>>): Promise<{ holdfast: T; floors: Partial<Record<FloorName, Timing>> }> {
  const scans: T[] = [];
  const floorRuns = new Map<FloorName, Timing[]>();
  for (let round = 0; round < REPEAT; round++) {
    scans.push(await scan());
    for (const name of FLOOR_NAMES) {
      const floor = floors[name];
      if (floor === undefined) continue;
      const runs = floorRuns.get(name) ?? [];
      runs.push(await floor());
      floorRuns.set(name, runs);
    }
  }
  const best = (runs: readonly Timing[]) => ({ seconds: Math.min(...runs.map((run) => run.seconds)), cpuSeconds: Math.min(...runs.map((run) => run.cpuSeconds)) });
  const bestFloors: Partial<Record<FloorName, Timing>> = {};
  for (const [name, runs] of floorRuns) bestFloors[name] = best(runs);
  return { holdfast: { ...scans[0]!, ...best(scans) }, floors: bestFloors };
}

const keywordPattern = [...new Set(rules.rules.flatMap((rule) => rule.keywords))].map((keyword) => keyword.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
const quotedPattern = `'${keywordPattern.replaceAll("'", "'\\''")}'`;

/**
 * The floors, each one core, each the union of the rules' keywords, case-insensitive, counting
 * matching lines (-c: every file read to its end, but a line is done at its first keyword).
 * The issue names `git grep -E` and `rg` as the floor; the target is judged against the faster of
 * the two in each row. GNU grep is timed too, as a stricter reference: on a tree where nearly
 * every line holds a keyword it is several times faster than both (it skips the rest of a line
 * once one keyword matched, and its multi-keyword search is a Commentz-Walter-style skip loop).
 */
const FLOOR_NAMES = ['rg', 'gitGrep', 'gnuGrep'] as const;
type FloorName = (typeof FLOOR_NAMES)[number];
const ISSUE_FLOORS: readonly FloorName[] = ['rg', 'gitGrep'];
const FLOOR_LABELS: Record<FloorName, string> = { rg: '`rg -j1`', gitGrep: '`git grep --threads 1`', gnuGrep: 'GNU `grep`' };

function treeFloors(root: string): Record<FloorName, () => Promise<Timing>> {
  return {
    // -I skips binary files, as the scanner does; --no-ignore/--hidden: every file, as the scanner reads them.
    rg: () => timeShell(`LC_ALL=C rg -j1 -i -c -I --no-ignore --hidden --no-messages ${quotedPattern} .`, root),
    gitGrep: () => timeShell(`LC_ALL=C git grep --no-index --threads 1 -E -i -c -I ${quotedPattern}`, root),
    gnuGrep: () => timeShell(`LC_ALL=C grep -E -r -i -c -I ${quotedPattern} .`, root),
  };
}

function requireTool(command: string, install: string): void {
  if (spawnSync(command, ['--version'], { stdio: 'ignore' }).status !== 0) {
    process.stderr.write(`bench:scan needs \`${command}\` for its floor: install it (${install}) and run again.\n`);
    process.exit(69);
  }
}

interface Row { corpus: string; megabytes: number; holdfast: Timing; floors: Partial<Record<FloorName, Timing>>; findings: number }

const judging = { clock: new ManualClock(0), policy: SECRETS_NOT_IN_SOURCE };
const scanOptions = { ruleSet: rules, ...judging };

async function benchTree(name: string, root: string, rows: Row[], threads = 1): Promise<void> {
  const options = { maxFileBytes: 5 * 1024 * 1024, excludedDirectories: [], decoding: rules.textDecoding, screen: rules.prefilter };
  const scanTree = (stats: SourceStats) => (threads === 1 ? scanUnits(workingTreeUnits(root, options, stats), scanOptions) : scanTreeInParallel(root, options, { ...judging, threads }, stats));
  await scanTree(emptySourceStats()); // warm the page cache
  const best = await bestOf(() => {
    const stats = emptySourceStats();
    return timeScan(() => scanTree(stats), stats);
  }, treeFloors(root));
  rows.push({ corpus: name, megabytes: best.holdfast.bytes / 1e6, holdfast: best.holdfast, floors: best.floors, findings: best.holdfast.findings });
}

/** `git grep` cannot read a pipe, so the history's floors are `rg` and GNU grep reading `git log -p`. */
async function benchHistory(name: string, repo: string, rows: Row[]): Promise<void> {
  const gitLog = 'git log --all -p -U1 --no-color';
  const best = await bestOf(
    () => {
      const stats = emptySourceStats();
      return timeScan(() => scanUnits(gitHistoryUnits(repo, { maxUnitBytes: 5 * 1024 * 1024, decoding: rules.textDecoding }, stats), scanOptions), stats);
    },
    {
      rg: () => timeShell(`${gitLog} | LC_ALL=C rg -j1 -i -c ${quotedPattern}`, repo),
      gitGrep: undefined,
      gnuGrep: () => timeShell(`${gitLog} | LC_ALL=C grep -E -i -c ${quotedPattern}`, repo),
    },
  );
  rows.push({ corpus: name, megabytes: best.holdfast.bytes / 1e6, holdfast: best.holdfast, floors: best.floors, findings: best.holdfast.findings });
}

/** The floor the target is judged against: the faster of the issue's named tools that ran. */
function issueFloor(row: Row): { name: FloorName; timing: Timing } {
  const measured = ISSUE_FLOORS.flatMap((name) => (row.floors[name] === undefined ? [] : [{ name, timing: row.floors[name] }]));
  return measured.reduce((fastest, floor) => (floor.timing.seconds < fastest.timing.seconds ? floor : fastest));
}

async function main(): Promise<void> {
  requireTool('rg', 'Debian: apt-get install ripgrep');
  requireTool('grep', 'Debian: apt-get install grep');
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
  const megabytesPerSecond = (row: Row, timing: Timing | undefined) => (timing === undefined ? 'n/a' : (row.megabytes / timing.seconds).toFixed(1));
  const ratios = (row: Row, floor: Timing | undefined) =>
    floor === undefined
      ? 'n/a | n/a'
      : `${(row.holdfast.seconds / floor.seconds).toFixed(2)}× | ${(row.holdfast.cpuSeconds / floor.cpuSeconds).toFixed(2)}× (${row.holdfast.cpuSeconds.toFixed(2)} / ${floor.cpuSeconds.toFixed(2)} s)`;
  console.log(
    `| corpus | MB | holdfast MB/s | ${FLOOR_NAMES.map((name) => `${FLOOR_LABELS[name]} MB/s`).join(' | ')} | holdfast / issue floor: time | CPU | target (≤ 3× the issue floor's time) | holdfast / GNU grep: time | CPU | findings |`,
  );
  console.log(`|---|--:|--:|${FLOOR_NAMES.map(() => '--:').join('|')}|--:|--:|---|--:|--:|--:|`);
  for (const row of rows) {
    const floor = issueFloor(row);
    const verdict = row.holdfast.seconds / floor.timing.seconds <= 3 ? 'met' : '**missed**';
    console.log(
      `| ${row.corpus} | ${row.megabytes.toFixed(1)} | ${(row.megabytes / row.holdfast.seconds).toFixed(1)} | ${FLOOR_NAMES.map((name) => megabytesPerSecond(row, row.floors[name])).join(' | ')} | ${ratios(row, floor.timing)} | ${verdict} (against ${FLOOR_LABELS[floor.name]}) | ${ratios(row, row.floors.gnuGrep)} | ${row.findings} |`,
    );
  }
  console.log(
    `\nBest of ${REPEAT} interleaved runs each, one core each. Floors: the rules' ${new Set(rules.rules.flatMap((rule) => rule.keywords)).size} keywords as one case-insensitive alternation, matching lines counted. ` +
      'Target (issue 7): within 3× of "a plain `git grep -E`/`rg` pass" — judged against the faster of the two. GNU grep is shown as a stricter reference. ' +
      'The floors for git history include `git log -p` itself (and its CPU time); `git grep` cannot read a pipe, so it has no history floor.',
  );
}

await main();
