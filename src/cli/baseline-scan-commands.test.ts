import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { badImage, dockerSaveTarball, generatedSecrets, goodImage, writeOciLayout } from '../../test/support/image-fixtures.js';
import { rulesFor } from '../guard/baseline/baseline-rules.js';
import { ManualClock } from '../infra/clock.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS_FOUND, EXIT_USAGE } from './exit-codes.js';
import { runScanCommand } from './scan-command.js';

let scratch: string;
let bad: string;
let good: string;
const secrets = generatedSecrets();
const DIGEST = `sha256:${'ab'.repeat(32)}`;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'holdfast-baseline-cli-'));
  bad = join(scratch, 'bad.tar');
  await writeFile(bad, dockerSaveTarball(badImage(secrets)));
  good = await writeOciLayout(join(scratch, 'good-oci'), goodImage());
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function scan(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runScanCommand(argv, { stdout: (text) => out.push(text), stderr: (text) => err.push(text), clock: new ManualClock(Date.UTC(2031, 0, 1)) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

interface JsonReport {
  tool: string;
  failOn: string;
  summary: { findings: number; blocking: number };
  facts: Record<string, unknown>;
  findings: Array<{ ruleId: string; severity: string; evidence: string; fix: string; policy: { section: string; statement: string }; location: { path: string; line?: number; within?: string }; fingerprint: string }>;
}

interface SarifLog {
  version: string;
  runs: Array<{ tool: { driver: { name: string; rules: Array<{ id: string }> } }; results: Array<{ ruleId: string; ruleIndex: number; level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } }; logicalLocations?: Array<{ fullyQualifiedName: string }> }>; partialFingerprints: Record<string, string> }> }>;
}

