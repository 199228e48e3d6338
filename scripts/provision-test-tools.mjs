#!/usr/bin/env node
// Makes sure the external tools the test suite drives are installed. As root with apt-get, it
// installs the missing Debian packages itself; otherwise it says exactly what to install. Under
// CI=true a tool that is still missing is an error, because the tests would otherwise be skipped
// and a green run would prove nothing. Locally the interop tests skip with the same advice.
import { spawnSync } from 'node:child_process';

/**
 * One row per tool: how to tell it works, and the Debian package that provides it. PostgreSQL
 * (psql, initdb/postgres) joins this table when the suite starts to need it.
 */
const tools = [
  // Debian's awscli is v2; an older v1 from pip/pyenv may come first on PATH, so the path is fixed.
  { name: 'aws-cli v2', command: '/usr/bin/aws', args: ['--version'], expect: /^aws-cli\/2\./, pkg: 'awscli' },
  { name: 's3cmd', command: 's3cmd', args: ['--version'], pkg: 's3cmd' },
  { name: 'rclone', command: 'rclone', args: ['version'], pkg: 'rclone' },
  { name: 'restic', command: 'restic', args: ['version'], pkg: 'restic' },
  { name: 'boto3', command: '/usr/bin/python3', args: ['-c', 'import boto3'], pkg: 'python3-boto3' },
  { name: 'curl', command: 'curl', args: ['--version'], pkg: 'curl' },
  { name: 'openssl', command: 'openssl', args: ['version'], pkg: 'openssl' },
  // The backup-job tests dump and restore a real MariaDB (.ci/run starts the server).
  { name: 'mariadb-dump', command: 'mariadb-dump', args: ['--version'], pkg: 'mariadb-client' },
  { name: 'git', command: 'git', args: ['--version'], pkg: 'git' },
];

function works(tool) {
  const result = spawnSync(tool.command, tool.args, { encoding: 'utf8', timeout: 30_000 });
  if (result.error !== undefined || result.status !== 0) return false;
  return tool.expect === undefined || tool.expect.test(`${result.stdout}${result.stderr}`);
}

function missingTools() {
  return tools.filter((tool) => !works(tool));
}

function run(command, args) {
  console.log(`provision-test-tools: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 900_000,
  });
  return result.status === 0;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;

let missing = missingTools();
if (missing.length > 0 && isRoot && hasApt) {
  const packages = [...new Set(missing.map((tool) => tool.pkg))];
  console.log(`provision-test-tools: missing ${missing.map((tool) => tool.name).join(', ')}; installing ${packages.join(' ')}`);
  if (run('apt-get', ['update'])) {
    run('apt-get', ['install', '-y', '--no-install-recommends', ...packages]);
  }
  missing = missingTools();
}

if (missing.length === 0) {
  console.log(`provision-test-tools: all present (${tools.map((tool) => tool.name).join(', ')})`);
  process.exit(0);
}

const packages = [...new Set(missing.map((tool) => tool.pkg))];
const advice = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
console.error(`provision-test-tools: missing ${missing.map((tool) => `${tool.name} (${tool.command})`).join(', ')}`);
console.error(`provision-test-tools: install with: ${isRoot ? '' : 'sudo '}${advice}`);
if (process.env.CI === 'true') {
  console.error('provision-test-tools: CI=true, where interop tests may not be skipped: failing');
  process.exit(1);
}
console.error('provision-test-tools: the interop tests that need them will be skipped');
