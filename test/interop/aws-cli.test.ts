// Interop: aws-cli v2 (`s3` high-level commands and `s3api`) against a freshly started server.
// /usr/bin/aws is the Debian awscli v2; an older v1 may come first on PATH, so it is named in full.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { MiB, assertTreesEqual, backdateTree, md5File, sha256File, syncTreeLayout, tempDir, writeRandomFile, writeRandomTree } from '../support/file-tree.js';
import { isolatedClientEnv, requireTool, runCommand, type RunOptions } from '../support/tools.js';
import { REGION, startVault } from '../support/vault-server.js';

const AWS = '/usr/bin/aws';
const bucket = 'cli-interop';

void test('aws-cli v2 against a fresh server', { timeout: 300_000 }, async (t) => {
  if (!(await requireTool(t, AWS, ['--version']))) return;
  const vault = await startVault();
  t.after(() => vault.stop());
  const work = await tempDir(t);
  const home = join(work, 'home');
  await mkdir(home);
  const env = isolatedClientEnv(home, {
    AWS_ACCESS_KEY_ID: vault.accessKeyId,
    AWS_SECRET_ACCESS_KEY: vault.secretAccessKey,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    // No silent retries: a flaky answer must fail the test, not be hidden by the client.
    AWS_RETRY_MODE: 'standard',
    AWS_MAX_ATTEMPTS: '1',
  });
  const aws = (args: readonly string[], options: RunOptions = {}) =>
    runCommand(AWS, ['--endpoint-url', vault.endpoint, '--output', 'json', ...args], { env, timeoutMs: 180_000, ...options });
  const s3api = async (args: readonly string[]): Promise<Record<string, unknown>> => {
    const { stdout } = await aws(['s3api', ...args]);
    return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
  };

  await t.test('s3 mb and s3 ls list the bucket', async () => {
    const made = await aws(['s3', 'mb', `s3://${bucket}`]);
    assert.match(made.stdout, new RegExp(`make_bucket: ${bucket}`));
    const listed = await aws(['s3', 'ls']);
    assert.match(listed.stdout, new RegExp(`\\s${bucket}$`, 'm'));
  });

  await t.test('s3 cp of a 20 MiB file goes multipart (8 MiB parts) and copies back byte-exact', async () => {
    const source = join(work, 'big.bin');
    const size = 20 * MiB + 3;
    await writeRandomFile(source, size);
    await aws(['s3', 'cp', source, `s3://${bucket}/big/20MiB.bin`]);
    const head = await s3api(['head-object', '--bucket', bucket, '--key', 'big/20MiB.bin']);
    assert.equal(head.ContentLength, size);
    assert.match(String(head.ETag), /^"[0-9a-f]{32}-3"$/, 'three 8 MiB parts');
    const copy = join(work, 'big-copy.bin');
    await aws(['s3', 'cp', `s3://${bucket}/big/20MiB.bin`, copy]);
    assert.equal(await sha256File(copy), await sha256File(source));
  });

  await t.test('s3 sync up, s3 ls, s3 sync down: trees identical; a second sync uploads nothing', async () => {
    const source = join(work, 'tree');
    const hashes = await writeRandomTree(source, syncTreeLayout(9 * MiB + 1));
    await backdateTree(source);
    const up = await aws(['s3', 'sync', source, `s3://${bucket}/tree/`]);
    assert.equal(up.stdout.match(/^upload: /gm)?.length, hashes.size, up.stdout);

    const recursive = await aws(['s3', 'ls', '--recursive', `s3://${bucket}/tree/`]);
    const listed = new Map(
      recursive.stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          const match = /^\S+ \S+\s+(\d+) (.*)$/.exec(line) ?? assert.fail(`unexpected s3 ls line: ${line}`);
          return [match[2] ?? '', Number(match[1])] as const;
        }),
    );
    const layout = syncTreeLayout(9 * MiB + 1);
    assert.deepEqual(
      new Map([...listed].sort()),
      new Map(Object.entries(layout).map(([path, size]) => [`tree/${path}`, size] as const).sort()),
      'every key with its size, decoded from encoding-type=url',
    );
    const top = await aws(['s3', 'ls', `s3://${bucket}/tree/`]);
    for (const dir of ['a/', 'large/', 'punct/', 'sizes/', 'unicode/', 'with space/']) {
      assert.match(top.stdout, new RegExp(`^\\s*PRE ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    }
    assert.match(top.stdout, /\s123 top\.txt$/m);

    const again = await aws(['s3', 'sync', source, `s3://${bucket}/tree/`]);
    assert.equal(again.stdout.trim(), '', 'nothing to upload: sizes and times in the listing match');

    const down = join(work, 'down');
    await aws(['s3', 'sync', `s3://${bucket}/tree/`, down]);
    await assertTreesEqual(down, hashes);
  });

  await t.test('s3api put-object, head-object, get-object, list-objects-v2, delete-object', async () => {
    const file = join(work, 'api.bin');
    await writeRandomFile(file, 12_345);
    const md5 = await md5File(file);
    const put = await s3api(['put-object', '--bucket', bucket, '--key', 'api/object.bin', '--body', file, '--metadata', 'purpose=interop']);
    assert.equal(put.ETag, `"${md5}"`);
    const head = await s3api(['head-object', '--bucket', bucket, '--key', 'api/object.bin']);
    assert.equal(head.ContentLength, 12_345);
    assert.equal(head.ETag, `"${md5}"`);
    assert.deepEqual(head.Metadata, { purpose: 'interop' });
    const out = join(work, 'api-out.bin');
    const got = await s3api(['get-object', '--bucket', bucket, '--key', 'api/object.bin', out]);
    assert.equal(got.ContentLength, 12_345);
    assert.equal(await sha256File(out), await sha256File(file));
    await s3api(['put-object', '--bucket', bucket, '--key', 'api/second', '--body', file]);
    const listed = await s3api(['list-objects-v2', '--bucket', bucket, '--prefix', 'api/']);
    const contents = listed.Contents as { Key: string; Size: number; ETag: string }[];
    assert.deepEqual(
      contents.map((o) => [o.Key, o.Size, o.ETag]),
      [
        ['api/object.bin', 12_345, `"${md5}"`],
        ['api/second', 12_345, `"${md5}"`],
      ],
    );
    await s3api(['delete-object', '--bucket', bucket, '--key', 'api/object.bin']);
    const gone = await aws(['s3api', 'head-object', '--bucket', bucket, '--key', 'api/object.bin'], { expectExitCode: 254 });
    assert.match(gone.stderr, /\(404\)/);
    const missing = await aws(['s3api', 'get-object', '--bucket', bucket, '--key', 'api/object.bin', out], { expectExitCode: 254 });
    assert.match(missing.stderr, /NoSuchKey/);
    const rest = await s3api(['list-objects-v2', '--bucket', bucket, '--prefix', 'api/']);
    assert.deepEqual((rest.Contents as { Key: string }[]).map((o) => o.Key), ['api/second']);
  });
});
