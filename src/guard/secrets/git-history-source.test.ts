import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { ManualClock } from '../../infra/clock.js';
import { runScanCommand } from '../../cli/scan-command.js';
import { EXIT_OK, EXIT_PROBLEMS_FOUND, EXIT_USAGE } from '../../cli/exit-codes.js';
import { writeFiles } from '../../../test/support/dependency-fixtures.js';
import { tempDir } from '../../../test/support/file-tree.js';
import { plantedSecretsCorpus } from '../../../test/support/planted-secrets.js';
import { secretFingerprint } from './secret-finding.js';
import { requireTool, runCommand } from '../../../test/support/tools.js';
import { shellQuote } from './pre-commit-hook.js';
import { unquoteGitPath } from './git-history-source.js';

const NOW_MS = Date.UTC(2031, 5, 1);
/** git without the machine's global or system configuration (hooks paths, signing, pagers). */
const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };

async function git(repo: string, args: string[], options: { expectExitCode?: number | 'any'; env?: NodeJS.ProcessEnv } = {}) {
  return runCommand('git', ['-C', repo, ...args], { env: { ...gitEnv, ...options.env }, expectExitCode: options.expectExitCode ?? 0 });
}

async function newRepo(t: TestContext): Promise<string> {
  const repo = await tempDir(t, 'holdfast-scan-git-');
  await git(repo, ['init', '-q', '-b', 'main']);
  await git(repo, ['config', 'user.name', 'Repo Owner']);
  await git(repo, ['config', 'user.email', 'owner@example.org']);
  await git(repo, ['config', 'commit.gpgsign', 'false']);
  // Hooks stay inside this repository whatever the machine's global core.hooksPath says.
  await git(repo, ['config', 'core.hooksPath', '.git/hooks']);
  return repo;
}

