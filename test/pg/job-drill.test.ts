import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { clientFor, createIdentityWithKey, holdfast, holdfastCli, rootKey } from '../support/admin-cli.js';
import { Teardown } from '../support/teardown.js';
import { requireTool } from '../support/tools.js';
import { type RunningVault, startVault } from '../support/vault-server.js';
import { switchAndArchive } from './pg-test-kit.js';
import { PG_BIN, startThrowawayCluster } from './throwaway-cluster.js';

/**
 * A pg-base-backup job drilled inside `holdfast server` (`holdfast drill run`): the job's newest
 * backup with all archived WAL restores into a throwaway cluster that is promoted, passes
 * pg_amcheck and the job's probe; then a WAL segment the recovery needs is removed from the
 * repository and the next drill fails, naming the segment in its evidence record. The drill
 * restores the backup of the job's newest successful run even when a newer one (taken by hand)
 * is in the repository, and fails saying so when that backup is gone.
 */
interface DrillRecord {
  id: string;
  outcome: string;
  reason?: string;
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  backup: { pgBackupId?: string; runId: string | null } | null;
  checks: { name: string; outcome: string; detail: string }[];
}

const teardown = new Teardown();
after(() => teardown.run());

test('a pg-base-backup job: its drill passes, and fails naming the segment once the archive has a gap', { timeout: 300_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'pg_amcheck'), ['--version'], 'postgresql-15'))) return;
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-pg-job-drill-'));
  teardown.add(() => rm(dir, { recursive: true, force: true }));
  const scratch = join(dir, 'scratch');
  await mkdir(scratch);
  // The postgres OS user runs the cluster's archive_command (reads the files below) and the drill's scratch copy.
  await chmod(dir, 0o755);
  await chmod(scratch, 0o755);
  const bucket = 'pg-job-drill';
  const secret = (name: string) => `"$(cat ${join(dir, name)})"`;
  // archive_command reads the endpoint and the writer's key from files written once the vault is up.
  const archiveCommand = `AWS_ACCESS_KEY_ID=${secret('key-id')} AWS_SECRET_ACCESS_KEY=${secret('key-secret')} '${process.execPath}' '${holdfastCli}' pg wal-push %p --repo s3://${bucket}/main --endpoint ${secret('endpoint')}`;
  const pg = await startThrowawayCluster({ settings: { archive_mode: 'on', archive_command: archiveCommand, wal_level: 'replica' } });
  teardown.add(() => pg.stop());
  await pg.query('CREATE TABLE orders (id int PRIMARY KEY, note text NOT NULL)');
  await pg.query('INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 5000) g');

  const config = join(dir, 'holdfast.json');
  await writeFile(
    config,
    JSON.stringify({
      jobs: [
        {
          name: 'pg-main',
          source: { kind: 'pg-base-backup', connection: `host=127.0.0.1 port=${pg.port} user=postgres dbname=postgres` },
          schedule: '@daily',
          destination: { bucket, prefix: 'main' },
          drill: { schedule: '0 4 * * SAT', scratchDirectory: scratch, probes: [{ name: 'orders', sql: 'SELECT count(*) = 5500 FROM orders' }] },
        },
      ],
    }),
  );
  const vault: RunningVault = await startVault({ env: { HOLDFAST_CONFIG: config, HOLDFAST_AUDIT_LOG_STREAM: 'none' } });
  teardown.add(() => vault.stop());
  const root = rootKey(vault);
  const sdk = clientFor(vault, root);
  teardown.add(() => sdk.destroy());
  // No Object Lock: this test removes a WAL segment to make the gap a drill must find.
  await sdk.send(new CreateBucketCommand({ Bucket: bucket }));
  const writer = await createIdentityWithKey(vault, root, 'wal-writer', ['backup-writer'], ['--service']);
  for (const [name, value] of [['key-id', writer.accessKeyId], ['key-secret', writer.secretAccessKey], ['endpoint', vault.endpoint]] as const) await writeFile(join(dir, name), value, { mode: 0o644 });

  const cli = (args: string[], code: number | 'any' = 0) => holdfast(vault, root, args, code);
  const ran = JSON.parse((await cli(['jobs', 'run', 'pg-main', '--json'])).stdout) as { run: { id: string; outcome: string; error: string | null; manifestKey: string } };
  assert.equal(ran.run.outcome, 'succeeded', ran.run.error ?? '');
  const jobBackup = /^main\/backups\/([^/]+)\/manifest\.json$/.exec(ran.run.manifestKey)![1]!;
  await pg.query('INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(5001, 5500) g');
  // A newer backup in the same repository that is not the job's (taken by hand): the drill must not pick it.
  const byHand = await holdfast(vault, writer, ['pg', 'backup', '--repo', `s3://${bucket}/main`, '--pg-connection', `host=127.0.0.1 port=${pg.port} user=postgres dbname=postgres`, '--json']);
  const otherBackup = (JSON.parse(byHand.stdout) as { id: string }).id;
  assert.ok(otherBackup > jobBackup, `${otherBackup} is newer than ${jobBackup}`);
  await switchAndArchive(pg);
  await switchAndArchive(pg);

  const passed = JSON.parse((await cli(['drill', 'run', 'pg-main', '--json'])).stdout) as DrillRecord;
  assert.equal(passed.outcome, 'passed', JSON.stringify(passed.checks));
  assert.deepEqual(passed.checks.map((c) => [c.name, c.outcome]), [
    ['restore', 'passed'],
    ['recovery', 'passed'],
    ['pg_amcheck', 'passed'],
    ['probe orders', 'passed'],
  ]);
  assert.equal(passed.backup?.pgBackupId, jobBackup, "the job's newest successful run's backup, not the repository's newest");
  assert.equal(passed.backup?.runId, ran.run.id);
  assert.ok(passed.rtoSeconds !== null && passed.rpoSeconds !== null);
  assert.deepEqual(await readdir(scratch), [], 'the scratch cluster is removed');
  t.diagnostic(`pg job drill passed: RTO ${passed.rtoSeconds} s, RPO ${passed.rpoSeconds} s`);

  // A hole in the archive: the segment before the newest one is gone.
  const keys = ((await sdk.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'main/' }))).Contents ?? []).map((o) => o.Key!);
  const segments = keys.filter((k) => /\/wal\/00000001\/[0-9A-F]{24}$/.test(k)).sort();
  const hole = segments.at(-2)!;
  await sdk.send(new DeleteObjectCommand({ Bucket: bucket, Key: hole }));
  const gap = await cli(['drill', 'run', 'pg-main'], 4);
  const gapId = /restore drill (\S+) of pg-main/.exec(gap.stdout)![1]!;
  const record = JSON.parse((await cli(['evidence', 'show', 'drills', gapId, '--json'])).stdout) as DrillRecord;
  assert.equal(record.outcome, 'failed');
  assert.match(record.reason!, new RegExp(`restore failed: the WAL archive is missing segment ${hole.slice(-24)}`));
  assert.equal(record.rtoSeconds, null);

  // The job run's backup itself gone (its manifest deleted; this bucket has no Object Lock): a clear failure, no scratch cluster.
  await sdk.send(new DeleteObjectCommand({ Bucket: bucket, Key: ran.run.manifestKey }));
  const missing = await cli(['drill', 'run', 'pg-main'], 4);
  const missingId = /restore drill (\S+) of pg-main/.exec(missing.stdout)![1]!;
  const gone = JSON.parse((await cli(['evidence', 'show', 'drills', missingId, '--json'])).stdout) as DrillRecord;
  assert.equal(gone.outcome, 'failed');
  assert.equal(gone.reason, `restore failed: backup ${jobBackup}, made by run ${ran.run.id} (the job's newest successful run), is missing from s3://${bucket}/main: its manifest ${ran.run.manifestKey} is gone; find out who removed it, and run the job again`);
  assert.equal(gone.backup?.pgBackupId, jobBackup);
  assert.deepEqual(await readdir(scratch), [], 'no scratch cluster was made');
});
