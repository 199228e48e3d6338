import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildZip } from './zip-writer.js';

/**
 * A small OSV database and a tree of manifests with known vulnerable and fixed versions, made at
 * test time. Versions sit on the range boundaries on purpose: at `introduced` (affected), at
 * `fixed` (not), at `last_affected` (affected) and one past it (not), a pre-release just below a
 * fix (affected), Debian binNMUs and `~` versions. `expectedFindings` is the exact answer.
 */
export const FIXTURE_NOW_MS = Date.UTC(2031, 5, 1, 9);
/** Every record was modified three days before FIXTURE_NOW_MS. */
export const FIXTURE_MODIFIED = '2031-05-29T09:00:00Z';

type Events = Array<Record<string, string>>;

function record(id: string, ecosystem: string, name: string, events: Events, extra: Record<string, unknown> = {}, rangeType = 'ECOSYSTEM', more: Record<string, unknown> = {}) {
  return {
    schema_version: '1.6.0',
    id,
    modified: FIXTURE_MODIFIED,
    published: '2031-01-01T00:00:00Z',
    summary: `${name} test vulnerability ${id}`,
    ...extra,
    affected: [{ package: { ecosystem, name }, ranges: [{ type: rangeType, events }], ...more }],
  };
}

export const NPM_RECORDS = [
  record('GHSA-np01-lodash', 'npm', 'lodash', [{ introduced: '0' }, { fixed: '4.17.21' }], { aliases: ['CVE-2031-0001'], database_specific: { severity: 'HIGH' } }),
  record('GHSA-np02-minimist', 'npm', 'minimist', [{ introduced: '1.0.0' }, { fixed: '1.2.6' }], { aliases: ['CVE-2031-0002'], database_specific: { severity: 'CRITICAL' } }, 'SEMVER'),
  record('GHSA-np03-debug', 'npm', 'debug', [{ introduced: '0' }, { last_affected: '2.6.8' }], { severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L' }] }),
  record('GHSA-np04-left-pad', 'npm', 'left-pad', [{ introduced: '0' }], { withdrawn: '2031-02-01T00:00:00Z', database_specific: { severity: 'CRITICAL' } }),
  record('GHSA-np05-semver', 'npm', 'semver', [{ introduced: '0' }, { fixed: '7.5.2' }], { database_specific: { severity: 'MODERATE' } }, 'SEMVER'),
  record('GHSA-np06-string-width', 'npm', 'string-width', [{ introduced: 'a1b2c3d4' }], { database_specific: { severity: 'LOW' } }, 'GIT', { versions: ['4.2.3'] }),
];

export const DEBIAN_RECORDS = [
  {
    ...record('DSA-0001-openssl', 'Debian:12', 'openssl', [{ introduced: '0' }, { fixed: '3.0.13-1~deb12u1' }], { aliases: ['CVE-2031-1001'] }),
    affected: [
      { package: { ecosystem: 'Debian:11', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1.1w-0+deb11u1' }] }] },
      { package: { ecosystem: 'Debian:12', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.13-1~deb12u1' }] }] },
    ],
  },
  record('DEBIAN-CVE-0002-zlib', 'Debian:12', 'zlib', [{ introduced: '0' }, { fixed: '1:1.2.13.dfsg-1' }]),
  record('DEBIAN-CVE-0003-bash', 'Debian:11', 'bash', [{ introduced: '0' }, { fixed: '5.2.99-1' }]),
  record('DEBIAN-CVE-0004-tar', 'Debian:12', 'tar', [{ introduced: '0' }, { fixed: '1.34+dfsg-1.2+deb12u1' }], { aliases: ['CVE-2031-1004'] }),
  record('DEBIAN-CVE-0005-oldpkg', 'Debian:12', 'oldpkg', [{ introduced: '0' }]),
];

export const GO_AND_CRATES_RECORDS = [
  record('GO-2031-0001', 'Go', 'golang.org/x/text', [{ introduced: '0' }, { fixed: '0.3.8' }], { aliases: ['CVE-2031-2001'] }, 'SEMVER'),
  record('GO-2031-0002', 'Go', 'example.com/new', [{ introduced: '0' }, { fixed: '1.2.1' }], {}, 'SEMVER'),
  record('GO-2031-0003', 'Go', 'example.com/old', [{ introduced: '0' }], {}, 'SEMVER'),
  record('RUSTSEC-2031-0001', 'crates.io', 'smallvec', [{ introduced: '0.6.3' }, { fixed: '0.6.14' }], {}, 'SEMVER'),
  record('RUSTSEC-2031-0002', 'crates.io', 'time', [{ introduced: '0' }, { fixed: '0.2.23' }], {}, 'SEMVER', { ecosystem_specific: { severity: 'MEDIUM' } }),
];

/** PyPI advisories spell names as pypi.org shows them; the lockfiles below spell them otherwise. */
export const PYPI_RECORDS = [
  record('PYSEC-2031-0001', 'PyPI', 'Django', [{ introduced: '4.2' }, { fixed: '4.2.2' }], { aliases: ['CVE-2031-3001'] }),
  record('PYSEC-2031-0002', 'PyPI', 'PyYAML', [{ introduced: '0' }, { fixed: '5.4' }]),
  record('PYSEC-2031-0003', 'PyPI', 'flask-caching', [{ introduced: '0' }, { last_affected: '2.0.2' }]),
  record('PYSEC-2031-0004', 'PyPI', 'urllib3', [{ introduced: '2.0.0a1' }, { fixed: '2.0.7' }]),
  record('PYSEC-2031-0005', 'PyPI', 'requests', [{ introduced: '0' }]),
];

const PACKAGE_LOCK_V3 = {
  name: 'app',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'app', version: '1.0.0', workspaces: ['packages/*'] },
    'node_modules/lodash': { version: '4.17.20', resolved: 'https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz' },
    'node_modules/minimist': { version: '1.0.0', dev: true },
    'node_modules/debug': { version: '2.6.8' },
    'node_modules/left-pad': { version: '1.3.0' },
    'node_modules/semver': { version: '7.5.2-rc.1' },
    'node_modules/string-width-cjs': { name: 'string-width', version: '4.2.3' },
    'node_modules/tool': { version: '1.0.0' },
    'node_modules/tool/node_modules/lodash': { version: '4.17.20' },
    'node_modules/@scope/local': { resolved: 'packages/local', link: true },
    'packages/local': { name: 'lodash', version: '1.0.0' },
  },
};

const PACKAGE_LOCK_V1 = {
  name: 'legacy',
  version: '1.0.0',
  lockfileVersion: 1,
  requires: true,
  dependencies: {
    lodash: { version: '4.17.21', resolved: 'https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz' },
    minimist: { version: '0.2.4' },
    debug: { version: '2.6.9', requires: { ms: '2.0.0' } },
    mkdirp: { version: '0.5.1', requires: { minimist: '1.2.0' }, dependencies: { minimist: { version: '1.2.0' } } },
    'my-git-dep': { version: 'github:someone/thing#0123456' },
  },
};

const DPKG_STATUS = [
  'Package: libssl3',
  'Status: install ok installed',
  'Architecture: amd64',
  'Source: openssl (3.0.11-1~deb12u2)',
  'Version: 3.0.11-1~deb12u2+b1',
  'Description: Secure Sockets Layer toolkit - shared libraries',
  ' This package is part of the OpenSSL project.',
  '',
  'Package: openssl',
  'Status: install ok installed',
  'Architecture: amd64',
  'Version: 3.0.11-1~deb12u2',
  '',
  'Package: zlib1g',
  'Status: install ok installed',
  'Architecture: amd64',
  'Source: zlib',
  'Version: 1:1.2.13.dfsg-1',
  '',
  'Package: bash',
  'Status: install ok installed',
  'Version: 5.2.15-2+b2',
  '',
  'Package: tar',
  'Status: install ok installed',
  'Version: 1.34+dfsg-1.2',
  '',
  'Package: oldpkg',
  'Status: deinstall ok config-files',
  'Version: 0.1-1',
  '',
  'Package: base-files',
  'Status: install ok installed',
  'Version: 12.4+deb12u5',
  '',
].join('\n');

const GO_MOD = [
  'module example.com/svc',
  '',
  'go 1.22',
  '',
  'require (',
  '\tgolang.org/x/text v0.3.7 // indirect',
  '\texample.com/old v1.0.0',
  '\texample.com/local v0.1.0',
  ')',
  '',
  'require github.com/fixed/mod v1.0.0',
  '',
  'replace example.com/old => example.com/new v1.2.0',
  'replace example.com/local => ../local',
  '',
].join('\n');

const CARGO_LOCK = [
  '# This file is automatically @generated by Cargo.',
  'version = 3',
  '',
  '[[package]]',
  'name = "rs"',
  'version = "0.1.0"',
  'dependencies = [',
  ' "smallvec",',
  ' "time",',
  ']',
  '',
  '[[package]]',
  'name = "smallvec"',
  'version = "0.6.14"',
  'source = "registry+https://github.com/rust-lang/crates.io-index"',
  'checksum = "b97fcaeba89edba30f044a10c6a3cc39df9c3f17d7cd829dd1446cab35f890e0"',
  '',
  '[[package]]',
  'name = "time"',
  'version = "0.1.45"',
  'source = "registry+https://github.com/rust-lang/crates.io-index"',
  '',
  '[[package]]',
  'name = "time"',
  'version = "0.1.45"',
  'source = "git+https://github.com/someone/time#0123456"',
  '',
].join('\n');

// Boundaries: a release candidate below the fix (affected), 5.4.0 == the fix 5.4 (not), a post-release
// after last_affected (not), a git checkout of a package every version of which is affected (not PyPI's).
const POETRY_LOCK = [
  '# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.',
  '',
  '[[package]]',
  'name = "django"',
  'version = "4.2.2rc1"',
  'description = "A high-level Python web framework."',
  'optional = false',
  'python-versions = ">=3.8"',
  'files = [',
  '    {file = "Django-4.2.2rc1-py3-none-any.whl", hash = "sha256:0123"},',
  ']',
  '',
  '[package.dependencies]',
  'asgiref = ">=3.6.0,<4"',
  '',
  '[package.extras]',
  'argon2 = ["argon2-cffi (>=19.1.0)"]',
  '',
  '[[package]]',
  'name = "flask-caching"',
  'version = "2.0.2.post1"',
  'category = "dev"',
  '',
  '[[package]]',
  'name = "pyyaml"',
  'version = "5.4.0"',
  '',
  '[[package]]',
  'name = "requests"',
  'version = "2.31.0"',
  '',
  '[package.source]',
  'type = "git"',
  'url = "https://github.com/psf/requests.git"',
  'reference = "main"',
  'resolved_reference = "0123456789abcdef"',
  '',
  '[metadata]',
  'lock-version = "2.0"',
  'python-versions = "^3.11"',
  'content-hash = "0123"',
  '',
].join('\n');

const REQUIREMENTS_TXT = [
  '# pip-compile output, with hashes and markers',
  'Django==4.2.2 \\',
  '    --hash=sha256:0123',
  'pyyaml==5.3.1  # via -r requirements.in',
  'Flask_Caching[redis]==2.0.2 ; python_version >= "3.8"',
  'urllib3===2.0.0',
  'requests>=2.0',
  '-e ./local-package',
  '',
].join('\n');

export const MANIFEST_TREE: ReadonlyMap<string, string> = new Map([
  ['app/package-lock.json', `${JSON.stringify(PACKAGE_LOCK_V3, null, 2)}\n`],
  ['app/node_modules/lodash/package.json', '{"name":"lodash","version":"4.17.20"}\n'],
  ['legacy/package-lock.json', `${JSON.stringify(PACKAGE_LOCK_V1, null, 2)}\n`],
  ['image/var/lib/dpkg/status', DPKG_STATUS],
  ['image/etc/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'],
  ['svc/go.mod', GO_MOD],
  ['rs/Cargo.lock', CARGO_LOCK],
  ['py/poetry.lock', POETRY_LOCK],
  ['py/requirements.txt', REQUIREMENTS_TXT],
]);

/** file, package, version, vulnerability — sorted. Everything else in the tree is clean. */
export const EXPECTED_FINDINGS: readonly string[] = [
  'app/package-lock.json debug 2.6.8 GHSA-np03-debug',
  'app/package-lock.json lodash 4.17.20 GHSA-np01-lodash',
  'app/package-lock.json minimist 1.0.0 GHSA-np02-minimist',
  'app/package-lock.json semver 7.5.2-rc.1 GHSA-np05-semver',
  'app/package-lock.json string-width 4.2.3 GHSA-np06-string-width',
  'image/var/lib/dpkg/status openssl 3.0.11-1~deb12u2 DSA-0001-openssl',
  'image/var/lib/dpkg/status tar 1.34+dfsg-1.2 DEBIAN-CVE-0004-tar',
  'legacy/package-lock.json minimist 1.2.0 GHSA-np02-minimist',
  'py/poetry.lock django 4.2.2rc1 PYSEC-2031-0001',
  'py/requirements.txt Flask_Caching 2.0.2 PYSEC-2031-0003',
  'py/requirements.txt pyyaml 5.3.1 PYSEC-2031-0002',
  'py/requirements.txt urllib3 2.0.0 PYSEC-2031-0004',
  'rs/Cargo.lock time 0.1.45 RUSTSEC-2031-0002',
  'svc/go.mod example.com/new 1.2.0 GO-2031-0002',
  'svc/go.mod golang.org/x/text 0.3.7 GO-2031-0001',
];

export async function writeFiles(root: string, files: ReadonlyMap<string, string | Buffer>): Promise<void> {
  for (const [path, content] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** The OSV exports as a user downloads them: npm as a zip, Debian as a directory, Go, crates and PyPI as a ZIP64 zip. */
export async function writeOsvExports(dir: string): Promise<{ npmZip: string; debianDir: string; otherZip: string }> {
  await mkdir(dir, { recursive: true });
  const npmZip = join(dir, 'npm-all.zip');
  await writeFile(npmZip, buildZip(NPM_RECORDS.map((entry) => ({ name: `${entry.id}.json`, data: JSON.stringify(entry) }))));
  const debianDir = join(dir, 'debian');
  await writeFiles(debianDir, new Map(DEBIAN_RECORDS.map((entry) => [`${entry.id}.json`, JSON.stringify(entry)])));
  const otherZip = join(dir, 'go-crates-all.zip');
  await writeFile(otherZip, buildZip([...GO_AND_CRATES_RECORDS, ...PYPI_RECORDS].map((entry) => ({ name: `${entry.id}.json`, data: JSON.stringify(entry), method: 'store' as const })), { zip64: true }));
  return { npmZip, debianDir, otherZip };
}