async function scan(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runScanCommand(argv, { stdout: (text) => out.push(text), stderr: (text) => err.push(text), clock: new ManualClock(NOW_MS) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

interface JsonFinding {
  ruleId: string;
  redacted: string;
  location: { path: string; line: number; commit?: string; author?: string; date?: string };
}

test('--git finds a secret that a later commit deleted, at the commit that added it, with its author and date (non-ASCII decoded)', async (t) => {
  if (!(await requireTool(t, 'git', ['--version']))) return;
  const repo = await newRepo(t);
  await writeFile(join(repo, 'README.md'), '# demo\n');
  await git(repo, ['add', 'README.md']);
  await git(repo, ['commit', '-q', '-m', 'start']);

  const token = ['gh', 'p_', 'Wd3Fk9Lm2Nq8Rs4Tv6Xy1Za5Bc7De0Gh2Jk4'].join('');
  await mkdir(join(repo, 'deploy dir'));
  await writeFile(join(repo, 'deploy dir', 'ci é.env'), `RÉGION=eu\nclé — GH_TOKEN=${token}\n`);
  await git(repo, ['add', '.']);
  await git(repo, ['commit', '-q', '-m', 'add deploy settings'], {
    env: { GIT_AUTHOR_NAME: 'Dána Leak', GIT_AUTHOR_EMAIL: 'dana@example.org', GIT_AUTHOR_DATE: '2030-04-05T06:07:08+00:00' },
  });
  const leaking = (await git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
  await git(repo, ['rm', '-q', 'deploy dir/ci é.env']);
  await git(repo, ['commit', '-q', '-m', 'remove the token']);

  const tree = await scan(['secrets', repo, '--json']);
  assert.equal(tree.code, EXIT_OK, 'the working tree no longer holds it');

  const history = await scan(['secrets', '--git', repo, '--json']);
  assert.equal(history.code, EXIT_PROBLEMS_FOUND, history.stderr);
  const report = JSON.parse(history.stdout) as { mode: string; findings: JsonFinding[] };
  assert.equal(report.mode, 'git-history');
  assert.deepEqual(
    report.findings.map((finding) => ({ ruleId: finding.ruleId, ...finding.location })),
    [{ ruleId: 'github-token', path: 'deploy dir/ci é.env', line: 2, column: 16, commit: leaking, author: 'Dána Leak <dana@example.org>', date: '2030-04-05T06:07:08+00:00' }],
  );
  assert.ok(!history.stdout.includes(token));

  const table = await scan(['secrets', '--git', repo]);
  assert.match(table.stdout, new RegExp(`${leaking.slice(0, 12)}.*Dána Leak`));
  assert.match(table.stdout, /Configuration Management §4\.3: "GitHub secret scanning prevents accidental commit of credentials\."/);
});

test('the planted corpus in history only: --git finds every planted secret (split across lines and in base64 too) at the commit that added it, and no decoy', async (t) => {
  if (!(await requireTool(t, 'git', ['--version']))) return;
  const repo = await newRepo(t);
  const corpus = plantedSecretsCorpus();
  await writeFiles(repo, corpus.files);
  await git(repo, ['add', '.']);
  await git(repo, ['commit', '-q', '-m', 'add the corpus'], { env: { GIT_AUTHOR_NAME: 'Corpus Author', GIT_AUTHOR_EMAIL: 'corpus@example.org', GIT_AUTHOR_DATE: '2030-01-02T03:04:05+00:00' } });
  const adding = (await git(repo, ['rev-parse', 'HEAD'])).stdout.trim();
  await git(repo, ['rm', '-q', '-r', '.']);
  await git(repo, ['commit', '-q', '-m', 'delete everything']);
  assert.equal((await scan(['secrets', repo, '--json'])).code, EXIT_OK, 'the working tree holds nothing');

  const run = await scan(['secrets', '--git', repo, '--json']);
  assert.equal(run.code, EXIT_PROBLEMS_FOUND, run.stderr);
  const report = JSON.parse(run.stdout) as { findings: Array<JsonFinding & { fingerprint: string; encoding: string; policy: { section: string } }> };
  const found = report.findings.map((finding) => `${finding.location.path} ${finding.ruleId} ${finding.fingerprint} ${finding.encoding}`).sort();
  const planted = corpus.planted.map((item) => `${item.file} ${item.ruleId} ${secretFingerprint(item.ruleId, item.secret)} ${item.encoding}`).sort();
  assert.deepEqual(found, planted);
  for (const finding of report.findings) {
    assert.deepEqual([finding.location.commit, finding.location.author, finding.location.date, finding.policy.section], [adding, 'Corpus Author <corpus@example.org>', '2030-01-02T03:04:05+00:00', '4.3']);
  }
  for (const { secret } of corpus.planted) assert.ok(!run.stdout.includes(secret.slice(4, 16)));
});

test('--staged and the pre-commit hook refuse a commit that adds a secret, and let a clean one through', async (t) => {
  if (!(await requireTool(t, 'git', ['--version']))) return;
  const repo = await newRepo(t);
  await writeFile(join(repo, 'app.ts'), 'export const a = 1;\n');
  await git(repo, ['add', 'app.ts']);
  await git(repo, ['commit', '-q', '-m', 'start']);

  // The hook runs this very build of holdfast: compiled, or from source under tsx.
  const self = fileURLToPath(import.meta.url);
  const holdfast = self.endsWith('.ts')
    ? [process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../../cli/main.ts', import.meta.url))]
    : [process.execPath, fileURLToPath(new URL('../../cli/main.js', import.meta.url))];
  const installed = await scan(['install-hook', repo, '--hook-command', holdfast.map(shellQuote).join(' ')]);
  assert.equal(installed.code, EXIT_OK, installed.stderr);
  const hook = join(repo, '.git', 'hooks', 'pre-commit');
  assert.equal((await stat(hook)).mode & 0o111, 0o111);
  assert.match(await readFile(hook, 'utf8'), /scan secrets --staged\n/);

  const key = ['sk', '_live_', 'Qw3Er5Ty7Ui9Op1As3Df5Gh'].join('');
  await writeFile(join(repo, 'billing.ts'), `export const stripe = '${key}';\n`);
  await git(repo, ['add', 'billing.ts']);
  const direct = await scan(['secrets', '--staged', repo]);
  assert.equal(direct.code, EXIT_PROBLEMS_FOUND);
  assert.match(direct.stdout, /stripe-secret-key\s+billing\.ts:1:/);
  assert.match(direct.stderr, /commit refused/);

  const refused = await git(repo, ['commit', '-q', '-m', 'add billing'], { expectExitCode: 'any' });
  assert.notEqual(refused.code, 0, 'the hook must block the commit');
  assert.match(refused.stderr + refused.stdout, /commit refused/);
  assert.ok(!(refused.stdout + refused.stderr).includes(key));
  assert.equal((await git(repo, ['rev-list', '--count', 'HEAD'])).stdout.trim(), '1');

  await writeFile(join(repo, 'billing.ts'), 'export const stripe = process.env.STRIPE_KEY;\n');
  await git(repo, ['add', 'billing.ts']);
  await git(repo, ['commit', '-q', '-m', 'add billing']);
  assert.equal((await git(repo, ['rev-list', '--count', 'HEAD'])).stdout.trim(), '2');

  // A hook holdfast did not write is kept unless --force.
  await writeFile(hook, '#!/bin/sh\nexec other-tool\n');
  const foreign = await scan(['install-hook', repo]);
  assert.equal(foreign.code, EXIT_USAGE);
  assert.match(foreign.stderr, /was not written by holdfast.*--force/);
  assert.equal(await readFile(hook, 'utf8'), '#!/bin/sh\nexec other-tool\n');
});

test('--git and --staged outside a repository are usage errors naming the fix', async (t) => {
  if (!(await requireTool(t, 'git', ['--version']))) return;
  const dir = await tempDir(t, 'holdfast-scan-nogit-');
  const run = await scan(['secrets', '--git', dir]);
  assert.equal(run.code, EXIT_USAGE);
  assert.match(run.stderr, /is not inside a git repository, which --git needs/);
});

test("git's quoted path names are decoded", () => {
  assert.equal(unquoteGitPath('"b/caf\\303\\251 \\"x\\".txt"'), 'b/café "x".txt');
  assert.equal(unquoteGitPath('b/plain.txt'), 'b/plain.txt');
});
