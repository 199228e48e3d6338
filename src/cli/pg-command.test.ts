import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, type S3Client as SdkClient } from '@aws-sdk/client-s3';
import { clientFor, rootKey } from '../../test/support/admin-cli.js';
import { type RunningVault, startVault } from '../../test/support/vault-server.js';
import { systemClock } from '../infra/clock.js';
import { EXIT_RESTORE_FAILED, runPgCommand } from './pg-command.js';

/** `holdfast pg …` in-process: arguments, environment, exit codes, messages (vault: `npm run build` first). */

let vault: RunningVault;
let sdk: SdkClient;
let dir: string;

before(async () => {
  vault = await startVault();
  sdk = clientFor(vault, rootKey(vault));
  await sdk.send(new CreateBucketCommand({ Bucket: 'pg-archive' }));
  dir = await mkdtemp(join(tmpdir(), 'holdfast-pg-command-'));
});

after(async () => {
  sdk?.destroy();
  await vault?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const code = await runPgCommand(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, clock: systemClock });
  return { code, stdout, stderr };
}

function vaultEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: dir, AWS_ACCESS_KEY_ID: vault.accessKeyId, AWS_SECRET_ACCESS_KEY: vault.secretAccessKey, HOLDFAST_ENDPOINT: vault.endpoint, HOLDFAST_REPO: 's3://pg-archive/cli', ...extra };
}