describe('holdfast scan image', () => {
  test('usage errors exit 2 and name the fix', async () => {
    const cases: ReadonlyArray<readonly [string[], RegExp]> = [
      [['image'], /needs the image: a docker save tarball \(docker save -o app.tar IMAGE\)/],
      [['image', join(scratch, 'missing.tar')], /does not exist; pass a docker save tarball/],
      [['image', bad, '--fail-on', 'severe'], /--fail-on takes one of low, medium, high, critical, not "severe"/],
      [['image', bad, '--format', 'xml'], /--format takes table, json or sarif/],
      [['image', bad, '--max-packages', '0'], /--max-packages takes a positive number/],
      [['image', bad, '--max-file-size', 'big'], /--max-file-size takes a positive number of bytes, with an optional K or M suffix/],
      [['image', bad, '--bogus'], /Unknown option '--bogus'/],
      [['image', bad, good], /takes one image/],
    ];
    for (const [argv, message] of cases) {
      const result = await scan(argv);
      assert.equal(result.code, EXIT_USAGE, argv.join(' '));
      assert.match(result.stderr, message);
      assert.match(result.stderr, /Usage:\n {2}holdfast scan image/);
    }
  });

  test('the bad image: table with fixes and policy lines, exit 4; the good one exits 0', async () => {
    const table = await scan(['image', bad]);
    assert.equal(table.code, EXIT_PROBLEMS_FOUND);
    assert.match(table.stdout, /^SEVERITY +RULE +WHERE +EVIDENCE/);
    assert.match(table.stdout, /high +image-ssh-server +bad\.tar \/usr\/sbin\/sshd +OpenSSH server/);
    assert.match(table.stdout, /How to fix:\n {2}image-/);
    assert.match(table.stdout, /Configuration Management §5: "Non-essential services, ports, and packages are not included in container images\." — /);
    assert.match(table.stdout, /Configuration Management §5: "Default credentials are never used; all authentication is through SSO\/MFA or scoped API keys\." — image-default-credential/);
    for (const secret of Object.values(secrets)) assert.ok(!table.stdout.includes(secret));
    const clean = await scan(['image', good]);
    assert.equal(clean.code, EXIT_OK, clean.stdout);
    assert.match(clean.stdout, /^0 finding\(s\), 0 at or above high/m);
    assert.match(clean.stdout, /distribution: Distroless/);
  });

  test('--json: findings with rule, severity, evidence, fix, policy, location and fingerprint; stable across runs and forms', async () => {
    const first = JSON.parse((await scan(['image', bad, '--json'])).stdout) as JsonReport;
    assert.equal(first.tool, 'holdfast scan image');
    assert.ok(first.summary.findings >= 13 && first.summary.blocking > 0);
    for (const finding of first.findings) {
      assert.match(finding.ruleId, /^image-[a-z-]+$/);
      assert.ok(finding.evidence !== '' && finding.fix !== '' && finding.policy.statement !== '');
      assert.equal(finding.location.path, 'bad.tar');
      assert.match(finding.fingerprint, /^[0-9a-f]{32}$/);
    }
    const again = JSON.parse((await scan(['image', bad, '--json'])).stdout) as JsonReport;
    assert.deepEqual(again.findings.map((finding) => finding.fingerprint), first.findings.map((finding) => finding.fingerprint));
  });

  test('SARIF 2.1.0: every image rule, results with logical locations and fingerprints; --fail-on critical still exits 4 for a critical secret', async () => {
    const sarifFile = join(scratch, 'image.sarif');
    const result = await scan(['image', bad, '--format', 'sarif', '--sarif', sarifFile, '--fail-on', 'critical']);
    assert.equal(result.code, EXIT_PROBLEMS_FOUND);
    const log = JSON.parse(result.stdout) as SarifLog;
    assert.equal(log.version, '2.1.0');
    assert.equal(await readFile(sarifFile, 'utf8'), result.stdout);
    const run = log.runs[0]!;
    assert.equal(run.tool.driver.name, 'holdfast-image-scan');
    assert.deepEqual(run.tool.driver.rules.map((rule) => rule.id), rulesFor('image').map((rule) => rule.id));
    for (const sarifResult of run.results) {
      assert.equal(run.tool.driver.rules[sarifResult.ruleIndex]!.id, sarifResult.ruleId);
      assert.equal(sarifResult.locations[0]!.physicalLocation.artifactLocation.uri, 'bad.tar');
      assert.ok(sarifResult.locations[0]!.logicalLocations![0]!.fullyQualifiedName !== '');
      assert.match(sarifResult.partialFingerprints['holdfastBaselineFingerprint/v1']!, /^[0-9a-f]{32}$/);
    }
  });

  test('an unreadable image exits 1; a zstd layer makes a clean image incomplete, exit 1', async () => {
    const junk = join(scratch, 'junk.tar');
    await writeFile(junk, Buffer.alloc(1024, 7));
    const broken = await scan(['image', junk]);
    assert.equal(broken.code, EXIT_FAILURE);
    assert.match(broken.stderr, /checksum does not match|not a tar/);
    const spec = goodImage();
    const zstd = await writeOciLayout(join(scratch, 'zstd-oci'), { ...spec, layers: [...spec.layers, { zstd: true, entries: [] }] });
    const result = await scan(['image', zstd, '--json']);
    assert.equal(result.code, EXIT_FAILURE);
    assert.match(result.stderr, /zstd layer not readable/);
    assert.match(result.stderr, /could not be read, so the result is incomplete/);
  });
});

