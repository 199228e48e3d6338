import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { Secret } from '../../src/domain/secret.js';
import { S3Client } from '../../src/infra/s3-client/s3-client.js';
import { S3RequestError } from '../../src/infra/s3-client/s3-client-errors.js';
import { type KeyPair, clientFor, createIdentityWithKey, holdfastCli, rootKey } from '../support/admin-cli.js';
import { requireTool, runCommand, type RunResult } from '../support/tools.js';
import { type RunningVault, startVault } from '../support/vault-server.js';
import { PG_BIN, startThrowawayCluster, type ThrowawayCluster } from './throwaway-cluster.js';
import { waitUntil } from '../support/wait-until.js';
import { Teardown } from '../support/teardown.js';

/**
 * `holdfast pg wal-push` as the archive_command of a real PostgreSQL 15 cluster, into an
 * object-locked vault bucket, with a backup-writer key; then `wal-fetch` and the refusals.
 */

/** The built CLI (HOLDFAST_TEST_SERVER_ENTRY points the suite at another build, as for the server). */
const cli = process.env['HOLDFAST_TEST_SERVER_ENTRY'] ?? holdfastCli;
const BUCKET = 'pg-wal';
const PREFIX = 'wal-test';
const SEGMENT_BYTES = 16 * 1024 * 1024;

let vault: RunningVault | undefined;
let cluster: ThrowawayCluster | undefined;
let scratch: string | undefined;
const teardown = new Teardown();
after(() => teardown.run());

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function pgCommand(key: KeyPair, endpoint: string, args: readonly string[]): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: scratch, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey };
  return runCommand(process.execPath, [cli, 'pg', ...args, '--repo', `s3://${BUCKET}/${PREFIX}`, '--endpoint', endpoint], { env, expectExitCode: 'any', timeoutMs: 30_000 });
}

