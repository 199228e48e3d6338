import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ManualClock } from '../infra/clock.js';
import { plantedSecretsCorpus, type SecretCorpus } from '../../test/support/planted-secrets.js';
import { tempDir } from '../../test/support/file-tree.js';
import { repoRoot } from '../../test/support/repo-root.js';
import { secretFingerprint } from '../guard/secrets/secret-finding.js';
import { loadSecretRules } from '../guard/secrets/secret-rules.js';
import { EXIT_OK, EXIT_PROBLEMS_FOUND, EXIT_USAGE } from './exit-codes.js';
import { runScanCommand } from './scan-command.js';

const NOW_MS = Date.UTC(2031, 5, 1, 9);
const DAY_MS = 24 * 3600 * 1000;
/** Findings in this project's own node_modules, measured 2026-11-26: 10 (8 generic, 2 private keys). */
const NODE_MODULES_BOUND = 25;

async function scan(argv: string[], nowMs = NOW_MS) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runScanCommand(argv, { stdout: (text) => out.push(text), stderr: (text) => err.push(text), clock: new ManualClock(nowMs) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function writeTree(root: string, files: ReadonlyMap<string, string | Buffer>): Promise<void> {
  for (const [path, content] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

interface JsonReport {
  summary: { findings: number; suppressed: number; blocking: number; scanned: { units: number }; skipped: { binary: number; overSizeCap: number; directories: string[] } };
  findings: Array<{ ruleId: string; fingerprint: string; redacted: string; encoding: string; location: { path: string }; policy: { section: string; statement: string }; suppression?: { status: string }; note?: string }>;
}

async function corpusTree(t: TestContext): Promise<{ root: string; corpus: SecretCorpus }> {
  const root = await tempDir(t, 'holdfast-scan-corpus-');
  const corpus = plantedSecretsCorpus();
  await writeTree(root, corpus.files);
  return { root, corpus };
}

test('scan secrets over the planted corpus: every secret by rule, file and fingerprint; no decoy; exit 4', async (t) => {
  const { root, corpus } = await corpusTree(t);
  const run = await scan(['secrets', root, '--json']);
  assert.equal(run.code, EXIT_PROBLEMS_FOUND, run.stderr);
  const report = JSON.parse(run.stdout) as JsonReport;
  const found = report.findings.map((finding) => `${finding.location.path} ${finding.ruleId} ${finding.fingerprint} ${finding.encoding}`).sort();
  const planted = corpus.planted.map((item) => `${item.file} ${item.ruleId} ${secretFingerprint(item.ruleId, item.secret)} ${item.encoding}`).sort();
  assert.deepEqual(found, planted);
  assert.equal(report.summary.scanned.units, corpus.files.size);
  for (const finding of report.findings) {
    assert.equal(finding.policy.section, '4.1');
    assert.equal(finding.policy.statement, "Secrets and credentials are stored in Render's encrypted environment variable system, not in source code.");
  }
});

test('--threads N reports what one thread reports: the same findings in the same order, the same files scanned and skipped', async (t) => {
  const { root } = await corpusTree(t);
  await writeFile(join(root, 'image.bin'), Buffer.from([1, 0, 2]));
  const one = JSON.parse((await scan(['secrets', root, '--json'])).stdout) as JsonReport;
  const three = await scan(['secrets', root, '--json', '--threads', '3']);
  assert.equal(three.code, EXIT_PROBLEMS_FOUND, three.stderr);
  const report = JSON.parse(three.stdout) as JsonReport;
  assert.deepEqual(report.findings, one.findings);
  assert.deepEqual([report.summary.scanned, report.summary.skipped], [one.summary.scanned, one.summary.skipped]);
  assert.equal(one.summary.skipped.binary, 1);
});

test('a team rule written in another script is matched on decoded text', async (t) => {
  const root = await tempDir(t, 'holdfast-scan-cyrillic-');
  const rules = join(root, 'rules.json');
  await writeFile(rules, JSON.stringify({ version: 1, extends: 'none', rules: [{ id: 'ru-password', title: 'Пароль', severity: 'high', keywords: ['пароль'], pattern: 'пароль\\s*=\\s*(\\S{12,})', fix: 'Уберите его.' }] }));
  const value = ['Zq4Rt7', 'Yu1Io3', 'Pa5Sd8'].join('');
  await writeFile(join(root, 'настройки.env'), `# конфигурация\nпароль = ${value}\n`);
  const run = await scan(['secrets', root, '--rules', rules, '--json']);
  assert.equal(run.code, EXIT_PROBLEMS_FOUND, run.stderr);
  const report = JSON.parse(run.stdout) as { findings: Array<{ ruleId: string; fingerprint: string; location: { path: string; line: number; column: number } }> };
  assert.deepEqual(
    report.findings.map((finding) => [finding.ruleId, finding.fingerprint, finding.location.path, finding.location.line, finding.location.column]),
    [['ru-password', secretFingerprint('ru-password', value), 'настройки.env', 2, 10]],
  );
});

test('no secret reaches stdout, stderr, JSON, SARIF or a baseline beyond its first four characters', async (t) => {
  const { root, corpus } = await corpusTree(t);
  const out = await tempDir(t, 'holdfast-scan-out-');
  const outputs: string[] = [];
  for (const argv of [['--json'], ['--format', 'sarif'], [], ['--sarif', join(out, 'scan.sarif')], ['--write-baseline', join(out, 'baseline.json')]]) {
    const run = await scan(['secrets', root, ...argv]);
    outputs.push(run.stdout, run.stderr);
  }
  outputs.push(await readFile(join(out, 'scan.sarif'), 'utf8'), await readFile(join(out, 'baseline.json'), 'utf8'));
  const everything = outputs.join('\n');
  for (const { secret, ruleId } of corpus.planted) {
    assert.ok(!everything.includes(secret), `${ruleId}: the whole secret was printed`);
    assert.ok(!everything.includes(secret.slice(4, 16)), `${ruleId}: more than the prefix was printed`);
  }
});

test('SARIF 2.1.0: every rule with a stable id, results pointing at them, fingerprints, suppressions', async (t) => {
  const { root, corpus } = await corpusTree(t);
  await writeFile(join(root, 'github', 'oauth.txt'), `# holdfast:allow-secret reason="test fixture" owner=qa expires=2031-12-31\n${corpus.files.get('github/oauth.txt')}`);
  const run = await scan(['secrets', root, '--format', 'sarif']);
  assert.equal(run.code, EXIT_PROBLEMS_FOUND);
  const sarif = JSON.parse(run.stdout) as {
    version: string;
    runs: Array<{
      tool: { driver: { rules: Array<{ id: string; properties: { 'security-severity': string } }> } };
      originalUriBaseIds: { SRCROOT: { uri: string } };
      results: Array<{ ruleId: string; ruleIndex: number; level: string; partialFingerprints: Record<string, string>; locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId: string }; region: { startLine: number } } }>; suppressions?: Array<{ kind: string; status: string }> }>;
    }>;
  };
  assert.equal(sarif.version, '2.1.0');
  const [sarifRun] = sarif.runs;
  assert.deepEqual(sarifRun!.tool.driver.rules.map((rule) => rule.id), loadSecretRules().rules.map((rule) => rule.id));
  assert.ok(sarifRun!.originalUriBaseIds.SRCROOT.uri.startsWith('file:///'));
  assert.equal(sarifRun!.results.length, corpus.planted.length);
  for (const result of sarifRun!.results) {
    assert.equal(sarifRun!.tool.driver.rules[result.ruleIndex]!.id, result.ruleId);
    assert.match(result.partialFingerprints['holdfastSecretFingerprint/v1'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal(result.locations[0]!.physicalLocation.artifactLocation.uriBaseId, 'SRCROOT');
  }
  const suppressed = sarifRun!.results.filter((result) => result.suppressions !== undefined);
  assert.deepEqual(suppressed.map((result) => [result.locations[0]!.physicalLocation.artifactLocation.uri, result.suppressions]), [['github/oauth.txt', [{ kind: 'inSource', status: 'accepted', justification: 'test fixture (owner qa, expires 2031-12-31)' }]]]);
});

test('the table shows severity, rule, place, redacted secret and the fix, and quotes the policy', async (t) => {
  const root = await tempDir(t, 'holdfast-scan-table-');
  const key = ['sk', '_live_', 'Hy7Gt5Fr3De1Sw9Aq8Zx6Cv4'].join('');
  await writeFile(join(root, 'pay.rb'), `Stripe.api_key = '${key}'\n`);
  const run = await scan(['secrets', root]);
  assert.equal(run.code, EXIT_PROBLEMS_FOUND);
  assert.match(run.stdout, /critical\s+stripe-secret-key\s+pay\.rb:1:19\s+sk_l…\s+[0-9a-f]{12}\s+open/);
  assert.match(run.stdout, /stripe-secret-key: Roll the key in the Stripe dashboard/);
  assert.match(run.stdout, /Policy: Configuration Management §4\.1: "Secrets and credentials are stored in Render's encrypted environment variable system, not in source code\."/);
  assert.match(run.stdout, /1 open finding\(s\) \(1 critical\), 0 suppressed, 1 at or above high; scanned 1 files/);
});

test('--fail-on decides the exit code; a clean tree exits 0', async (t) => {
  const root = await tempDir(t, 'holdfast-scan-failon-');
  await writeFile(join(root, 'test.env'), `STRIPE_KEY=${['sk', '_test_', 'Lk9Jh7Gf5Ds3Aq1Wz8Xc6Vb4'].join('')}\n`);
  assert.equal((await scan(['secrets', root])).code, EXIT_OK, 'a medium finding is below the default high');
  assert.equal((await scan(['secrets', root, '--fail-on', 'medium'])).code, EXIT_PROBLEMS_FOUND);
  const clean = await tempDir(t, 'holdfast-scan-clean-');
  await writeFile(join(clean, 'app.ts'), 'export const password = process.env.PASSWORD;\n');
  const run = await scan(['secrets', clean, '--fail-on', 'low']);
  assert.equal(run.code, EXIT_OK);
  assert.match(run.stdout, /^0 open finding\(s\), 0 suppressed/);
});

test('binary files, files over the size cap, node_modules and .git are skipped and counted; --all-files includes the directories', async (t) => {
  const root = await tempDir(t, 'holdfast-scan-skip-');
  const token = (n: number) => 'gh' + 'p_' + `Rt5Yu7Io9Pa1Sd3Fg5Hj7Kl9Zx1Cv3Bn5Mq${n}`;
  await writeTree(root, new Map<string, string | Buffer>([
    ['image.bin', Buffer.concat([Buffer.from([0x89, 0x50, 0x00, 0x01]), Buffer.from(token(1))])],
    ['big.txt', `${'x'.repeat(4096)}\n${token(2)}\n`],
    ['node_modules/pkg/index.js', `module.exports = '${token(3)}';\n`],
    ['.git/config', `[credential]\n  helper = store ${token(4)}\n`],
  ]));
  const skipped = JSON.parse((await scan(['secrets', root, '--json', '--max-file-size', '1K'])).stdout) as JsonReport;
  assert.equal(skipped.summary.findings, 0);
  assert.equal(skipped.summary.skipped.binary, 1);
  assert.equal(skipped.summary.skipped.overSizeCap, 1);
  assert.deepEqual(skipped.summary.skipped.directories, ['.git', 'node_modules']);
  const all = JSON.parse((await scan(['secrets', root, '--json', '--all-files'])).stdout) as JsonReport;
  assert.deepEqual(all.findings.map((finding) => finding.location.path).sort(), ['.git/config', 'big.txt', 'node_modules/pkg/index.js']);
});

test('--write-baseline accepts what is there until its expiry; then the findings return with a note', async (t) => {
  const { root, corpus } = await corpusTree(t);
  const baseline = join(await tempDir(t, 'holdfast-scan-baseline-'), 'baseline.json');
  const written = await scan(['secrets', root, '--write-baseline', baseline, '--owner', 'platform', '--reason', 'rotation tracked in SEC-7', '--expires', '2031-06-30']);
  assert.equal(written.code, EXIT_OK, written.stderr);
  const file = JSON.parse(await readFile(baseline, 'utf8')) as { suppressions: Array<{ owner: string; expires: string }> };
  assert.equal(file.suppressions.length, new Set(corpus.planted.map((item) => `${item.ruleId} ${item.secret}`)).size);
  assert.ok(file.suppressions.every((entry) => entry.owner === 'platform' && entry.expires === '2031-06-30'));

  const within = JSON.parse((await scan(['secrets', root, '--baseline', baseline, '--json'])).stdout) as JsonReport;
  assert.equal(within.summary.findings, 0);
  assert.equal(within.summary.suppressed, corpus.planted.length);
  const later = await scan(['secrets', root, '--baseline', baseline, '--json'], Date.UTC(2031, 6, 1));
  assert.equal(later.code, EXIT_PROBLEMS_FOUND);
  const lapsed = JSON.parse(later.stdout) as JsonReport;
  assert.equal(lapsed.summary.suppressed, 0);
  assert.ok(lapsed.findings.every((finding) => finding.suppression?.status === 'expired' && /expired on 2031-06-30/.test(finding.note ?? '')));

  const defaults = await scan(['secrets', root, '--write-baseline', baseline]);
  assert.match(defaults.stderr, new RegExp(`accepted until ${new Date(NOW_MS + 90 * DAY_MS).toISOString().slice(0, 10)}`));
});

test('an inline marker through the CLI: exit 0 while it holds, exit 4 with its note the day after it expires; one without an owner holds nothing', async (t) => {
  const root = await tempDir(t, 'holdfast-scan-inline-');
  const token = ['gh', 'p_', 'Mn4Bv6Cx8Za1Sd3Fg5Hj7Kl9Qw2Er4Ty6Ui8'].join('');
  await writeFile(join(root, 'ci.env'), `# holdfast:allow-secret reason="revoked, kept for the incident report" owner=sec-team expires=2031-06-30\nGH_TOKEN=${token}\n`);
  const within = await scan(['secrets', root]);
  assert.equal(within.code, EXIT_OK, within.stdout);
  assert.match(within.stdout, /0 open finding\(s\), 1 suppressed/);
  const after = await scan(['secrets', root], Date.UTC(2031, 6, 1));
  assert.equal(after.code, EXIT_PROBLEMS_FOUND);
  assert.match(after.stdout, /github-token\s+ci\.env:2:/);
  assert.match(after.stdout, /suppression expired on 2031-06-30 \(owner sec-team; reason: revoked, kept for the incident report\)/);
  await writeFile(join(root, 'ci.env'), `GH_TOKEN=${token} # holdfast:allow-secret reason="later" expires=2031-12-31\n`);
  const ownerless = await scan(['secrets', root]);
  assert.equal(ownerless.code, EXIT_PROBLEMS_FOUND);
  assert.match(ownerless.stdout, /it lacks owner/);
});

test('usage errors exit 2 and name the problem and the fix', async (t) => {
  const dir = await tempDir(t, 'holdfast-scan-usage-');
  const rules = join(dir, 'rules.json');
  await writeFile(rules, JSON.stringify({ version: 1, rules: [{ id: 'x', title: 'X', severity: 'severe', keywords: ['x'], pattern: 'x', fix: 'f' }] }));
  const cases: Array<[string[], RegExp]> = [
    [['secrets', join(dir, 'missing')], /missing does not exist; pass the directory, file or repository to scan/],
    [['secrets', dir, '--fail-on', 'urgent'], /--fail-on takes one of low, medium, high, critical, not "urgent"/],
    [['secrets', dir, '--git', '--staged'], /--git and --staged exclude each other/],
    [['secrets', dir, '--format', 'xml'], /--format takes table, json or sarif/],
    [['secrets', dir, '--rules', rules], /rule "x": "severity" must be one of/],
    [['secrets', dir, '--rules', join(dir, 'nope.json')], /--rules .*nope\.json: cannot read it \(ENOENT\)/],
    [['secrets', dir, '--max-file-size', 'lots'], /--max-file-size takes a number of bytes/],
    [['secrets', dir, '--owner', 'me'], /--owner is for --write-baseline FILE/],
    [['secrets', dir, '--write-baseline', join(dir, 'b.json'), '--expires', '2031-02-30'], /--expires takes a date YYYY-MM-DD/],
    [['secrets', dir, '--bogus'], /Unknown option '--bogus'/],
    [['secrets', dir, '--threads', '0'], /--threads takes a whole number from 1 to 256, not "0"/],
    [['secrets', dir, '--threads', 'all'], /--threads takes a whole number from 1 to 256, not "all"/],
    [['secrets', dir, '--git', '--threads', '2'], /--threads applies to working-tree scans only/],
    [['detect'], /unknown scanner "detect"/],
  ];
  for (const [argv, message] of cases) {
    const run = await scan(argv);
    assert.equal(run.code, EXIT_USAGE, `${argv.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
});

test('--list-rules prints the rule set in the rule-file format, which loads back unchanged', async () => {
  const run = await scan(['secrets', '--list-rules']);
  assert.equal(run.code, EXIT_OK);
  const listed = JSON.parse(run.stdout) as { rules: Array<{ id: string }> };
  const reloaded = loadSecretRules({ ...listed, extends: 'none' }, 'listed rules');
  assert.deepEqual(reloaded.rules.map((rule) => rule.id), loadSecretRules().rules.map((rule) => rule.id));
});

test("clean-corpus bound: this project's own node_modules gives few findings", { timeout: 300_000 }, async (t) => {
  const run = await scan(['secrets', join(repoRoot, 'node_modules'), '--all-files', '--json']);
  const report = JSON.parse(run.stdout) as JsonReport;
  const byRule = new Map<string, number>();
  for (const finding of report.findings) byRule.set(finding.ruleId, (byRule.get(finding.ruleId) ?? 0) + 1);
  t.diagnostic(`node_modules: ${report.findings.length} findings in ${report.summary.scanned.units} files (${[...byRule].map(([rule, count]) => `${rule} ${count}`).join(', ')})`);
  console.log(`clean-corpus bound: ${report.findings.length} findings in node_modules (bound ${NODE_MODULES_BOUND})`);
  assert.ok(report.summary.scanned.units > 1000, 'node_modules must actually be scanned');
  assert.ok(report.findings.length < NODE_MODULES_BOUND, `${report.findings.length} findings in node_modules; the bound is ${NODE_MODULES_BOUND}`);
});
