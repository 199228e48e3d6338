// Interop: s3cmd against a freshly started server. s3cmd lists with ListObjects v1, calls
// GetBucketLocation, and compares the ETag of every single-part upload with the file's MD5.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  MiB,
  assertTreesEqual,
  backdateTree,
  md5File,
  sha256File,
  syncTreeLayout,
  tempDir,
  writeRandomFile,
  writeRandomTree,
} from '../support/file-tree.js';
import { isolatedClientEnv, requireTool, runCommand, type RunOptions } from '../support/tools.js';
import { REGION, startVault } from '../support/vault-server.js';

const bucket = 's3cmd-interop';
const md5Complaint = /MD5 (signatures|sums) do(n't| not) match/i;

void test('s3cmd against a fresh server', { timeout: 300_000 }, async (t) => {
  if (!(await requireTool(t, 's3cmd', ['--version']))) return;
  const vault = await startVault();
  t.after(() => vault.stop());
  const work = await tempDir(t);
  const home = join(work, 'home');
  await mkdir(home);
  const hostPort = new URL(vault.endpoint).host;
  const config = join(work, 's3cfg');
  // host_bucket without %(bucket)s selects path-style addressing.
  await writeFile(
    config,
    [
      '[default]',
      `access_key = ${vault.accessKeyId}`,
      `secret_key = ${vault.secretAccessKey}`,
      `host_base = ${hostPort}`,
      `host_bucket = ${hostPort}`,
      'use_https = False',
      'signature_v2 = False',
      `bucket_location = ${REGION}`,
      'multipart_chunk_size_mb = 15',
      'progress_meter = False',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const env = isolatedClientEnv(home);
  const s3cmd = async (args: readonly string[], options: RunOptions = {}) => {
    const result = await runCommand('s3cmd', ['-c', config, ...args], { env, timeoutMs: 180_000, ...options });
    assert.doesNotMatch(result.stdout + result.stderr, md5Complaint, 'ETag of a single-part upload must be its MD5');
    return result;
  };
  /** `s3cmd ls -r --list-md5` as key → [size, md5 column (the ETag)]. */
  const listRecursive = async (prefix: string) => {
    const { stdout } = await s3cmd(['ls', '-r', '--list-md5', `s3://${bucket}/${prefix}`]);
    const listed = new Map<string, [number, string]>();
    for (const line of stdout.split('\n').filter((l) => l.trim() !== '')) {
      const match =
        /^\S+ \S+\s+(\d+)\s+(\S+)\s+s3:\/\/[^/]+\/(.*)$/.exec(line) ?? assert.fail(`unexpected s3cmd ls line: ${line}`);
      listed.set(match[3] ?? '', [Number(match[1]), match[2] ?? '']);
    }
    return listed;
  };

  await t.test('mb', async () => {
    const made = await s3cmd(['mb', `s3://${bucket}`]);
    assert.match(made.stdout, new RegExp(`Bucket 's3://${bucket}/' created`));
    const buckets = await s3cmd(['ls']);
    assert.match(buckets.stdout, new RegExp(`s3://${bucket}$`, 'm'));
  });

  await t.test('put (ETag is the MD5), get, ls --list-md5', async () => {
    const expected = new Map<string, [number, string]>();
    for (const size of [0, 1, 100_003]) {
      const file = join(work, `small-${size}.bin`);
      await writeRandomFile(file, size);
      // s3cmd itself compares the returned ETag with the MD5 (see md5Complaint).
      await s3cmd(['put', file, `s3://${bucket}/small/${size}.bin`]);
      const copy = join(work, `small-${size}.copy`);
      await s3cmd(['get', `s3://${bucket}/small/${size}.bin`, copy]);
      assert.equal(await sha256File(copy), await sha256File(file));
      expected.set(`small/${size}.bin`, [size, await md5File(file)]);
    }
    assert.deepEqual(await listRecursive('small/'), expected);
  });

  await t.test('put of 20 MiB goes multipart (15 MiB chunks) and gets back byte-exact', async () => {
    const file = join(work, 'big.bin');
    await writeRandomFile(file, 20 * MiB + 5);
    // --progress is what makes s3cmd name the parts it sends.
    const put = await s3cmd(['put', '--progress', file, `s3://${bucket}/big/20MiB.bin`]);
    assert.match(put.stdout, /\[part 1 of 2, 15MB\]/);
    assert.match(put.stdout, /\[part 2 of 2, 5MB\]/);
    const listed = await listRecursive('big/');
    assert.equal(listed.get('big/20MiB.bin')?.[0], 20 * MiB + 5);
    const copy = join(work, 'big.copy');
    await s3cmd(['get', `s3://${bucket}/big/20MiB.bin`, copy]);
    assert.equal(await sha256File(copy), await sha256File(file));
  });

  await t.test('sync a tree up and back down: identical; ls lists every key with its size', async () => {
    const source = join(work, 'tree');
    const hashes = await writeRandomTree(source, syncTreeLayout());
    await backdateTree(source);
    await s3cmd(['sync', `${source}/`, `s3://${bucket}/tree/`]);
    const listed = [...(await listRecursive('tree/'))].map(([key, [size]]) => [key, size] as const);
    assert.deepEqual(
      new Map(listed.sort()),
      new Map(Object.entries(syncTreeLayout()).map(([path, size]) => [`tree/${path}`, size] as const).sort()),
    );
    const down = join(work, 'down');
    await mkdir(down);
    await s3cmd(['sync', `s3://${bucket}/tree/`, `${down}/`]);
    await assertTreesEqual(down, hashes);
  });

  await t.test('del removes the object', async () => {
    await s3cmd(['del', `s3://${bucket}/small/1.bin`]);
    const listed = await listRecursive('small/');
    assert.deepEqual([...listed.keys()].sort(), ['small/0.bin', 'small/100003.bin']);
    const missing = await s3cmd(['get', `s3://${bucket}/small/1.bin`, join(work, 'gone')], { expectExitCode: 'any' });
    assert.notEqual(missing.code, 0, 'get of a deleted object fails');
    assert.match(missing.stderr, /404|NoSuchKey|does not exist/i);
  });
});
