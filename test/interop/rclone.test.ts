// Interop: rclone (provider=Other: ListObjects v1, path style) against a freshly started server.
// The remote is configured only through RCLONE_CONFIG_<NAME>_* variables, as a user would script it.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  MiB,
  assertTreesEqual,
  backdateTree,
  hashTree,
  syncTreeLayout,
  tempDir,
  writeRandomFile,
  writeRandomTree,
} from '../support/file-tree.js';
import { isolatedClientEnv, requireTool, runCommand } from '../support/tools.js';
import { REGION, startVault } from '../support/vault-server.js';

const bucket = 'rclone-interop';

void test('rclone sync, check and sync back against a fresh server', { timeout: 300_000 }, async (t) => {
  if (!(await requireTool(t, 'rclone', ['version']))) return;
  const vault = await startVault();
  t.after(() => vault.stop());
  const work = await tempDir(t);
  const emptyConfig = join(work, 'rclone.conf');
  await writeFile(emptyConfig, '');
  // isolatedClientEnv drops AWS_CA_BUNDLE / SSL_CERT_FILE: rclone refuses a CA bundle on plain http.
  const env = isolatedClientEnv(join(work, 'home'), {
    RCLONE_CONFIG: emptyConfig,
    RCLONE_CONFIG_HOLDFAST_TYPE: 's3',
    RCLONE_CONFIG_HOLDFAST_PROVIDER: 'Other',
    RCLONE_CONFIG_HOLDFAST_ENV_AUTH: 'false',
    RCLONE_CONFIG_HOLDFAST_ACCESS_KEY_ID: vault.accessKeyId,
    RCLONE_CONFIG_HOLDFAST_SECRET_ACCESS_KEY: vault.secretAccessKey,
    RCLONE_CONFIG_HOLDFAST_ENDPOINT: vault.endpoint,
    RCLONE_CONFIG_HOLDFAST_REGION: REGION,
    RCLONE_CONFIG_HOLDFAST_FORCE_PATH_STYLE: 'true',
  });
  // A 5 MiB cutoff (rclone's default is 200 MiB) so the large file goes multipart; no retries so
  // that a failing request fails the test.
  const common = ['--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', '--retries', '1', '--low-level-retries', '1'];
  const rclone = (args: readonly string[]) => runCommand('rclone', [...args, ...common], { env, timeoutMs: 180_000 });
  const remote = `holdfast:${bucket}/tree`;

  const source = join(work, 'tree');
  const layout = { ...syncTreeLayout(), 'large/multipart.bin': 12 * MiB + 1 };

  await t.test('mkdir and sync a tree up', async () => {
    await writeRandomTree(source, layout);
    await backdateTree(source);
    await rclone(['mkdir', `holdfast:${bucket}`]);
    await rclone(['sync', source, remote]);
    const listed = await rclone(['lsf', '-R', '--files-only', '--format', 'ps', '--separator', '\t', remote]);
    const entries = listed.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t'))
      .map(([path, size]) => [path ?? '', Number(size)] as const);
    assert.deepEqual(new Map(entries.sort()), new Map(Object.entries(layout).sort()));
  });

  await t.test('check finds no differences (by hash, then by downloading)', async () => {
    const byHash = await rclone(['check', source, remote]);
    assert.match(byHash.stderr, /0 differences found/);
    assert.doesNotMatch(byHash.stderr, /hashes could not be checked/, 'MD5 available for every object');
    const byBytes = await rclone(['check', '--download', source, remote]);
    assert.match(byBytes.stderr, /0 differences found/);
  });

  await t.test('sync back down is byte-exact', async () => {
    const down = join(work, 'down');
    await rclone(['sync', remote, down]);
    await assertTreesEqual(down, source);
  });

  await t.test('a changed and a deleted file propagate; check still clean', async () => {
    await writeRandomFile(join(source, 'top.txt'), 4_321);
    await rm(join(source, 'a', 'b', 'c', 'deep.dat'));
    await rclone(['sync', source, remote]);
    const check = await rclone(['check', '--download', source, remote]);
    assert.match(check.stderr, /0 differences found/);
    const down = join(work, 'down-again');
    await rclone(['sync', remote, down]);
    await assertTreesEqual(down, await hashTree(source));
  });
});
