import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { holdfastCli } from '../support/admin-cli.js';
import { Teardown } from '../support/teardown.js';
import { runCommand } from '../support/tools.js';
import { randomCredentials } from '../support/vault-server.js';

/**
 * A `mongodump` job on a host without the MongoDB Database Tools (this one has none; the test
 * gives the server an empty PATH so it holds wherever it runs): `holdfast server` refuses to start,
 * exit 2, naming the job, the missing tool and where to get it — before it creates anything.
 */
const teardown = new Teardown();
after(() => teardown.run());

test('holdfast server refuses a mongodump job when mongodump is not installed, naming the tool and the install', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-mongo-job-'));
  teardown.removeDir(dir);
  const emptyPath = join(dir, 'no-tools');
  await mkdir(emptyPath);
  const config = join(dir, 'holdfast.json');
  await writeFile(config, JSON.stringify({ jobs: [{ name: 'orders-mongo', source: { kind: 'mongodump', uri: 'mongodb://backup@127.0.0.1:27017/?authSource=admin', database: 'orders' }, schedule: '@daily', destination: { bucket: 'backups' } }] }));
  const root = randomCredentials();
  const result = await runCommand(process.execPath, [holdfastCli, 'server', '--data', join(dir, 'data'), '--config', config, '--listen', '127.0.0.1:0'], {
    env: { PATH: emptyPath, HOLDFAST_ROOT_ACCESS_KEY_ID: root.accessKeyId, HOLDFAST_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey, HOLDFAST_AUDIT_LOG_STREAM: 'none' },
    expectExitCode: 'any',
    timeoutMs: 30_000,
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /jobs\[0\] "orders-mongo"\.source\.kind: a mongodump job runs mongodump, which is not installed on this host \(not on PATH\)\. Fix: install the MongoDB Database Tools \(mongodump, mongorestore\) from https:\/\/www\.mongodb\.com\/try\/download\/database-tools/);
  assert.equal(existsSync(join(dir, 'data')), false, 'nothing was created');
});
