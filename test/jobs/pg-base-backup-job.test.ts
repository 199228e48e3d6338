import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { parseBackupJobs } from '../../src/backup/jobs/job-config.js';
import { type JobPruneOutcome, JobRunner } from '../../src/backup/jobs/job-runner.js';
import { SqliteJobRunHistory } from '../../src/backup/jobs/sqlite-job-run-history.js';
import { ManualClock } from '../../src/infra/clock.js';
import { clientFor, createIdentityWithKey, holdfastCli, rootKey } from '../support/admin-cli.js';
import { leanClient } from '../support/job-fixtures.js';
import { Teardown } from '../support/teardown.js';
import { requireTool, runCommand } from '../support/tools.js';
import { startVault } from '../support/vault-server.js';
import { PG_BIN, startThrowawayCluster } from '../pg/throwaway-cluster.js';
import { switchAndArchive } from '../pg/pg-test-kit.js';

/**
 * The `pg-base-backup` job source through the job runner: a real PostgreSQL 15 cluster archiving
 * its WAL into the vault with `holdfast pg wal-push` (writer key), two scheduled-style runs that
 * store base backups `holdfast pg list` shows, and the retention prune after the second run
 * (keepCount 1, pruner key) removing the first backup and the WAL only it needed.
 */
const BUCKET = 'pg-job-base';
const PREFIX = 'main';
const teardown = new Teardown();
after(() => teardown.run());

test('a pg-base-backup job stores restorable base backups and prunes the older one by keepCount', { timeout: 240_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'initdb'), ['--version'], 'postgresql-15'))) return;
  if (!(await requireTool(t, 'pg_basebackup', ['--version'], 'postgresql-client-15'))) return;
  const vault = await startVault({ env: { HOLDFAST_AUDIT_LOG_STREAM: 'none' } });
  teardown.add(() => vault.stop());
  const sdk = clientFor(vault, rootKey(vault));
  teardown.add(() => sdk.destroy());
  // Object Lock on without a default rule: the prune may delete at once (the lock path is covered in job-retention.test.ts).
  await sdk.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
  const writer = await createIdentityWithKey(vault, rootKey(vault), 'pg-job-writer', ['backup-writer'], ['--service']);
  const pruner = await createIdentityWithKey(vault, rootKey(vault), 'pg-job-pruner', ['pruner'], ['--service']);
  const repo = ['--repo', `s3://${BUCKET}/${PREFIX}`, '--endpoint', vault.endpoint];
  const cluster = await startThrowawayCluster({
    settings: { archive_mode: 'on', archive_command: `'${process.execPath}' '${holdfastCli}' pg wal-push %p ${repo.join(' ')}`, archive_timeout: '60s', wal_level: 'replica' },
    env: { AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey, AWS_REGION: 'us-east-1' },
  });
  teardown.add(() => cluster.stop());
  await cluster.query('CREATE TABLE readings (id bigint PRIMARY KEY, note text NOT NULL)');
  await cluster.query(`INSERT INTO readings SELECT g, md5(g::text) FROM generate_series(1, 5000) g`);

  const clock = new ManualClock(Date.now());
  const jobs = parseBackupJobs(
    [{ name: 'pg-main', source: { kind: 'pg-base-backup', connection: `host=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres` }, schedule: '@daily', destination: { bucket: BUCKET, prefix: PREFIX }, retention: { keepCount: 1 } }],
    { alertChannels: ['log'], env: {}, nowMs: clock.nowMs() },
  );
  const work = await mkdtemp(join(tmpdir(), 'holdfast-pg-job-'));
  teardown.removeDir(work);
  const history = new SqliteJobRunHistory(join(work, 'jobs.sqlite'));
  const writerClient = leanClient(vault, writer);
  const prunerClient = leanClient(vault, pruner);
  const pruned: JobPruneOutcome[] = [];
  const runner = new JobRunner({ jobs, history, clock, client: () => writerClient, pruneClient: () => prunerClient, env: process.env, events: { finished: () => undefined, pruned: (_job, outcome) => pruned.push(outcome) } });
  teardown.add(async () => {
    await runner.close();
    history.close();
    writerClient.close();
    prunerClient.close();
  });

  let started = performance.now();
  const first = await runner.start('pg-main', 'schedule').done;
  t.diagnostic(`first base backup run: ${Math.round(performance.now() - started)} ms, ${first.bytes} bytes in ${first.objects} objects`);
  assert.equal(first.outcome, 'succeeded', `${first.error}\n${first.logExcerpt}\n${cluster.output().slice(-2000)}`);
  const firstId = /^main\/backups\/([^/]+)\/manifest\.json$/.exec(first.manifestKey ?? '')?.[1];
  assert.ok(firstId !== undefined, first.manifestKey);
  assert.ok(first.objects >= 2, 'a manifest and at least one part');
  // The only backup stays; WAL archived before it started is needed by nothing and may go.
  assert.equal(pruned.length, 1);
  assert.ok(pruned[0]!.ok && pruned[0]!.removedRuns.length === 0, JSON.stringify(pruned[0]));

  await cluster.query(`INSERT INTO readings SELECT g, md5(g::text) FROM generate_series(5001, 10000) g`);
  await switchAndArchive(cluster);
  clock.advance(3600_000);
  started = performance.now();
  const second = await runner.start('pg-main', 'schedule').done;
  t.diagnostic(`second base backup run and prune: ${Math.round(performance.now() - started)} ms`);
  assert.equal(second.outcome, 'succeeded', second.error);
  const secondId = /^main\/backups\/([^/]+)\/manifest\.json$/.exec(second.manifestKey ?? '')?.[1];
  const last = pruned.at(-1)!;
  assert.ok(last.ok, last.ok ? '' : last.error);
  assert.deepEqual(last.removedRuns, [firstId]);
  assert.ok(last.deletedVersions > first.objects - 1, 'the first backup and WAL only it needed');

  const env = { ...process.env, AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey };
  const listed = await runCommand(process.execPath, [holdfastCli, 'pg', 'list', '--json', ...repo], { env, timeoutMs: 60_000 });
  const backups = JSON.parse(listed.stdout) as Array<{ id: string; walArchived: unknown }>;
  assert.deepEqual(backups.map((b) => b.id), [secondId]);
  assert.notEqual(backups[0]!.walArchived, null, 'the kept backup still has its WAL');
});
