import assert from 'node:assert/strict';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type KeyPair, clientFor, createIdentityWithKey, holdfastCli, rootKey } from '../support/admin-cli.js';
import { requireTool, runCommand, type RunResult } from '../support/tools.js';
import { type RunningVault, startVault } from '../support/vault-server.js';
import { switchAndArchive, waitPromoted } from './pg-test-kit.js';
import { makeRestoreBase, PG_BIN, startRestoredCluster, startThrowawayCluster, type ThrowawayCluster } from './throwaway-cluster.js';

/**
 * Client-side encryption end to end: a cluster archives and backs up with
 * --encryption-key-file; nothing the vault stores opens or decompresses without the key (a
 * marker written into the database appears in no stored object); restore with the key gives the
 * exact data back; a wrong key or none is refused naming the key ids; verify checks everything
 * with the key and the stored checksums without it.
 */

const cli = process.env['HOLDFAST_TEST_SERVER_ENTRY'] ?? holdfastCli;
const BUCKET = 'pg-sealed';
const MARKER = 'holdfast-plaintext-marker-7d1f';

let vault: RunningVault | undefined;
const clusters: ThrowawayCluster[] = [];
const dirs: string[] = [];
after(async () => {
  for (const c of clusters) await c.stop().catch(() => undefined);
  await vault?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('an encrypted repository: sealed at rest, restored exactly with the key, refused without it', { timeout: 180_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'initdb'), ['--version'], 'postgresql-15'))) return;
  vault = await startVault();
  const root = rootKey(vault);
  const sdk = clientFor(vault, root);
  t.after(() => sdk.destroy());
  await sdk.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const writer: KeyPair = await createIdentityWithKey(vault, root, 'sealed-writer', ['backup-writer'], ['--service']);

  // Keys live where the postgres OS user can read them, away from the data.
  const keys = await makeRestoreBase();
  dirs.push(keys);
  const keyFile = join(keys, 'repo.key');
  const otherKey = join(keys, 'other.key');
  const home = await mkdtemp(join(tmpdir(), 'holdfast-sealed-home-'));
  dirs.push(home);
  const run = (args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> =>
    runCommand(process.execPath, [cli, 'pg', ...args], {
      env: { PATH: process.env['PATH'], HOME: home, AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey, ...env },
      expectExitCode: 'any',
      timeoutMs: 120_000,
    });
  const generated = await run(['keygen', '--out', keyFile, '--json']);
  assert.equal(generated.code, 0, generated.stderr);
  const keyId = (JSON.parse(generated.stdout) as { keyId: string }).keyId;
  assert.equal((await run(['keygen', '--out', keyFile])).code, 2, 'keygen never overwrites a key');
  assert.equal((await run(['keygen', '--out', otherKey])).code, 0);
  if (process.getuid?.() === 0) {
    const uid = Number((await runCommand('id', ['-u', 'postgres'])).stdout.trim());
    for (const f of [keyFile, otherKey]) await chown(f, uid, uid);
  }
  await chmod(keyFile, 0o600);

  const repo = ['--repo', `s3://${BUCKET}/db`, '--endpoint', vault.endpoint];
  const sealed = ['--encryption-key-file', keyFile];
  const archiveCommand = `'${process.execPath}' '${cli}' pg wal-push %p ${[...repo, ...sealed].join(' ')}`;
  const source = await startThrowawayCluster({
    settings: { archive_mode: 'on', archive_command: archiveCommand, wal_level: 'replica' },
    env: { AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey },
  });
  clusters.push(source);
  await source.query('CREATE TABLE secrets (id int PRIMARY KEY, note text)');
  await source.query(`INSERT INTO secrets SELECT g, '${MARKER}-' || g FROM generate_series(1, 2000) g`);
  const pgEnv = { PGHOST: '127.0.0.1', PGPORT: String(source.port), PGUSER: 'postgres', PGDATABASE: 'postgres' };
  const backup = await run(['backup', '--json', '--part-mib', '1', ...sealed, ...repo], pgEnv);
  assert.equal(backup.code, 0, `${backup.stderr}\n${source.output().slice(-2000)}`);
  const manifest = JSON.parse(backup.stdout) as { encryption?: { keyId: string } };
  assert.deepEqual(manifest.encryption, { algorithm: 'aes-256-gcm', keyId });
  await source.query(`INSERT INTO secrets SELECT g, '${MARKER}-late-' || g FROM generate_series(2001, 2500) g`);
  const [expected] = await source.query<{ digest: string }>("SELECT md5(string_agg(id || note, ',' ORDER BY id)) AS digest FROM secrets");
  await switchAndArchive(source);
  await source.stop();

  // At rest: every stored object is sealed — it neither decompresses nor contains the marker.
  const listed = await sdk.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'db/' }));
  let checked = 0;
  for (const object of listed.Contents ?? []) {
    if (object.Key!.endsWith('manifest.json')) continue;
    const got = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: object.Key! }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(bytes.subarray(0, 4).toString('ascii'), 'HFE1', `${object.Key} is sealed`);
    assert.equal(bytes.indexOf(MARKER), -1, `${object.Key} does not contain the plaintext`);
    assert.throws(() => gunzipSync(bytes), `${object.Key} is not a readable gzip stream`);
    checked += 1;
  }
  assert.ok(checked >= 4, `parts and WAL checked (${checked})`);

  // Without the key, with the wrong key: refused before anything is written, naming the ids.
  const noKey = await run(['restore', '--into', join(home, 'nokey'), ...repo]);
  assert.equal(noKey.code, 2, noKey.stderr);
  assert.match(noKey.stderr, new RegExp(`is encrypted \\(key ${keyId}\\): pass --encryption-key-file`));
  const wrong = await run(['restore', '--into', join(home, 'wrong'), '--encryption-key-file', otherKey, ...repo]);
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, new RegExp(`encrypted with key ${keyId}, but the key given is`));

  // verify: everything opens with the key; without it, only the stored checksums are checked.
  const verified = await run(['verify', '--json', ...sealed, ...repo]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.equal((JSON.parse(verified.stdout) as { notDecrypted: number }).notDecrypted, 0);
  const blind = await run(['verify', '--json', ...repo]);
  assert.equal(blind.code, 0, blind.stdout);
  assert.ok((JSON.parse(blind.stdout) as { notDecrypted: number }).notDecrypted > 0);

  // Restore with the key: restore_command carries the key file's path (not the key); exact data.
  const base = await makeRestoreBase();
  dirs.push(base);
  const restored = await run(['restore', '--into', join(base, 'data'), ...sealed, ...repo]);
  assert.equal(restored.code, 0, restored.stderr);
  const copy = await startRestoredCluster(base, { env: { AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey }, startTimeoutMs: 90_000 });
  clusters.push(copy);
  await waitPromoted(copy);
  const [actual] = await copy.query<{ digest: string }>("SELECT md5(string_agg(id || note, ',' ORDER BY id)) AS digest FROM secrets");
  assert.equal(actual!.digest, expected!.digest, 'the restored table is exactly the source, including WAL after the backup');
});