describe('holdfast scan dockerfile and scan manifests', () => {
  test('dockerfile: findings at their lines, exit 4; a clean one exits 0; usage errors name the fix', async () => {
    const dir = await mkdtemp(join(scratch, 'df-'));
    await writeFile(join(dir, 'Dockerfile'), `FROM node:20\nRUN apt-get install -y curl\nEXPOSE 22\n`);
    await writeFile(join(dir, 'clean.Dockerfile'), `FROM node:20-slim@${DIGEST}\nUSER 10001\n`);
    const result = await scan(['dockerfile', dir, '--json']);
    assert.equal(result.code, EXIT_PROBLEMS_FOUND);
    const report = JSON.parse(result.stdout) as JsonReport;
    assert.deepEqual(report.findings.map((finding) => `${finding.ruleId} ${finding.location.path}:${finding.location.line}`).sort(), ['dockerfile-apt-recommends Dockerfile:2', 'dockerfile-base-unpinned Dockerfile:1', 'dockerfile-expose-admin-port Dockerfile:3', 'dockerfile-user-root Dockerfile:1']);
    assert.equal((await scan(['dockerfile', join(dir, 'clean.Dockerfile')])).code, EXIT_OK);
    const sarif = JSON.parse((await scan(['dockerfile', dir, '--format', 'sarif'])).stdout) as SarifLog;
    assert.deepEqual(sarif.runs[0]!.results.map((entry) => entry.locations[0]!.physicalLocation.region?.startLine).sort(), [1, 1, 2, 3]);
    const usage = await scan(['dockerfile', dir, '--build-arg', 'NOEQUALS']);
    assert.equal(usage.code, EXIT_USAGE);
    assert.match(usage.stderr, /--build-arg takes NAME=VALUE/);
    const empty = await mkdtemp(join(scratch, 'empty-'));
    const none = await scan(['dockerfile', empty]);
    assert.equal(none.code, EXIT_USAGE);
    assert.match(none.stderr, /found no Dockerfile under .*; pass the file itself/);
  });

  test('manifests: a pod without a securityContext exits 4 with --fail-on medium, 0 at the default high; unparseable YAML is reported, and fails only with --strict', async () => {
    const dir = await mkdtemp(join(scratch, 'k8s-'));
    await writeFile(join(dir, 'pod.yaml'), `apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n`);
    const result = await scan(['manifests', dir, '--json', '--fail-on', 'medium']);
    assert.equal(result.code, EXIT_PROBLEMS_FOUND);
    const report = JSON.parse(result.stdout) as JsonReport;
    assert.deepEqual([...new Set(report.findings.map((finding) => finding.ruleId))].sort(), ['k8s-privilege-escalation', 'k8s-run-as-non-root-missing', 'k8s-writable-root-filesystem', 'manifest-image-unpinned']);
    assert.equal(report.findings.find((finding) => finding.ruleId === 'manifest-image-unpinned')!.location.line, 7);
    assert.equal((await scan(['manifests', dir])).code, EXIT_OK);
    await writeFile(join(dir, 'chart.yaml'), 'name: {{ .Values.name }\n');
    const lenient = await scan(['manifests', dir, '--fail-on', 'critical']);
    assert.equal(lenient.code, EXIT_OK);
    assert.match(lenient.stdout, /Not read \(the result is incomplete\):\n {2}chart\.yaml: /);
    assert.equal((await scan(['manifests', dir, '--fail-on', 'critical', '--strict'])).code, EXIT_FAILURE);
    const empty = await mkdtemp(join(scratch, 'no-yaml-'));
    const none = await scan(['manifests', empty]);
    assert.equal(none.code, EXIT_USAGE);
    assert.match(none.stderr, /found no \.yaml or \.yml file/);
  });

  test('manifests: a compose file through the CLI — privileged, root user, writable root, latest, SSH port, default password — each with its line and policy; the fixed file exits 0', async () => {
    const dir = await mkdtemp(join(scratch, 'compose-'));
    const bad = ['services:', '  db:', '    image: postgres', '    privileged: true', '    user: root', '    ports: ["2222:22"]', '    environment:', '      POSTGRES_PASSWORD: postgres', ''].join('\n');
    await writeFile(join(dir, 'docker-compose.yml'), bad);
    const result = await scan(['manifests', dir, '--json', '--fail-on', 'medium']);
    assert.equal(result.code, EXIT_PROBLEMS_FOUND);
    const report = JSON.parse(result.stdout) as JsonReport;
    assert.deepEqual(report.findings.map((finding) => `${finding.ruleId} ${finding.location.line} §${finding.policy.section}`).sort(), [
      'compose-privileged 4 §3',
      'compose-runs-as-root 5 §3',
      'compose-writable-root-filesystem 3 §3',
      'manifest-admin-port 6 §3',
      'manifest-default-credential 8 §5',
      'manifest-image-latest 3 §3',
    ]);
    await writeFile(join(dir, 'docker-compose.yml'), ['services:', '  db:', `    image: postgres:16@${DIGEST}`, '    user: "999:999"', '    read_only: true', '    environment:', '      POSTGRES_PASSWORD_FILE: /run/secrets/db', ''].join('\n'));
    const fixed = await scan(['manifests', dir, '--fail-on', 'low']);
    assert.equal(fixed.code, EXIT_OK, fixed.stdout);
  });

  test('scan help lists the new scanners; an unknown one names them', async () => {
    const help = await scan(['--help']);
    assert.match(help.stdout, /holdfast scan image IMAGE/);
    assert.match(help.stdout, /holdfast scan manifests/);
    assert.match((await scan(['images'])).stderr, /the scanners are: secrets, deps, image, dockerfile, manifests, install-hook/);
  });
});
