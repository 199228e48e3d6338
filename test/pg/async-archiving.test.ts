import assert from 'node:assert/strict';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type KeyPair, clientFor, createIdentityWithKey, holdfastCli, rootKey } from '../support/admin-cli.js';
import { requireTool, runCommand } from '../support/tools.js';
import { type RunningVault, startVault } from '../support/vault-server.js';
import { createLockedBucket } from './pg-test-kit.js';
import { PG_BIN, startThrowawayCluster, type ThrowawayCluster } from './throwaway-cluster.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * `wal-push --async`: a real PostgreSQL 15 cluster whose archive_command only waits for the
 * background worker, which pushes ready segments in parallel. A burst of WAL is archived
 * completely and in order; the worker is killed with SIGKILL mid-burst and the next
 * archive_command starts another; nothing is lost or duplicated, and the spool is left clean.
 */

const cli = process.env['HOLDFAST_TEST_SERVER_ENTRY'] ?? holdfastCli;
const BUCKET = 'pg-async';

let vault: RunningVault | undefined;
let cluster: ThrowawayCluster | undefined;
let spoolBase: string | undefined;

after(async () => {
  await cluster?.stop();
  await vault?.stop();
  if (spoolBase !== undefined) await rm(spoolBase, { recursive: true, force: true });
});

test('wal-push --async archives a burst of WAL in parallel through a background worker that survives kill -9', { timeout: 240_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'initdb'), ['--version'], 'postgresql-15'))) return;
  vault = await startVault();
  const root = rootKey(vault);
  const sdk = clientFor(vault, root);
  t.after(() => sdk.destroy());
  await createLockedBucket(sdk, BUCKET);
  const writer: KeyPair = await createIdentityWithKey(vault, root, 'pg-async-writer', ['backup-writer'], ['--service']);

  // The spool belongs to the postgres OS user, outside the data directory.
  spoolBase = await mkdtemp(join(tmpdir(), 'holdfast-spool-'));
  if (process.getuid?.() === 0) {
    const uid = Number((await runCommand('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await runCommand('id', ['-g', 'postgres'])).stdout.trim());
    await chown(spoolBase, uid, gid);
  }
  const spool = join(spoolBase, 'main');
  const archiveCommand = `'${process.execPath}' '${cli}' pg wal-push %p --async --spool '${spool}' --parallel 4 --repo s3://${BUCKET}/db --endpoint ${vault.endpoint}`;
  cluster = await startThrowawayCluster({
    // Small segments (1 MiB, initdb default is 16) would need initdb options; instead a burst of
    // 16 MiB segments written with pg_switch_wal between bulk inserts.
    settings: { archive_mode: 'on', archive_command: archiveCommand, wal_level: 'replica', max_wal_size: '1GB' },
    env: { AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey, AWS_REGION: 'us-east-1' },
  });
  const pg = cluster;
  await pg.query('CREATE TABLE burst (id bigint, payload text)');

  const SEGMENTS = 24;
  const started = performance.now();
  let killed = 0;
  let lastSwitched = '';
  for (let i = 0; i < SEGMENTS; i++) {
    await pg.query(`INSERT INTO burst SELECT g, md5(g::text) FROM generate_series(${i * 2000 + 1}, ${(i + 1) * 2000}) g`);
    lastSwitched = (await pg.query<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name'))[0]!.name;
    if (i === SEGMENTS / 2) {
      // Mid-burst: SIGKILL the worker, as an OOM killer or a crash would.
      const lock = await readFile(join(spool, 'archive-push', 'worker.lock'), 'utf8').catch(() => undefined);
      if (lock !== undefined) {
        try {
          process.kill(Number(lock.trim()), 'SIGKILL');
          killed += 1;
        } catch {
          // it had just finished
        }
      }
    }
  }
  await waitUntil(`${lastSwitched} archived\n${pg.output().slice(-3000)}`, async () => {
    const [stat] = await pg.query<{ last: string | null }>('SELECT last_archived_wal AS last FROM pg_stat_archiver');
    return stat!.last !== null && stat!.last >= lastSwitched;
  }, 90_000);
  const seconds = (performance.now() - started) / 1000;
  const [stat] = await pg.query<{ archived: number; failed: number }>('SELECT archived_count::int AS archived, failed_count::int AS failed FROM pg_stat_archiver');

  // Every segment from the first to the last switched one is in the archive, exactly once.
  const keys: string[] = [];
  for (let token: string | undefined; ; ) {
    const page = await sdk.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'db/wal/00000001/', ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice('db/wal/00000001/'.length)));
    if (page.NextContinuationToken === undefined) break;
    token = page.NextContinuationToken;
  }
  const segments = keys.filter((k) => /^[0-9A-F]{24}$/.test(k)).sort();
  assert.ok(segments.length >= SEGMENTS, `${segments.length} segments archived`);
  assert.equal(segments.at(-1)! >= lastSwitched, true);
  for (let i = 1; i < segments.length; i++) {
    assert.equal(parseInt(segments[i]!.slice(16), 16), parseInt(segments[i - 1]!.slice(16), 16) + 1, `no gap after ${segments[i - 1]}`);
  }
  // A fresh restore-side check of the newest one: wal-fetch gets it back and it verifies.
  const fetchDir = await mkdtemp(join(tmpdir(), 'holdfast-async-fetch-'));
  t.after(() => rm(fetchDir, { recursive: true, force: true }));
  const fetched = await runCommand(process.execPath, [cli, 'pg', 'wal-fetch', lastSwitched, join(fetchDir, 'seg'), '--repo', `s3://${BUCKET}/db`, '--endpoint', vault.endpoint], {
    env: { PATH: process.env['PATH'], HOME: fetchDir, AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey },
    expectExitCode: 'any',
  });
  assert.equal(fetched.code, 0, fetched.stderr);

  // The spool: no error statuses, and no .ok left: each was taken by its archive_command.
  await waitUntil('the worker to exit when idle', async () => !(await readdir(join(spool, 'archive-push'))).includes('worker.lock'), 30_000);
  const left = await readdir(join(spool, 'archive-push'));
  assert.deepEqual(left.filter((f) => f.endsWith('.error')), []);
  assert.deepEqual(left.filter((f) => f.endsWith('.ok')), [], `statuses are cleaned up: ${left.join(', ')}`);
  const log = await readFile(join(spool, 'archive-push', 'worker.log'), 'utf8');
  assert.match(log, /archived 0000000100000000000000/);
  assert.doesNotMatch(log, new RegExp(writer.secretAccessKey), 'no secret in the worker log');
  t.diagnostic(`${segments.length} segments (${stat!.archived} archive_command successes, ${stat!.failed} failures) archived in ${seconds.toFixed(1)} s = ${(segments.length / seconds).toFixed(1)} segments/s with --parallel 4; worker killed ${killed} time(s)`);
});