async function waitForArchived(c: ThrowawayCluster, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await c.query<{ last_archived_wal: string | null; failed_count: string; last_failed_wal: string | null }>(
      'SELECT last_archived_wal, failed_count, last_failed_wal FROM pg_stat_archiver',
    );
    if (row !== undefined && row.last_archived_wal !== null && row.last_archived_wal >= name) return;
    if (Date.now() > deadline) throw new Error(`${name} not archived within ${timeoutMs} ms (pg_stat_archiver: ${JSON.stringify(row)})\n${c.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('PostgreSQL 15 archives WAL into an object-locked vault bucket with holdfast pg wal-push', { timeout: 120_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'initdb'), ['--version'], 'postgresql-15'))) return;
  const started = performance.now();
  const help = await runCommand(process.execPath, [cli, 'pg', 'help'], { expectExitCode: 'any' });
  assert.equal(help.code, 0, `${cli} does not know \`holdfast pg\` (is it dispatched in src/cli/main.ts?)\n${help.stderr}`);
  scratch = await mkdtemp(join(tmpdir(), 'holdfast-pg-scratch-'));
  teardown.removeDir(scratch);
  vault = await startVault();
  const running = vault;
  teardown.add(() => running.stop());
  const root = rootKey(vault);
  const sdk = clientFor(vault, root);
  teardown.add(() => sdk.destroy());
  await sdk.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
  await sdk.send(
    new PutObjectLockConfigurationCommand({
      Bucket: BUCKET,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } },
    }),
  );
  const writer = await createIdentityWithKey(vault, root, 'pg-archiver', ['backup-writer'], ['--service']);
  const s3 = new S3Client({
    endpoint: new URL(vault.endpoint),
    region: 'us-east-1',
    credentials: { accessKeyId: writer.accessKeyId, secretAccessKey: new Secret(writer.secretAccessKey), source: 'test' },
  });
  teardown.add(() => s3.close());

  const archiveCommand = `'${process.execPath}' '${cli}' pg wal-push %p --repo s3://${BUCKET}/${PREFIX} --endpoint ${vault.endpoint} --json`;
  cluster = await startThrowawayCluster({
    settings: { archive_mode: 'on', archive_command: archiveCommand, archive_timeout: '60s', wal_level: 'replica' },
    // The archiver's credentials: the backup-writer key, as a database host would have it.
    env: { AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey, AWS_REGION: 'us-east-1' },
  });
  const pg = cluster;
  teardown.add(() => pg.stop());
  t.diagnostic(`vault and cluster up in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  // Writes between switches, so that every pg_switch_wal() closes a segment with records in it.
  await pg.query('CREATE TABLE readings (id bigint PRIMARY KEY, taken_at timestamptz NOT NULL, note text NOT NULL)');
  const switched: string[] = [];
  for (let round = 0; round < 3; round++) {
    await pg.query(`INSERT INTO readings SELECT g, now(), repeat(md5(g::text), 3) FROM generate_series($1::bigint * 1000 + 1, $1::bigint * 1000 + 1000) g`, [round]);
    const [row] = await pg.query<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name');
    switched.push(row!.name);
  }
  // A bulk load fills whole segments with real records (full-page images, heap and index tuples).
  await pg.query(`INSERT INTO readings SELECT g, now(), repeat(md5(g::text), 3) FROM generate_series(100001, 250000) g`);
  const [bulk] = await pg.query<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name');
  switched.push(bulk!.name);
  const last = switched[switched.length - 1]!;
  await waitForArchived(pg, last, 60_000);

  const archived = [];
  for await (const object of s3.listObjects({ bucket: BUCKET, prefix: `${PREFIX}/wal/00000001/` })) archived.push(object);
  const archivedNames = archived.map((o) => o.key.slice(`${PREFIX}/wal/00000001/`.length));
  for (const name of switched) assert.ok(archivedNames.includes(name), `${name} is in the vault (listed: ${archivedNames.join(', ')})`);
  const [stats] = await pg.query<{ archived_count: string; failed_count: string }>('SELECT archived_count, failed_count FROM pg_stat_archiver');
  assert.equal(stats!.failed_count, '0', pg.output());
  assert.equal(archived.length, Number(stats!.archived_count), 'one object per archived segment, nothing else');

  // What the archive_command reported (its --json lines land in the server's output).
  const pushes = pg
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{"outcome"'))
    .map((line) => JSON.parse(line) as { name: string; size: number; storedSize: number; durationMs: number; retainUntil: string | null });
  assert.equal(pushes.length, archived.length);
  for (const push of pushes) {
    assert.equal(push.size, SEGMENT_BYTES);
    assert.ok(push.retainUntil !== null, `${push.name} is under the bucket's compliance retention`);
    t.diagnostic(`archived ${push.name}: ${push.size} → ${push.storedSize} bytes (${((100 * push.storedSize) / push.size).toFixed(1)} %) in ${push.durationMs} ms inside wal-push`);
  }

  await t.test('wal-fetch returns the segment byte for byte as PostgreSQL archived it', async () => {
    const name = switched[1]!;
    const inPgWal = join(pg.dataDir, 'pg_wal', name);
    assert.ok(existsSync(inPgWal), `${name} is still in pg_wal (no checkpoint has recycled it)`);
    const original = await readFile(inPgWal);
    const destination = join(scratch!, 'RECOVERYXLOG');
    const fetched = await pgCommand(writer, vault!.endpoint, ['wal-fetch', name, destination]);
    assert.equal(fetched.code, 0, fetched.stderr);
    const restored = await readFile(destination);
    assert.equal(sha256(restored), sha256(original));
    assert.ok(restored.equals(original));
    const head = await s3.headObject({ bucket: BUCKET, key: `${PREFIX}/wal/00000001/${name}` }, { checksumMode: true });
    const [system] = await pg.query<{ system_identifier: string }>('SELECT system_identifier::text FROM pg_control_system()');
    assert.equal(head.metadata['holdfast-pg-system-id'], system!.system_identifier, 'the segment is tied to the cluster that wrote it');
    assert.equal(head.checksum?.algorithm, 'SHA256');
  });

  await t.test('re-pushing an archived segment succeeds; a different file under its name is refused', async () => {
    const name = switched[2]!;
    const inPgWal = join(pg.dataDir, 'pg_wal', name);
    const again = await pgCommand(writer, vault!.endpoint, ['wal-push', inPgWal, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { outcome: string }).outcome, 'already-archived');

    const original = await readFile(inPgWal);
    const altered = Buffer.from(original);
    altered.writeUInt8(altered.readUInt8(altered.length - 1) ^ 0xff, altered.length - 1);
    const alteredPath = join(scratch!, name);
    await writeFile(alteredPath, altered);
    const refused = await pgCommand(writer, vault!.endpoint, ['wal-push', alteredPath]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.ok(refused.stderr.includes(`refusing to overwrite ${name}`), refused.stderr);
    assert.ok(refused.stderr.includes(`archived sha256 ${sha256(original)}`), refused.stderr);
    assert.ok(refused.stderr.includes(`this file sha256 ${sha256(altered)}`), refused.stderr);
    // The vault saw a create-only write of a different file under an archived name: alerted,
    // once (the identical re-push above raised nothing).
    await waitUntil('the wal-archive-conflict alert', () => /"rule":"wal-archive-conflict"/.test(vault!.output()), 15_000);
    const conflicts = vault!.output().split('\n').filter((line) => line.includes('"rule":"wal-archive-conflict"'));
    assert.equal(conflicts.length, 1, conflicts.join('\n'));
    assert.ok(conflicts[0]!.includes(`refused write sha256 ${sha256(altered)}`), conflicts[0]);
  });

  await t.test('wal-fetch of a segment that was never archived exits 1 quietly', async () => {
    const missing = await pgCommand(writer, vault!.endpoint, ['wal-fetch', '0000000100000000000000FF', join(scratch!, 'never')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, '');
    assert.equal(existsSync(join(scratch!, 'never')), false);
  });

  await t.test('the backup-writer key cannot delete an archived segment (AccessDenied)', async () => {
    const key = `${PREFIX}/wal/00000001/${switched[0]!}`;
    const head = await s3.headObject({ bucket: BUCKET, key });
    assert.ok(head.versionId !== undefined);
    for (const address of [{ bucket: BUCKET, key }, { bucket: BUCKET, key, versionId: head.versionId }]) {
      await assert.rejects(s3.deleteObject(address), (e: unknown) => e instanceof S3RequestError && e.code === 'AccessDenied' && e.status === 403);
    }
    const still = await s3.headObject({ bucket: BUCKET, key });
    assert.equal(still.versionId, head.versionId);
  });

  await t.test('the backup-writer key cannot shorten retention or rewrite history: a version written over a segment is ignored by restores and named by verify', async () => {
    const name = switched[1]!;
    const key = `${PREFIX}/wal/00000001/${name}`;
    const head = await s3.headObject({ bucket: BUCKET, key });
    // Shortening the compliance retention (to one minute from now) is refused.
    const writerSdk = clientFor(vault!, writer);
    try {
      await assert.rejects(
        writerSdk.send(new PutObjectRetentionCommand({ Bucket: BUCKET, Key: key, VersionId: head.versionId!, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 60_000) } })),
        (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403,
      );
    } finally {
      writerSdk.destroy();
    }
    assert.equal((await s3.headObject({ bucket: BUCKET, key })).objectLock?.retainUntilMs, head.objectLock?.retainUntilMs);
    // A compromised host writes a new version under the archived name, with plausible metadata.
    const forged = Buffer.from('forged WAL');
    await s3.putObject({ bucket: BUCKET, key, body: { kind: 'bytes', bytes: forged }, metadata: { ...head.metadata, 'holdfast-wal-compression': 'none', 'holdfast-wal-size': String(forged.length), 'holdfast-wal-sha256': sha256(forged) } });
    const original = await readFile(join(pg.dataDir, 'pg_wal', name));
    const destination = join(scratch!, 'after-forgery');
    const fetched = await pgCommand(writer, vault!.endpoint, ['wal-fetch', name, destination]);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.ok((await readFile(destination)).equals(original), 'the archived (first) version is restored, not the forgery');
    assert.match(fetched.stderr, new RegExp(`${name} has 1 later version\\(s\\) written over the archived one`));
    const verified = await pgCommand(writer, vault!.endpoint, ['verify', '--quick', '--json']);
    assert.equal(verified.code, 4, verified.stdout);
    const problems = (JSON.parse(verified.stdout) as { problems: { kind: string; subject: string }[] }).problems;
    assert.deepEqual(problems.filter((p) => p.kind === 'overwritten-object').map((p) => p.subject), [key]);
  });

  await t.test('measured: one 16 MiB segment through the CLI, and gzip levels on real WAL', async () => {
    const name = bulk!.name;
    const original = await readFile(join(pg.dataDir, 'pg_wal', name));
    // The same bytes under a new prefix: a full, timed wal-push (process start included).
    const copy = join(scratch!, 'measure', name);
    await mkdir(join(scratch!, 'measure'), { recursive: true });
    await writeFile(copy, original);
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: scratch, AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey };
    const timed = await runCommand(process.execPath, [cli, 'pg', 'wal-push', copy, '--repo', `s3://${BUCKET}/measure`, '--endpoint', vault!.endpoint, '--json'], { env });
    const pushed = JSON.parse(timed.stdout) as { storedSize: number; durationMs: number };
    t.diagnostic(`wal-push of ${name} (bulk load): ${Math.round(timed.durationMs)} ms wall (process included), ${pushed.durationMs} ms inside, stored ${pushed.storedSize} bytes`);
    for (const level of [1, 6]) {
      const at = performance.now();
      const size = gzipSync(original, { level }).length;
      t.diagnostic(`gzip level ${level} on ${name}: ${size} bytes (${((100 * size) / original.length).toFixed(1)} %) in ${Math.round(performance.now() - at)} ms`);
    }
  });

  t.diagnostic(`whole test: ${((performance.now() - started) / 1000).toFixed(1)} s`);
});
