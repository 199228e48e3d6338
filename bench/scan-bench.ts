// `npm run bench:scan`: secret-scanning throughput against the I/O floor, in one run on one
// machine (issue 7, "Benchmark"). Not a test. For each corpus it times, warm page cache:
//   holdfast   the scanner in this process (one core), full built-in rule set
//   grep floor `grep -E -r -i -c` with the union of the rules' keywords over the same bytes
// and for git history the same pair over `git log --all -p -U1`. Writes only under $TMPDIR.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../src/infra/clock.js';
import { gitHistoryUnits } from '../src/guard/secrets/git-history-source.js';
import { SECRETS_NOT_IN_SOURCE } from '../src/guard/secrets/secret-finding.js';
import { loadSecretRules } from '../src/guard/secrets/secret-rules.js';
import { scanUnits } from '../src/guard/secrets/secret-scan.js';
import { emptySourceStats, type SourceStats, type TextUnit } from '../src/guard/secrets/text-unit.js';
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

async function timeScan(units: AsyncIterable<TextUnit>, stats: SourceStats) {
  const started = performance.now();
  const findings = await scanUnits(units, { ruleSet: rules, clock: new ManualClock(0), policy: SECRETS_NOT_IN_SOURCE });
  return { seconds: (performance.now() - started) / 1000, bytes: stats.bytes, findings: findings.length };
}

/** Runs a shell pipeline, discarding its output; returns seconds. */
function timeShell(command: string, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', command], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 || code === 1 ? resolve((performance.now() - started) / 1000) : reject(new Error(`${command} exited ${code}`))));
  });
}

const keywordPattern = [...new Set(rules.rules.flatMap((rule) => rule.keywords))].map((keyword) => keyword.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');

interface Row { corpus: string; megabytes: number; holdfastSeconds: number; floorSeconds: number; findings: number }

async function benchTree(name: string, root: string, rows: Row[]): Promise<void> {
  const options = { maxFileBytes: 5 * 1024 * 1024, excludedDirectories: [] };
  await timeScan(workingTreeUnits(root, options, emptySourceStats()), emptySourceStats()); // warm the page cache
  const stats = emptySourceStats();
  const scanned = await timeScan(workingTreeUnits(root, options, stats), stats);
  // -I skips binary files, as the scanner does; -c makes grep read every file to the end.
  const floorSeconds = await timeShell(`LC_ALL=C grep -E -r -i -c -I '${keywordPattern.replaceAll("'", "'\\''")}' . > /dev/null`, root);
  rows.push({ corpus: name, megabytes: scanned.bytes / 1e6, holdfastSeconds: scanned.seconds, floorSeconds, findings: scanned.findings });
}

async function benchHistory(name: string, repo: string, rows: Row[]): Promise<void> {
  const stats = emptySourceStats();
  const scanned = await timeScan(gitHistoryUnits(repo, { maxUnitBytes: 5 * 1024 * 1024 }, stats), stats);
  const floorSeconds = await timeShell(`git log --all -p -U1 --no-color | LC_ALL=C grep -E -i -c '${keywordPattern.replaceAll("'", "'\\''")}' > /dev/null`, repo);
  rows.push({ corpus: name, megabytes: stats.bytes / 1e6, holdfastSeconds: scanned.seconds, floorSeconds, findings: scanned.findings });
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'holdfast-scan-bench-'));
  const rows: Row[] = [];
  try {
    const tree = join(work, 'tree');
    await generateTree(tree, TREE_MB);
    await benchTree(`generated tree (${TREE_MB} MiB)`, tree, rows);
    await benchTree('node_modules', join(findRoot(), 'node_modules'), rows);
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
  const header = '| corpus | MB | holdfast MB/s | grep -E keyword floor MB/s | holdfast / floor time | findings |';
  console.log(`${header}\n|---|--:|--:|--:|--:|--:|`);
  for (const row of rows) {
    console.log(`| ${row.corpus} | ${row.megabytes.toFixed(1)} | ${(row.megabytes / row.holdfastSeconds).toFixed(1)} | ${(row.megabytes / row.floorSeconds).toFixed(1)} | ${(row.holdfastSeconds / row.floorSeconds).toFixed(2)}× | ${row.findings} |`);
  }
  console.log('\nTarget (issue 7): within 3× of the floor on one core. The floor for git history includes `git log -p` itself.');
}

await main();
