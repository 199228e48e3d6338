import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { EXPECTED_FINDINGS, MANIFEST_TREE, writeFiles, writeOsvExports } from '../../test/support/dependency-fixtures.js';
import { tempDir } from '../../test/support/file-tree.js';
import { badImage, dockerSaveTarball } from '../../test/support/image-fixtures.js';
import { plantedSecretsCorpus } from '../../test/support/planted-secrets.js';
import { repoRoot } from '../../test/support/repo-root.js';
import { runCommand } from '../../test/support/tools.js';
import { EXIT_OK, EXIT_PROBLEMS_FOUND } from './exit-codes.js';

/**
 * "Nothing is ever sent over the network to 'verify' a secret" (issue 7), and the scanners work
 * offline: the built CLI runs every scanner with a preloaded module that makes any socket
 * connection, UDP send, DNS lookup or fetch fail loudly (and records it on stderr), so a scanner
 * that reached for the network would fail here even if it swallowed the error.
 */
const NO_NETWORK = `
import net from 'node:net';
import dgram from 'node:dgram';
import dns from 'node:dns';
const refuse = (what) => function () {
  process.stderr.write('NETWORK ATTEMPT: ' + what + '\\n');
  throw new Error('network use refused by the offline test: ' + what);
};
net.Socket.prototype.connect = refuse('net.Socket.connect');
dgram.Socket.prototype.send = refuse('dgram.Socket.send');
for (const name of ['lookup', 'lookupService', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveTxt', 'resolveSrv', 'reverse']) {
  if (typeof dns[name] === 'function') dns[name] = refuse('dns.' + name);
  if (typeof dns.promises[name] === 'function') dns.promises[name] = refuse('dns.promises.' + name);
}
globalThis.fetch = refuse('fetch');
`;

const holdfastCli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

test('every scanner runs with the network refused, and tries no connection, lookup or fetch', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t, 'holdfast-scan-offline-');
  const hook = join(dir, 'no-network.mjs');
  await writeFile(hook, NO_NETWORK);
  const offline = (args: string[]) => runCommand(process.execPath, ['--import', pathToFileURL(hook).href, holdfastCli, ...args], { expectExitCode: 'any', timeoutMs: 60_000 });

  // The hook itself works: a connection attempt is refused and recorded.
  const probe = await runCommand(process.execPath, ['--import', pathToFileURL(hook).href, '-e', "require('node:net').connect(9, '127.0.0.1')"], { expectExitCode: 'any' });
  assert.notEqual(probe.code, 0);
  assert.match(probe.stderr, /NETWORK ATTEMPT: net\.Socket\.connect/);

  const corpus = join(dir, 'corpus');
  await writeFiles(corpus, plantedSecretsCorpus().files);
  const osv = await writeOsvExports(join(dir, 'osv'));
  const db = join(dir, 'vulndb.sqlite');
  const tree = join(dir, 'tree');
  await writeFiles(tree, MANIFEST_TREE);
  const image = join(dir, 'bad.tar');
  await writeFile(image, dockerSaveTarball(badImage()));
  await writeFiles(join(dir, 'deploy'), new Map([['Dockerfile', 'FROM debian\nEXPOSE 22\n'], ['compose.yaml', 'services:\n  db:\n    image: postgres\n    privileged: true\n']]));

  const runs: Array<[string[], number]> = [
    [['scan', 'secrets', corpus, '--json'], EXIT_PROBLEMS_FOUND],
    [['vulndb', 'import', osv.npmZip, osv.debianDir, osv.otherZip, '--db', db], EXIT_OK],
    [['scan', 'deps', tree, '--db', db, '--json'], EXIT_PROBLEMS_FOUND],
    [['scan', 'image', image, '--json'], EXIT_PROBLEMS_FOUND],
    [['scan', 'dockerfile', join(dir, 'deploy'), '--json'], EXIT_PROBLEMS_FOUND],
    [['scan', 'manifests', join(dir, 'deploy'), '--json'], EXIT_PROBLEMS_FOUND],
  ];
  for (const [args, expected] of runs) {
    const run = await offline(args);
    assert.doesNotMatch(run.stderr, /NETWORK ATTEMPT/, `${args.slice(0, 2).join(' ')} reached for the network:\n${run.stderr}`);
    assert.equal(run.code, expected, `${args.slice(0, 2).join(' ')}: ${run.stderr}`);
  }
  const deps = await offline(['scan', 'deps', tree, '--db', db, '--json']);
  assert.equal((JSON.parse(deps.stdout) as { findings: unknown[] }).findings.length, EXPECTED_FINDINGS.length, 'the offline scan found what it finds online');
});
