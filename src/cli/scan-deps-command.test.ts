import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ManualClock } from '../infra/clock.js';
import { EXPECTED_FINDINGS, FIXTURE_NOW_MS, MANIFEST_TREE, writeFiles, writeOsvExports } from '../../test/support/dependency-fixtures.js';
import { tempDir } from '../../test/support/file-tree.js';
import { dockerSaveTarball, writeOciLayout, type ImageSpec } from '../../test/support/image-fixtures.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS_FOUND, EXIT_USAGE } from './exit-codes.js';
import { runScanCommand } from './scan-command.js';
import { runVulndbCommand } from './vulndb-command.js';

const DAY_MS = 24 * 3600 * 1000;

function io(nowMs: number, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (text: string) => out.push(text), stderr: (text: string) => err.push(text), clock: new ManualClock(nowMs), env }, out, err };
}

async function scan(argv: string[], nowMs = FIXTURE_NOW_MS) {
  const { io: scanIo, out, err } = io(nowMs);
  const code = await runScanCommand(['deps', ...argv], scanIo);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function vulndb(argv: string[], nowMs = FIXTURE_NOW_MS, env: NodeJS.ProcessEnv = {}) {
  const { io: dbIo, out, err } = io(nowMs, env);
  const code = await runVulndbCommand(argv, dbIo);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

interface JsonFinding {
  vulnerabilityId: string;
  aliases: string[];
  severity: string;
  severityDetail: { source: string; label?: string; cvss?: { vector: string; score?: number } };
  ecosystem: string;
  package: string;
  version: string;
  file: string;
  line: number;
  paths: string[];
  dev?: boolean;
  fixedVersion?: string;
  lastAffected?: string;
  fix: string;
  fingerprint: string;
  policy: { section: string; statement: string };
}

interface JsonReport {
  summary: { findings: number; blocking: number; packages: number; packagesChecked: number; manifests: number };
  warnings: Array<{ kind: string; ecosystem?: string; message: string }>;
  database: { ecosystems: Array<{ ecosystem: string; ageDays: number; stale: boolean }> };
  findings: JsonFinding[];
}

async function fixture(t: TestContext): Promise<{ tree: string; db: string }> {
  const dir = await tempDir(t, 'holdfast-deps-');
  const exports = await writeOsvExports(join(dir, 'osv'));
  const db = join(dir, 'db', 'vulndb.sqlite');
  const imported = await vulndb(['import', exports.npmZip, exports.debianDir, exports.otherZip, '--db', db]);
  assert.equal(imported.code, EXIT_OK, imported.stderr);
  const tree = join(dir, 'tree');
  await writeFiles(tree, MANIFEST_TREE);
  return { tree, db };
}

test('scan deps over lockfiles v1 and v3, a dpkg database, go.mod, Cargo.lock, poetry.lock and requirements.txt: exactly the known findings', async (t) => {
  const { tree, db } = await fixture(t);
  const run = await scan([tree, '--db', db, '--json']);
  assert.equal(run.code, EXIT_PROBLEMS_FOUND, run.stderr);
  const report = JSON.parse(run.stdout) as JsonReport;
  assert.deepEqual(report.findings.map((finding) => `${finding.file} ${finding.package} ${finding.version} ${finding.vulnerabilityId}`).sort(), EXPECTED_FINDINGS);
  assert.deepEqual(report.warnings.filter((warning) => warning.kind !== 'not-checked'), []);
  assert.equal(report.summary.manifests, 7, 'node_modules was not entered');
  const byId = new Map(report.findings.map((finding) => [`${finding.file} ${finding.vulnerabilityId}`, finding]));

  assert.equal(byId.get('py/requirements.txt PYSEC-2031-0002')?.fix, 'upgrade pyyaml to 5.4 (pin pyyaml==5.4, or poetry add pyyaml@5.4)');
  assert.equal(byId.get('py/requirements.txt PYSEC-2031-0003')?.line, 5, 'the line of the requirement, after a continued one');
  const notChecked = report.warnings.filter((warning) => warning.kind === 'not-checked').map((warning) => warning.message);
  assert.ok(notChecked.includes('py/poetry.lock: 1 package(s) from git, a path, a URL or another index not checked'), notChecked.join('\n'));
  assert.ok(notChecked.includes('py/requirements.txt: 2 line(s) not pinned with == (ranges, URLs, editable installs, -r/-c and other options) not checked'), notChecked.join('\n'));

  const lodash = byId.get('app/package-lock.json GHSA-np01-lodash')!;
  assert.equal(lodash.fix, 'upgrade lodash to 4.17.21');
  assert.equal(lodash.fixedVersion, '4.17.21');
  assert.deepEqual(lodash.aliases, ['CVE-2031-0001']);
  assert.deepEqual(lodash.paths, ['node_modules/lodash', 'node_modules/tool/node_modules/lodash']);
  assert.equal(lodash.severity, 'high');
  assert.deepEqual(lodash.policy, { policy: 'Configuration Management', section: '4.3', statement: 'Dependencies are tracked and scanned for known vulnerabilities as part of the SDLC.' });
  const lockText = MANIFEST_TREE.get('app/package-lock.json')!.split('\n');
  assert.match(lockText[lodash.line - 1]!, /"node_modules\/lodash": \{/, 'the line points at the entry');

  assert.equal(byId.get('app/package-lock.json GHSA-np02-minimist')!.dev, true);
  assert.equal(byId.get('app/package-lock.json GHSA-np02-minimist')!.severity, 'critical');
  const debug = byId.get('app/package-lock.json GHSA-np03-debug')!;
  assert.deepEqual([debug.severity, debug.severityDetail.source, debug.severityDetail.cvss?.score, debug.lastAffected], ['medium', 'cvss-v3', 5.3, '2.6.8']);
  assert.match(debug.fix, /upgrade debug to a version after 2\.6\.8/);
  assert.equal(byId.get('legacy/package-lock.json GHSA-np02-minimist')!.paths[0], 'node_modules/mkdirp/node_modules/minimist');

  const openssl = byId.get('image/var/lib/dpkg/status DSA-0001-openssl')!;
  assert.equal(openssl.ecosystem, 'Debian:12');
  assert.equal(openssl.fixedVersion, '3.0.13-1~deb12u1', 'the Debian:12 fix, not the Debian:11 one');
  assert.deepEqual(openssl.paths, ['libssl3:amd64 3.0.11-1~deb12u2+b1', 'openssl:amd64 3.0.11-1~deb12u2']);
  assert.equal(openssl.fix, 'upgrade source package openssl to 3.0.13-1~deb12u1 or later (apt-get install --only-upgrade libssl3 openssl)');
  assert.deepEqual([openssl.severity, openssl.severityDetail.source], ['medium', 'unscored']);

  assert.equal(byId.get('svc/go.mod GO-2031-0001')!.fix, 'upgrade golang.org/x/text to v0.3.8 (go get golang.org/x/text@v0.3.8)');
  assert.equal(byId.get('rs/Cargo.lock RUSTSEC-2031-0002')!.severity, 'medium');
});

test('each lockfile alone: the dpkg status file given directly finds its release from the root above it', async (t) => {
  const { tree, db } = await fixture(t);
  const run = await scan([join(tree, 'image', 'var', 'lib', 'dpkg', 'status'), '--db', db, '--json']);
  const report = JSON.parse(run.stdout) as JsonReport;
  assert.deepEqual(report.findings.map((finding) => finding.vulnerabilityId).sort(), ['DEBIAN-CVE-0004-tar', 'DSA-0001-openssl']);
  const legacy = JSON.parse((await scan([join(tree, 'legacy', 'package-lock.json'), '--db', db, '--json'])).stdout) as JsonReport;
  assert.deepEqual(legacy.findings.map((finding) => `${finding.package} ${finding.version}`), ['minimist 1.2.0']);
});

test('package-lock.json v2: its "packages" section is read (not the v1 "dependencies" beside it), at the range boundaries', async (t) => {
  const { tree, db } = await fixture(t);
  // npm 7–8 write both sections; the same packages, each at its own line. A finding must point at
  // the "packages" entry, which is what npm itself installs from.
  const lock = {
    name: 'v2',
    version: '1.0.0',
    lockfileVersion: 2,
    requires: true,
    packages: {
      '': { name: 'v2', version: '1.0.0', dependencies: { lodash: '^4.17.21', mkdirp: '^0.5.1', debug: '^2.6.9' } },
      'node_modules/lodash': { version: '4.17.21' },
      'node_modules/debug': { version: '2.6.9' },
      'node_modules/mkdirp': { version: '0.5.1', dependencies: { minimist: '1.2.5' } },
      'node_modules/mkdirp/node_modules/minimist': { version: '1.2.5' },
    },
    dependencies: {
      lodash: { version: '4.17.21' },
      debug: { version: '2.6.9' },
      mkdirp: { version: '0.5.1', requires: { minimist: '1.2.5' }, dependencies: { minimist: { version: '1.2.5' } } },
    },
  };
  const text = `${JSON.stringify(lock, null, 2)}\n`;
  await writeFiles(tree, new Map([['v2/package-lock.json', text]]));
  const run = await scan([join(tree, 'v2'), '--db', db, '--json']);
  assert.equal(run.code, EXIT_PROBLEMS_FOUND, run.stderr);
  const report = JSON.parse(run.stdout) as JsonReport;
  // lodash at its fix and debug one past last_affected are clean; minimist 1.2.5 is below the fix 1.2.6.
  assert.deepEqual(report.findings.map((finding) => `${finding.package} ${finding.version} ${finding.vulnerabilityId} ${finding.paths.join(',')}`), ['minimist 1.2.5 GHSA-np02-minimist node_modules/mkdirp/node_modules/minimist']);
  assert.equal(report.summary.packages, 4);
  assert.equal(text.split('\n')[report.findings[0]!.line - 1]!.trim(), '"node_modules/mkdirp/node_modules/minimist": {');
});

test('a container image read directly (docker save tarball and OCI layout): the dpkg database of its final filesystem, by source package', async (t) => {
  const { tree, db } = await fixture(t);
  const status = MANIFEST_TREE.get('image/var/lib/dpkg/status')!;
  // The second layer upgrades tar to exactly its fix: the image's final database has it fixed.
  const upgraded = status.replace('Version: 1.34+dfsg-1.2\n', 'Version: 1.34+dfsg-1.2+deb12u1\n');
  assert.notEqual(upgraded, status);
  const spec: ImageSpec = {
    name: 'acme/api:1',
    config: { config: { User: '10001' } },
    layers: [
      { gzip: true, entries: [{ path: 'etc/os-release', content: MANIFEST_TREE.get('image/etc/os-release')! }, { path: 'var/lib/dpkg/status', content: status }] },
      { entries: [{ path: 'var/lib/dpkg/status', content: upgraded }] },
    ],
  };
  const tarball = join(tree, 'api.tar');
  await writeFile(tarball, dockerSaveTarball(spec));
  const layout = await writeOciLayout(join(tree, 'api-oci'), spec);
  for (const [image, name] of [[tarball, 'api.tar'], [layout, 'api-oci']] as const) {
    const run = await scan([image, '--db', db, '--json', '--fail-on', 'medium']);
    assert.equal(run.code, EXIT_PROBLEMS_FOUND, run.stderr);
    const report = JSON.parse(run.stdout) as JsonReport;
    assert.deepEqual(report.findings.map((finding) => `${finding.file} ${finding.package} ${finding.version} ${finding.vulnerabilityId} ${finding.ecosystem}`), [`${name}:var/lib/dpkg/status openssl 3.0.11-1~deb12u2 DSA-0001-openssl Debian:12`]);
    assert.deepEqual(report.findings[0]!.paths, ['libssl3:amd64 3.0.11-1~deb12u2+b1', 'openssl:amd64 3.0.11-1~deb12u2']);
  }
  // A distroless image keeps one file per package in status.d/, and may have no os-release: base-files tells the release.
  const distroless: ImageSpec = { name: 'acme/static:1', config: {}, layers: [{ entries: [
    { path: 'var/lib/dpkg/status.d/base-files', content: 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n' },
    { path: 'var/lib/dpkg/status.d/libssl3', content: 'Package: libssl3\nSource: openssl\nVersion: 3.0.13-1~deb12u1\nArchitecture: amd64\n' },
  ] }] };
  const clean = await scan([await writeOciLayout(join(tree, 'static-oci'), distroless), '--db', db, '--json', '--fail-on', 'low']);
  assert.equal(clean.code, EXIT_OK, clean.stderr);
  const cleanReport = JSON.parse(clean.stdout) as JsonReport;
  assert.deepEqual([cleanReport.findings, cleanReport.summary.packagesChecked], [[], 2], 'openssl at its Debian:12 fix');
  // An image without a dpkg database, and an archive that is no image.
  const scratch = await writeOciLayout(join(tree, 'scratch-oci'), { name: 'acme/scratch:1', config: {}, layers: [{ entries: [{ path: 'app', content: 'x' }] }] });
  const none = await scan([scratch, '--db', db]);
  assert.equal(none.code, EXIT_USAGE);
  assert.match(none.stderr, /has no dpkg database \(var\/lib\/dpkg\/status or status\.d\/\)/);
  const { buildTar } = await import('../../test/support/tar-writer.js');
  await writeFile(join(tree, 'notes.tar'), buildTar([{ path: 'notes.txt', content: 'hello' }]));
  const notImage = await scan([join(tree, 'notes.tar'), '--db', db]);
  assert.equal(notImage.code, EXIT_FAILURE);
  assert.match(notImage.stderr, /notes\.tar cannot be read as an image: /);
  const misplaced = await scan([join(tree, 'app'), '--db', db, '--image', 'acme/api:1']);
  assert.equal(misplaced.code, EXIT_USAGE);
  assert.match(misplaced.stderr, /--image picks an image inside a docker save tarball or an OCI layout/);
});

test('a stale database warns in the table and in JSON; --max-age moves the threshold; vulndb status exits 4', async (t) => {
  const { tree, db } = await fixture(t);
  const fresh = await scan([join(tree, 'app'), '--db', db, '--json']);
  const freshReport = JSON.parse(fresh.stdout) as JsonReport;
  assert.deepEqual(freshReport.database.ecosystems, [{ ecosystem: 'npm', ageDays: 3, newestModified: '2031-05-29T09:00:00Z', importedAt: new Date(FIXTURE_NOW_MS).toISOString(), stale: false }]);
  const later = FIXTURE_NOW_MS + 10 * DAY_MS;
  const stale = JSON.parse((await scan([join(tree, 'app'), '--db', db, '--json'], later)).stdout) as JsonReport;
  assert.deepEqual(stale.warnings.map((warning) => [warning.kind, warning.ecosystem]), [['stale-database', 'npm']]);
  assert.match(stale.warnings[0]!.message, /the npm advisories are 13 days old .* older than 7 days/);
  const table = await scan([join(tree, 'app'), '--db', db], later);
  assert.match(table.stdout, /Warnings:\n {2}the npm advisories are 13 days old/);
  const relaxed = JSON.parse((await scan([join(tree, 'app'), '--db', db, '--json', '--max-age', '30'], later)).stdout) as JsonReport;
  assert.deepEqual(relaxed.warnings, []);
  const status = await vulndb(['status', '--db', db], later);
  assert.equal(status.code, EXIT_PROBLEMS_FOUND);
  assert.match(status.stdout, /npm +5 +\S+ +2031-05-29T09:00:00Z +13 d \(stale\)/);
  assert.equal((await vulndb(['status', '--db', db])).code, EXIT_OK);
});

test('withdrawn records never match, and a re-import does not bring back an older copy', async (t) => {
  const { tree, db } = await fixture(t);
  const run = JSON.parse((await scan([join(tree, 'app'), '--db', db, '--json'])).stdout) as JsonReport;
  assert.ok(!run.findings.some((finding) => finding.package === 'left-pad'));
  const status = JSON.parse((await vulndb(['status', '--db', db, '--json'])).stdout) as { records: number; withdrawn: number };
  assert.deepEqual([status.records, status.withdrawn], [21, 1]);
});

test('an ecosystem with no imported records is named as not checked, never reported clean silently', async (t) => {
  const dir = await tempDir(t, 'holdfast-deps-partial-');
  const exports = await writeOsvExports(join(dir, 'osv'));
  const db = join(dir, 'vulndb.sqlite');
  assert.equal((await vulndb(['import', exports.npmZip, '--db', db])).code, EXIT_OK);
  await writeFiles(join(dir, 'tree'), MANIFEST_TREE);
  const report = JSON.parse((await scan([join(dir, 'tree'), '--db', db, '--json'])).stdout) as JsonReport;
  const missing = report.warnings.filter((warning) => warning.kind === 'ecosystem-not-imported').map((warning) => warning.ecosystem).sort();
  assert.deepEqual(missing, ['Debian', 'Go', 'PyPI', 'crates.io']);
  assert.ok(report.summary.packagesChecked < report.summary.packages);
});

test('--fail-on decides the exit code; the table shows severity, ids, the fix and the policy', async (t) => {
  const { tree, db } = await fixture(t);
  const rs = join(tree, 'rs');
  assert.equal((await scan([rs, '--db', db])).code, EXIT_OK, 'a medium finding is below the default high');
  assert.equal((await scan([rs, '--db', db, '--fail-on', 'medium'])).code, EXIT_PROBLEMS_FOUND);
  const table = await scan([join(tree, 'app'), '--db', db]);
  assert.equal(table.code, EXIT_PROBLEMS_FOUND);
  assert.match(table.stdout, /critical +GHSA-np02-minimist +CVE-2031-0002 +minimist \(dev\) +1\.0\.0 +1\.2\.6 +package-lock\.json:\d+ +labelled CRITICAL/);
  assert.match(table.stdout, /package-lock\.json: upgrade lodash to 4\.17\.21 — GHSA-np01-lodash/);
  assert.match(table.stdout, /Policy: Configuration Management §4\.3: "Dependencies are tracked and scanned for known vulnerabilities as part of the SDLC\."/);
});

test('SARIF 2.1.0: a rule per vulnerability, results at the manifest line, stable fingerprints', async (t) => {
  const { tree, db } = await fixture(t);
  const out = join(tree, '..', 'deps.sarif');
  const run = await scan([tree, '--db', db, '--format', 'sarif', '--sarif', out]);
  assert.equal(run.code, EXIT_PROBLEMS_FOUND);
  assert.equal(await readFile(out, 'utf8'), run.stdout);
  const sarif = JSON.parse(run.stdout) as {
    version: string;
    runs: Array<{
      tool: { driver: { name: string; rules: Array<{ id: string; helpUri?: string; properties: { 'security-severity': string; tags: string[] } }> } };
      results: Array<{ ruleId: string; ruleIndex: number; level: string; message: { text: string }; partialFingerprints: Record<string, string>; locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId: string }; region: { startLine: number } } }> }>;
    }>;
  };
  assert.equal(sarif.version, '2.1.0');
  const [sarifRun] = sarif.runs;
  assert.equal(sarifRun!.tool.driver.name, 'holdfast-dependency-scan');
  assert.equal(sarifRun!.results.length, EXPECTED_FINDINGS.length);
  assert.equal(new Set(sarifRun!.tool.driver.rules.map((rule) => rule.id)).size, sarifRun!.tool.driver.rules.length);
  for (const result of sarifRun!.results) {
    assert.equal(sarifRun!.tool.driver.rules[result.ruleIndex]!.id, result.ruleId);
    assert.match(result.partialFingerprints['holdfastDependencyFingerprint/v1'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal(result.locations[0]!.physicalLocation.artifactLocation.uriBaseId, 'SRCROOT');
    assert.ok(result.locations[0]!.physicalLocation.region.startLine >= 1);
    assert.match(result.message.text, /Serves Configuration Management §4\.3/);
  }
  const debug = sarifRun!.tool.driver.rules.find((rule) => rule.id === 'GHSA-np03-debug')!;
  assert.equal(debug.properties['security-severity'], '5.3', 'the CVSS base score ranks the rule');
  const again = JSON.parse((await scan([tree, '--db', db, '--format', 'sarif'])).stdout) as typeof sarif;
  assert.deepEqual(again.runs[0]!.results.map((result) => result.partialFingerprints), sarifRun!.results.map((result) => result.partialFingerprints));
});

test('usage errors exit 2 and name the fix', async (t) => {
  const { tree, db } = await fixture(t);
  const cases: Array<[string[], RegExp]> = [
    [[tree, '--db', join(tree, 'missing.sqlite')], /no vulnerability database at .*missing\.sqlite; import one first, e\.g\. holdfast vulndb import/],
    [[tree, '--db', db, '--fail-on', 'severe'], /--fail-on takes one of low, medium, high, critical, not "severe"/],
    [[join(tree, 'nope'), '--db', db], /does not exist; pass a lockfile, a dpkg status file or a directory/],
    [[join(tree, 'image', 'etc'), '--db', db], /found no lockfile or dpkg database under/],
    [[tree, '--db', db, '--distro', 'bookworm'], /--distro takes an OSV ecosystem such as Debian:12/],
    [[tree, '--db', db, '--max-age', 'week'], /--max-age takes a number of days/],
    [[tree, '--db', db, '--frobnicate'], /Unknown option '--frobnicate'/],
  ];
  for (const [argv, message] of cases) {
    const run = await scan(argv);
    assert.equal(run.code, EXIT_USAGE, argv.join(' '));
    assert.match(run.stderr, message);
    assert.match(run.stderr, /Usage:\n {2}holdfast scan deps/);
  }
  const noSource = await vulndb(['import', '--db', db]);
  assert.equal(noSource.code, EXIT_USAGE);
  assert.match(noSource.stderr, /vulndb import needs at least one OSV export/);
  const env = await vulndb(['status'], FIXTURE_NOW_MS, { HOLDFAST_VULNDB: join(tree, 'elsewhere.sqlite') });
  assert.equal(env.code, EXIT_USAGE);
  assert.match(env.stderr, /no vulnerability database at .*elsewhere\.sqlite; create it with holdfast vulndb import/);
});

test('a damaged export is refused whole; an unreadable lockfile makes the scan incomplete (exit 1)', async (t) => {
  const { tree, db } = await fixture(t);
  const bad = join(tree, 'bad.zip');
  await writeFiles(tree, new Map([['bad.zip', 'PK this is not a zip'], ['broken/package-lock.json', '{"lockfileVersion": 3, "packages": ']]));
  const imported = await vulndb(['import', bad, '--db', db]);
  assert.equal(imported.code, EXIT_FAILURE);
  assert.match(imported.stderr, /not a zip archive/);
  const run = await scan([join(tree, 'broken'), '--db', db]);
  assert.equal(run.code, EXIT_FAILURE);
  assert.match(run.stderr, /1 file\(s\) could not be read, so the result is incomplete: package-lock\.json \(.*not valid JSON/);
});
