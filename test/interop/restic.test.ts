// Interop: restic (minio-go; over plain http its PUTs are STREAMING-AWS4-HMAC-SHA256-PAYLOAD with
// Content-MD5) against a freshly started server: init, backup, check --read-data, restore, diff.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { KiB, MiB, assertTreesEqual, edgeSizes, hashTree, tempDir, writeRandomFile, writeRandomTree } from '../support/file-tree.js';
import { isolatedClientEnv, requireTool, runCommand } from '../support/tools.js';
import { startVault } from '../support/vault-server.js';

const bucket = 'restic-interop';

void test('restic init, backup, check --read-data, restore, forget --prune against a fresh server', { timeout: 480_000 }, async (t) => {
  if (!(await requireTool(t, 'restic', ['version']))) return;
  const vault = await startVault();
  t.after(() => vault.stop());
  const work = await tempDir(t);
  const env = isolatedClientEnv(join(work, 'home'), {
    RESTIC_REPOSITORY: `s3:${vault.endpoint}/${bucket}`,
    RESTIC_PASSWORD: randomBytes(24).toString('base64url'),
    RESTIC_CACHE_DIR: join(work, 'cache'),
    AWS_ACCESS_KEY_ID: vault.accessKeyId,
    AWS_SECRET_ACCESS_KEY: vault.secretAccessKey,
  });
  const restic = (args: readonly string[]) => runCommand('restic', args, { env, timeoutMs: 300_000 });

  // Many small files (restic packs them together) and a few large ones (split into many blobs).
  const source = join(work, 'source');
  const layout: Record<string, number> = {};
  for (let i = 0; i < 400; i++) layout[`small/${i % 20}/file-${i}.bin`] = (i * 7_919) % (16 * KiB);
  edgeSizes.forEach((size, index) => {
    layout[`edge/${index}.bin`] = size;
  });
  Object.assign(layout, { 'large/a.bin': 20 * MiB + 11, 'large/b.bin': 9 * MiB + 1, 'large/c.bin': 5 * MiB });

  const snapshotCount = async () => {
    const { stdout } = await restic(['snapshots', '--json']);
    return (JSON.parse(stdout) as unknown[]).length;
  };
  const restoreAndCompare = async (target: string) => {
    await restic(['restore', 'latest', '--target', target]);
    // restic restores a snapshot under its absolute source path.
    await assertTreesEqual(join(target, source), await hashTree(source));
  };

  await t.test('init creates the repository (and the bucket)', async () => {
    const init = await restic(['init']);
    assert.match(init.stdout, /created restic repository/);
  });

  await t.test('backup, then check --read-data reads every pack back', async () => {
    await writeRandomTree(source, layout);
    const backup = await restic(['backup', source]);
    assert.match(backup.stdout, /snapshot [0-9a-f]+ saved/);
    assert.equal(await snapshotCount(), 1);
    const check = await restic(['check', '--read-data']);
    assert.match(check.stdout, /no errors were found/);
  });

  await t.test('restore is byte-exact', async () => {
    await restoreAndCompare(join(work, 'restore-1'));
  });

  await t.test('second backup of a changed tree, forget --prune deletes packs, restore still exact', async () => {
    for (let i = 0; i < 400; i += 3) await rm(join(source, `small/${i % 20}/file-${i}.bin`));
    await rm(join(source, 'large', 'a.bin'));
    await writeRandomFile(join(source, 'large', 'new.bin'), 7 * MiB + 3);
    await writeRandomFile(join(source, 'small', 'added.bin'), 333);
    await restic(['backup', source]);
    assert.equal(await snapshotCount(), 2);
    const prune = await restic(['forget', '--keep-last', '1', '--prune']);
    assert.match(prune.stdout, /remove 1 snapshots|removed 1 snapshots|1 snapshots have been removed/i);
    assert.equal(await snapshotCount(), 1);
    const check = await restic(['check', '--read-data']);
    assert.match(check.stdout, /no errors were found/);
    await restoreAndCompare(join(work, 'restore-2'));
  });
});
