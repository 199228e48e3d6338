import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readPipRequirements } from './pip-requirements.js';
import { readPoetryLock } from './poetry-lock.js';

test('poetry.lock: PyPI packages with their lines; dev groups marked; git, path and private-index packages noted, not checked', () => {
  const lock = [
    '[[package]]',
    'name = "black"',
    'version = "24.3.0"',
    'groups = ["dev"]',
    '',
    '[[package]]',
    'name = "attrs"',
    'version = "23.2.0"',
    'groups = ["main", "dev"]',
    '',
    '[package.dependencies]',
    'version = "1.0"',
    '',
    '[[package]]',
    'name = "internal-lib"',
    'version = "0.3.0"',
    '',
    '[package.source]',
    'type = "legacy"',
    'url = "https://pypi.example.org/simple"',
    'reference = "internal"',
    '',
    '[[package]]',
    'name = "local-lib"',
    'version = "0.1.0"',
    '',
    '[package.source]',
    'type = "directory"',
    'url = "../local-lib"',
    '',
    '[metadata]',
    'lock-version = "2.1"',
  ].join('\n');
  const manifest = readPoetryLock(lock, 'poetry.lock');
  assert.deepEqual(
    manifest.packages.map((pkg) => [pkg.ecosystem, pkg.name, pkg.version, pkg.line, pkg.dev === true]),
    [
      ['PyPI', 'black', '24.3.0', 1, true],
      ['PyPI', 'attrs', '23.2.0', 6, false],
    ],
  );
  assert.deepEqual(manifest.notes, ['2 package(s) from git, a path, a URL or another index not checked']);
});

test('requirements.txt: only == pins count; extras, markers, hashes, continuations and comments are read past', () => {
  const text = [
    '--index-url https://pypi.org/simple',
    '-r base.txt',
    'zope.interface==6.2 \\',
    '    --hash=sha256:00 \\',
    '    --hash=sha256:11',
    'Jinja2[i18n] == 3.1.3 ; python_version >= "3.8"  # via flask',
    'typing_extensions===4.10.0',
    'numpy==1.26.*',
    'pandas>=2,<3',
    'git+https://github.com/org/repo.git#egg=repo',
    '',
    '# the end',
  ].join('\r\n');
  const manifest = readPipRequirements(text, 'requirements.txt');
  assert.deepEqual(
    manifest.packages.map((pkg) => [pkg.name, pkg.version, pkg.line]),
    [
      ['zope.interface', '6.2', 3],
      ['Jinja2', '3.1.3', 6],
      ['typing_extensions', '4.10.0', 7],
    ],
  );
  assert.deepEqual(manifest.notes, ['5 line(s) not pinned with == (ranges, URLs, editable installs, -r/-c and other options) not checked']);
});
