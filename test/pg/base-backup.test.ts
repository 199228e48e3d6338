import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { parseBackupManifest } from '../../src/backup/pg/backup-manifest.js';
import { BackupIntegrityError, extractBaseBackup } from '../../src/backup/pg/base-backup-extraction.js';
import { Secret } from '../../src/domain/secret.js';
import { S3Client } from '../../src/infra/s3-client/s3-client.js';
import { S3RequestError } from '../../src/infra/s3-client/s3-client-errors.js';
import { type KeyPair, clientFor, createIdentityWithKey, holdfastCli, rootKey } from '../support/admin-cli.js';
import { requireTool, runCommand, type RunResult } from '../support/tools.js';
import { type RunningVault, startVault } from '../support/vault-server.js';
import { freePort, PG_BIN, startThrowawayCluster, type ThrowawayCluster } from './throwaway-cluster.js';
import { Teardown } from '../support/teardown.js';

/**
 * `holdfast pg backup` of a real PostgreSQL 15 cluster that archives its WAL with wal-push into
 * an object-locked vault bucket, all with one backup-writer key; then `holdfast pg list`, and the
 * stored tar read back and checked by `tar`.
 */

const cli = process.env['HOLDFAST_TEST_SERVER_ENTRY'] ?? holdfastCli;
const BUCKET = 'pg-base';
const PREFIX = 'main-cluster';
const ROWS = 10_000;

let vault: RunningVault | undefined;
let cluster: ThrowawayCluster | undefined;
let scratch: string | undefined;
const teardown = new Teardown();
after(() => teardown.run());

