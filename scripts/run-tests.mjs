#!/usr/bin/env node
// Runs node's test runner on every compiled test file (dist/**/*.test.js). Node 20's runner does
// not expand globs, so the files are found here and passed by path. The exit code is the runner's.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

if (!existsSync(dist)) {
  console.error('run-tests: dist/ does not exist; run `npm run build` first');
  process.exit(1);
}
// dist/ is never cleaned by tsc: a compiled test whose source was renamed or deleted would still
// run. Only tests with a TypeScript source beside them in the tree count.
const compiled = findTests(dist).map((file) => relative(root, file));
const files = compiled.filter((file) => existsSync(join(root, relative('dist', file).replace(/\.js$/, '.ts')))).sort();
for (const stale of compiled.filter((file) => !files.includes(file))) {
  console.log(`run-tests: ignoring ${stale} (no source file any more)`);
}
if (files.length === 0) {
  console.error('run-tests: no dist/**/*.test.js found; did the build include test/?');
  process.exit(1);
}
console.log(`run-tests: ${files.length} test files`);

const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=600000', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit' },
);
// Forward interruption so that Ctrl-C or a CI timeout also ends the runner and its servers.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  if (signal !== null) {
    console.error(`run-tests: test runner ended by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
