import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { clientFor, holdfastCli, rootKey } from '../support/admin-cli.js';
import { runCommand } from '../support/tools.js';
import { startVault } from '../support/vault-server.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * RPO visibility (issue 5): a vault watching a PostgreSQL archive exposes the time and age of its
 * newest WAL segment as Prometheus metrics, raises `wal-archive-stale` when no segment arrives
 * within the bound, and `wal-archive-resumed` when one does. Segments are pushed with the real
 * `holdfast pg wal-push`; a bad watch configuration stops start-up naming the entry.
 */

const BOUND_SECONDS = 3;

void test('the newest WAL segment of a watched archive is a metric, and an alert fires when it grows old', { timeout: 90_000 }, async (t) => {
  const vault = await startVault({
    env: {
      HOLDFAST_PG_ARCHIVE_WATCHES: JSON.stringify([{ bucket: 'pg-rpo', prefix: 'db', maxArchiveAgeSeconds: BOUND_SECONDS }]),
      HOLDFAST_PG_ARCHIVE_CHECK_SECONDS: '1',
    },
  });
  const sdk = clientFor(vault, rootKey(vault));
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-rpo-'));
  t.after(async () => {
    sdk.destroy();
    await vault.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await sdk.send(new CreateBucketCommand({ Bucket: 'pg-rpo' }));
  const env = { PATH: process.env['PATH'], HOME: dir, AWS_ACCESS_KEY_ID: vault.accessKeyId, AWS_SECRET_ACCESS_KEY: vault.secretAccessKey };
  const push = async (name: string) => {
    await writeFile(join(dir, name), randomBytes(64 * 1024));
    await runCommand(process.execPath, [holdfastCli, 'pg', 'wal-push', join(dir, name), '--repo', 's3://pg-rpo/db', '--endpoint', vault.endpoint], { env });
  };
  const metric = async (name: string): Promise<number | undefined> => {
    const text = await (await fetch(`${vault.endpoint}/_holdfast/metrics`)).text();
    const line = new RegExp(`^${name}\\{bucket="pg-rpo",prefix="db"\\} (\\S+)$`, 'm').exec(text);
    return line === null ? undefined : Number(line[1]);
  };

  const before = Date.now() / 1000;
  await push('000000010000000000000001');
  await push('000000010000000000000002');
  await waitUntil('the metric to show the pushed segment', async () => ((await metric('holdfast_pg_wal_last_archived_timestamp_seconds')) ?? 0) >= Math.floor(before));
  assert.ok(((await metric('holdfast_pg_wal_archive_age_seconds')) ?? Infinity) < BOUND_SECONDS);
  assert.equal(await metric('holdfast_pg_wal_archive_max_age_seconds'), BOUND_SECONDS);

  // Archiving "stops": past the bound, the alert (the log channel writes it to stderr).
  await waitUntil('the wal-archive-stale alert', () => /wal-archive-stale/.test(vault.output()));
  assert.match(vault.output(), /ALERT: The newest WAL segment in s3:\/\/pg-rpo\/db, 000000010000000000000002, arrived \d+ s ago \(bound 3 s\)/);
  assert.ok(((await metric('holdfast_pg_wal_archive_age_seconds')) ?? 0) > BOUND_SECONDS);

  await push('000000010000000000000003');
  await waitUntil('the wal-archive-resumed alert', () => /wal-archive-resumed/.test(vault.output()));
  assert.ok(((await metric('holdfast_pg_wal_archive_age_seconds')) ?? Infinity) < BOUND_SECONDS);
});

void test('a malformed watch stops start-up with the entry and the fix', async () => {
  await assert.rejects(
    startVault({ env: { HOLDFAST_PG_ARCHIVE_WATCHES: JSON.stringify([{ bucket: 'pg' }]) }, startTimeoutMs: 20_000 }),
    /pgArchiveWatches\[0\] needs archiveTimeoutSeconds/,
  );
});