async function walFile(subdir: string, name: string, bytes: Uint8Array): Promise<string> {
  await mkdir(join(dir, subdir), { recursive: true });
  await writeFile(join(dir, subdir, name), bytes);
  return join(dir, subdir, name);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('holdfast pg', { timeout: 120_000 }, () => {
  test('usage: help is 0; no verb, an unknown verb, missing arguments are 2 with the usage', async () => {
    assert.equal((await run(['help'], {})).code, 0);
    const none = await run([], {});
    assert.equal(none.code, 2);
    assert.match(none.stdout, /archive_command = 'holdfast pg wal-push %p/);
    const unknown = await run(['restore-everything'], {});
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "pg restore-everything"/);
    const noPath = await run(['wal-push', '--repo', 's3://pg-archive/x', '--endpoint', 'http://127.0.0.1:1'], {});
    assert.equal(noPath.code, 2);
    assert.match(noPath.stderr, /wal-push takes one PATH/);
    // wal-fetch is restore_command: a usage error must stop recovery (> 125), not read as "missing".
    assert.equal((await run(['wal-fetch', '000000010000000000000001', '--repo', 's3://pg-archive/x', '--endpoint', 'http://127.0.0.1:1'], {})).code, EXIT_RESTORE_FAILED);
    assert.equal((await run(['wal-push', 'x', '--bogus'], {})).code, 2);
  });

  test('configuration problems are 2 and name the fix: repository, endpoint, credentials, retention, WAL name', async () => {
    const path = await walFile('cfg', '000000010000000000000001', Buffer.from('x'));
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['wal-push', path], { HOLDFAST_ENDPOINT: vault.endpoint }, /pass --repo s3:\/\/BUCKET\/PREFIX or set HOLDFAST_REPO/],
      [['wal-push', path, '--repo', 'pg/x'], { HOLDFAST_ENDPOINT: vault.endpoint }, /not an s3:\/\/BUCKET\/PREFIX URL/],
      [['wal-push', path], { HOLDFAST_REPO: 's3://pg-archive/x' }, /pass --endpoint URL .* or set HOLDFAST_ENDPOINT/],
      [['wal-push', path, '--endpoint', 'ftp://x'], { HOLDFAST_REPO: 's3://pg-archive/x' }, /must start with http:\/\/ or https:\/\//],
      [['wal-push', path], { HOME: dir, HOLDFAST_REPO: 's3://pg-archive/x', HOLDFAST_ENDPOINT: vault.endpoint }, /No S3 credentials: .*Export the backup-writer key as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/],
      [['wal-push', path, '--retain-days', 'ten'], vaultEnv(), /--retain-days takes a whole number/],
      [['wal-push', await walFile('cfg', 'postgresql.conf', Buffer.from('x'))], vaultEnv(), /"postgresql.conf" is not a WAL file name/],
      [['wal-fetch', 'RECOVERYXLOG', join(dir, 'out')], vaultEnv(), /"RECOVERYXLOG" is not a WAL file name/],
    ];
    for (const [args, env, message] of cases) {
      const result = await run(args, env);
      assert.equal(result.code, args[0] === 'wal-fetch' ? EXIT_RESTORE_FAILED : 2, `${args.join(' ')}\n${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  test('wal-push then wal-fetch with --json; a re-push succeeds; the repository and endpoint come from the environment', async () => {
    const bytes = Buffer.concat([randomBytes(4096), Buffer.alloc(1024 * 1024)]);
    const path = await walFile('pg_wal', '000000010000000000000001', bytes);
    const pushed = await run(['wal-push', path, '--json'], vaultEnv());
    assert.equal(pushed.code, 0, pushed.stderr);
    const result = JSON.parse(pushed.stdout) as Record<string, unknown>;
    assert.equal(result['outcome'], 'archived');
    assert.equal(result['key'], 'cli/wal/00000001/000000010000000000000001');
    assert.equal(result['sha256'], sha256(bytes));
    assert.equal(result['retainUntil'], null);
    assert.match(pushed.stderr, /warning: 000000010000000000000001 is archived without retention/, 'an unlocked archive is called out');

    const again = await run(['wal-push', path, '--json'], vaultEnv());
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as Record<string, unknown>)['outcome'], 'already-archived');

    const destination = join(dir, 'pg_wal', 'RECOVERYXLOG');
    const fetched = await run(['wal-fetch', '000000010000000000000001', destination, '--json'], vaultEnv());
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal(fetched.stderr, '');
    assert.ok((await readFile(destination)).equals(bytes));
  });

  test('wal-fetch of a name not in the archive exits 1 and says nothing', async () => {
    const restoreDir = join(dir, 'restore-missing');
    await mkdir(restoreDir);
    const missing = await run(['wal-fetch', '00000009.history', join(restoreDir, 'RECOVERYHISTORY')], vaultEnv());
    assert.deepEqual(missing, { code: 1, stdout: '', stderr: '' });
    assert.deepEqual(await readdir(restoreDir), []);
    // Any other failure — here a key the vault does not know — must stop recovery, not end it.
    const refused = await run(['wal-fetch', '000000010000000000000001', join(restoreDir, 'RECOVERYXLOG')], vaultEnv({ AWS_ACCESS_KEY_ID: 'HFNOSUCHKEY000000000' }));
    assert.equal(refused.code, EXIT_RESTORE_FAILED);
    assert.match(refused.stderr, /InvalidAccessKeyId/);
    assert.deepEqual(await readdir(restoreDir), []);
  });

  test('a different file under an archived name exits 1, naming the segment and both checksums', async () => {
    const first = randomBytes(2048);
    const second = randomBytes(2048);
    assert.equal((await run(['wal-push', await walFile('one', '000000010000000000000002', first)], vaultEnv())).code, 0);
    const refused = await run(['wal-push', await walFile('two', '000000010000000000000002', second), '--json'], vaultEnv());
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`refusing to overwrite 000000010000000000000002 in s3://pg-archive/cli: .*archived sha256 ${sha256(first)}, this file sha256 ${sha256(second)}`));
    assert.equal((JSON.parse(refused.stdout) as { error: { kind: string } }).error.kind, 'conflict');
  });

  test('refusals and unreachable endpoints exit 1 with the likely fix, and never print the secret', async () => {
    const path = await walFile('errors', '000000010000000000000003', randomBytes(100));
    const noBucket = await run(['wal-push', path, '--repo', 's3://no-such-bucket/x'], vaultEnv());
    assert.equal(noBucket.code, 1);
    assert.match(noBucket.stderr, /NoSuchBucket .*Create the bucket/);
    const wrongSecret = await run(['wal-push', path], vaultEnv({ AWS_SECRET_ACCESS_KEY: 'NotTheSecret0NotTheSecret0NotTheSecret00' }));
    assert.equal(wrongSecret.code, 1);
    assert.match(wrongSecret.stderr, /SignatureDoesNotMatch .*Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    assert.ok(!wrongSecret.stderr.includes('NotTheSecret0'));

    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const unreachable = await run(['wal-push', path, '--endpoint', `http://127.0.0.1:${closedPort}`], vaultEnv());
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /ECONNREFUSED.*Is the S3 endpoint running/);
    for (const result of [noBucket, wrongSecret, unreachable]) assert.ok(!result.stderr.includes(vault.secretAccessKey));
  });
});