async function readAll(s3: S3Client, key: string): Promise<Buffer> {
  const { body } = await s3.getObject({ bucket: BUCKET, key });
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

test('holdfast pg backup streams a base backup of PostgreSQL 15 into the vault; pg list shows it', { timeout: 120_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'initdb'), ['--version'], 'postgresql-15'))) return;
  if (!(await requireTool(t, join(PG_BIN, 'pg_basebackup'), ['--version'], 'postgresql-client-15'))) return;
  const started = performance.now();
  scratch = await mkdtemp(join(tmpdir(), 'holdfast-pg-backup-'));
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
  const writer: KeyPair = await createIdentityWithKey(vault, root, 'pg-backup', ['backup-writer'], ['--service']);
  const s3 = new S3Client({
    endpoint: new URL(vault.endpoint),
    region: 'us-east-1',
    credentials: { accessKeyId: writer.accessKeyId, secretAccessKey: new Secret(writer.secretAccessKey), source: 'test' },
  });
  teardown.add(() => s3.close());
  const repo = ['--repo', `s3://${BUCKET}/${PREFIX}`, '--endpoint', vault.endpoint];
  const archiveCommand = `'${process.execPath}' '${cli}' pg wal-push %p ${repo.join(' ')}`;
  cluster = await startThrowawayCluster({
    settings: { archive_mode: 'on', archive_command: archiveCommand, archive_timeout: '60s', wal_level: 'replica' },
    env: { AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey, AWS_REGION: 'us-east-1' },
  });
  const pg = cluster;
  teardown.add(() => pg.stop());
  await pg.query(`CREATE TABLE readings (id bigint PRIMARY KEY, note text NOT NULL)`);
  await pg.query(`INSERT INTO readings SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, ${ROWS}) g`);
  const [system] = await pg.query<{ system_identifier: string }>('SELECT system_identifier::text FROM pg_control_system()');
  t.diagnostic(`vault and cluster up in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  // A backup whose manifest was never written (a crash before the commit point): never listed.
  await s3.putObject({ bucket: BUCKET, key: `${PREFIX}/backups/20261126T000000Z-000000/base.tar.gz.part-00001`, body: { kind: 'bytes', bytes: Buffer.from('partial') }, createOnly: true });

  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: scratch,
    PGHOST: '127.0.0.1',
    PGPORT: String(pg.port),
    PGUSER: 'postgres',
    PGDATABASE: 'postgres',
    AWS_ACCESS_KEY_ID: writer.accessKeyId,
    AWS_SECRET_ACCESS_KEY: writer.secretAccessKey,
  };
  const holdfastPg = (args: readonly string[]): Promise<RunResult> => runCommand(process.execPath, [cli, 'pg', ...args, ...repo], { env, expectExitCode: 'any', timeoutMs: 90_000 });

  // 1 MiB parts, so that even this small database is stored in several objects.
  const backup = await holdfastPg(['backup', '--json', '--part-mib', '1']);
  assert.equal(backup.code, 0, `${backup.stderr}\n${pg.output().slice(-2000)}`);
  assert.equal(backup.stderr, '', 'no warning: every object is under the bucket default retention');
  const reported = JSON.parse(backup.stdout) as { outcome: string; manifestKey: string; id: string; durationMs: number };
  assert.equal(reported.outcome, 'complete');

  const manifest = parseBackupManifest((await readAll(s3, reported.manifestKey)).toString('utf8'), reported.manifestKey);
  assert.equal(reported.manifestKey, `${PREFIX}/backups/${manifest.id}/manifest.json`);
  assert.equal(manifest.systemIdentifier, system!.system_identifier);
  assert.ok(manifest.pgVersionNum >= 150000 && manifest.pgVersionNum < 160000, manifest.pgVersion);
  assert.equal(manifest.timeline, 1);
  assert.ok(manifest.startWalSegment <= manifest.stopWalSegment);
  assert.ok(manifest.parts.length >= 2, `several 1 MiB parts (${manifest.parts.length})`);
  const [current] = await pg.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  const [ordered] = await pg.query<{ ok: boolean }>('SELECT $1::pg_lsn < $2::pg_lsn AND $2::pg_lsn <= $3::pg_lsn AS ok', [manifest.startLsn, manifest.stopLsn, current!.lsn]);
  assert.ok(ordered!.ok, `start ${manifest.startLsn} < stop ${manifest.stopLsn} ≤ now ${current!.lsn}`);
  for (const name of [manifest.stopWalSegment, manifest.backupHistoryFile]) {
    const head = await s3.headObject({ bucket: BUCKET, key: `${PREFIX}/wal/00000001/${name}` });
    assert.ok(head.contentLength > 0, `${name} is archived`);
  }
  t.diagnostic(
    `backup ${manifest.id}: ${ROWS} rows, tar ${manifest.tarBytes} bytes → gzip ${manifest.compressedBytes} bytes in ${manifest.parts.length} parts; ` +
      `${Math.round(backup.durationMs)} ms wall (process included), ${reported.durationMs} ms inside`,
  );

  const listed = await holdfastPg(['list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as { id: string; stopLsn: string; walArchived: { firstSegment: string; lastSegment: string } | null }[];
  assert.equal(rows.length, 1, listed.stdout);
  assert.equal(rows[0]!.id, manifest.id);
  assert.equal(rows[0]!.stopLsn, manifest.stopLsn);
  assert.ok(rows[0]!.walArchived !== null && rows[0]!.walArchived.lastSegment >= manifest.stopWalSegment, listed.stdout);
  const table = await holdfastPg(['list']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^${manifest.id}\\s+${manifest.startTime.replaceAll('.', '\\.')}`, 'm'));
  assert.match(table.stdout, /^ {2}timeline 00000001: 000000010000000000000001 … 0{7}1[0-9A-F]{16} \(\d+ segments/m);

  // The stored parts, concatenated, are the gzip of the tar pg_basebackup wrote.
  const parts: Buffer[] = [];
  for (const part of manifest.parts) {
    const bytes = await readAll(s3, part.key);
    assert.equal(bytes.length, part.size);
    assert.equal(sha256(bytes), part.sha256);
    parts.push(bytes);
  }
  // Each part is a gzip member of its own with the tar bytes the manifest gives it (so a restore
  // can inflate parts in parallel), and concatenated they are still one gzip stream.
  for (const [index, bytes] of parts.entries()) {
    const tarBytes = manifest.parts[index]!.tarBytes;
    assert.equal(gunzipSync(bytes).length, tarBytes, `part ${index + 1} inflates on its own to its tarBytes`);
    assert.ok(tarBytes !== undefined && tarBytes <= 1024 * 1024, `--part-mib 1: at most 1 MiB of tar per part (${tarBytes})`);
  }
  const gz = Buffer.concat(parts);
  assert.equal(sha256(gz), manifest.compressedSha256);
  const tar = gunzipSync(gz);
  assert.equal(tar.length, manifest.tarBytes);
  assert.equal(sha256(tar), manifest.tarSha256);
  const archivePath = join(scratch, 'base.tar.gz');
  await writeFile(archivePath, gz);
  const listing = (await runCommand('tar', ['-tzf', archivePath])).stdout.split('\n');
  for (const member of ['PG_VERSION', 'global/pg_control', 'backup_label', 'backup_manifest']) assert.ok(listing.includes(member), `${member} is in the tar`);
  assert.ok(!listing.some((member) => /^pg_wal\/0/.test(member)), 'no WAL in the tar: -X none takes it from the archive');

  // Both restore paths unpack the same files: parts inflated in parallel (this backup), and the
  // one-stream path of backups written before parts were gzip members of their own (the same
  // parts under a manifest without per-part tarBytes, as such backups have).
  const oneStream = { ...manifest, parts: manifest.parts.map(({ key, size, sha256 }) => ({ key, size, sha256 })) };
  const restored: string[][] = [];
  for (const [name, m] of [['parallel', manifest], ['one-stream', oneStream]] as const) {
    const into = join(scratch, `restored-${name}`);
    const summary = await extractBaseBackup({ client: s3, location: { bucket: BUCKET, prefix: PREFIX }, manifest: m, into, sync: false, prefetchParts: 3 });
    const files = (await runCommand('find', [into, '-type', 'f', '-printf', '%P %s\n'])).stdout.split('\n').filter(Boolean).sort();
    assert.equal(summary.files, files.length, name);
    assert.equal(await readFile(join(into, 'PG_VERSION'), 'utf8'), '15\n', name);
    restored.push(files);
  }
  assert.deepEqual(restored[0], restored[1], 'the same files with the same sizes either way');
  const corrupt = { ...manifest, parts: manifest.parts.map((part, index) => (index === 1 ? { ...part, tarBytes: part.tarBytes! + 1 } : part)) };
  const intoCorrupt = join(scratch, 'restored-wrong-size');
  await assert.rejects(
    extractBaseBackup({ client: s3, location: { bucket: BUCKET, prefix: PREFIX }, manifest: corrupt, into: intoCorrupt, sync: false }),
    (e: unknown) => e instanceof BackupIntegrityError && e.message.includes(`${manifest.parts[1]!.key} inflates to ${manifest.parts[1]!.tarBytes} bytes of tar, the manifest says ${manifest.parts[1]!.tarBytes! + 1}`),
  );
  await assert.rejects(readdir(intoCorrupt), { code: 'ENOENT' }, 'a failed restore removes what it wrote and the directory it created');
  const short = { ...manifest, parts: manifest.parts.map((part, index) => (index === 0 ? { ...part, tarBytes: 1024 } : part)) };
  await assert.rejects(
    extractBaseBackup({ client: s3, location: { bucket: BUCKET, prefix: PREFIX }, manifest: short, into: intoCorrupt, sync: false }),
    (e: unknown) => e instanceof BackupIntegrityError && e.message.includes(`${manifest.parts[0]!.key} inflates to more than the 1024 bytes of tar the manifest says`),
    'a part never inflates past its place (a decompression bomb stops at the manifest size)',
  );

  for (const key of [reported.manifestKey, manifest.parts[0]!.key]) {
    const head = await s3.headObject({ bucket: BUCKET, key });
    assert.equal(head.objectLock?.mode, 'COMPLIANCE', `${key} is locked`);
    for (const address of [{ bucket: BUCKET, key }, { bucket: BUCKET, key, versionId: head.versionId! }]) {
      await assert.rejects(s3.deleteObject(address), (e: unknown) => e instanceof S3RequestError && e.code === 'AccessDenied', `the writer cannot delete ${key}`);
    }
  }
  // A cluster that cannot be reached: exit 1 naming the cause, and nothing new in the listing.
  const refused = await holdfastPg(['backup', '--pg-connection', `host=127.0.0.1 port=${await freePort()} user=postgres connect_timeout=5`]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^holdfast pg backup: could not query the cluster with psql .*(refused|connect)/s);
  assert.equal((JSON.parse((await holdfastPg(['list', '--json'])).stdout) as unknown[]).length, 1);

  t.diagnostic(`whole test: ${((performance.now() - started) / 1000).toFixed(1)} s`);
});
