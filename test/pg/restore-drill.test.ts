import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { CopyObjectCommand, CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { restoreToPointInTime } from '../../src/backup/pg/point-in-time-restore.js';
import { type KeyPair, clientFor, createIdentityWithKey, holdfastCli, rootKey } from '../support/admin-cli.js';
import { leanClient } from '../support/job-fixtures.js';
import { requireTool, runCommand, type RunResult } from '../support/tools.js';
import { type RunningVault, startVault } from '../support/vault-server.js';
import { createLockedBucket, switchAndArchive } from './pg-test-kit.js';
import { PG_BIN, startThrowawayCluster, type ThrowawayCluster } from './throwaway-cluster.js';

/**
 * `holdfast pg drill` with a real PostgreSQL 15 cluster: the newest backup plus all archived WAL
 * restores into a scratch cluster that starts, is promoted, passes pg_amcheck and the SQL probes;
 * RTO and RPO are measured; the scratch copy is removed; the evidence record is stored locked in
 * the repository. A failing probe and an archive with a WAL gap fail the drill (exit 4) with the
 * reason in the stored record.
 */

const cli = process.env['HOLDFAST_TEST_SERVER_ENTRY'] ?? holdfastCli;
const BUCKET = 'pg-drill';
const GAP_BUCKET = 'pg-drill-gap';

let vault: RunningVault | undefined;
let cluster: ThrowawayCluster | undefined;
const dirs: string[] = [];
after(async () => {
  await cluster?.stop();
  await vault?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface DrillJson {
  outcome: string;
  reason?: string;
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  backup: { id: string } | null;
  checks: { name: string; outcome: string; detail: string }[];
  objects: { key: string; sha256: string }[];
  walReplayed: { timeline: number }[];
  evidenceKey?: string;
}

test('holdfast pg drill restores the newest backup into a scratch cluster, checks it, measures RTO/RPO and stores the evidence', { timeout: 240_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'pg_amcheck'), ['--version'], 'postgresql-15'))) return;
  vault = await startVault();
  const root = rootKey(vault);
  const sdk = clientFor(vault, root);
  t.after(() => sdk.destroy());
  await createLockedBucket(sdk, BUCKET);
  const writer: KeyPair = await createIdentityWithKey(vault, root, 'drill-writer', ['backup-writer'], ['--service']);
  const home = await mkdtemp(join(tmpdir(), 'holdfast-drill-home-'));
  const scratch = await mkdtemp(join(tmpdir(), 'holdfast-drill-scratch-'));
  dirs.push(home, scratch);
  // The scratch root must be reachable by the postgres OS user, which runs the restored copy.
  await chmod(scratch, 0o755);
  const credentials = { AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey };
  const repo = (bucket: string) => ['--repo', `s3://${bucket}/db`, '--endpoint', vault!.endpoint];
  const run = (args: readonly string[], extraEnv: Record<string, string> = {}): Promise<RunResult> =>
    runCommand(process.execPath, [cli, 'pg', ...args], { env: { PATH: process.env['PATH'], HOME: home, ...credentials, ...extraEnv }, expectExitCode: 'any', timeoutMs: 180_000 });

  cluster = await startThrowawayCluster({
    settings: { archive_mode: 'on', archive_command: `'${process.execPath}' '${cli}' pg wal-push %p ${repo(BUCKET).join(' ')}`, wal_level: 'replica' },
    env: credentials,
  });
  const pg = cluster;
  await pg.query('CREATE TABLE orders (id int PRIMARY KEY, note text NOT NULL)');
  await pg.query("INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 5000) g");
  const pgEnv = { PGHOST: '127.0.0.1', PGPORT: String(pg.port), PGUSER: 'postgres', PGDATABASE: 'postgres' };
  const backup = await run(['backup', '--json', '--part-mib', '1', ...repo(BUCKET)], pgEnv);
  assert.equal(backup.code, 0, backup.stderr);
  const backupId = (JSON.parse(backup.stdout) as { id: string }).id;
  await pg.query("INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(5001, 5500) g");
  const lastSegment = await switchAndArchive(pg);

  // A passing drill: every check, RTO and RPO, the scratch copy gone, the evidence locked.
  const passed = await run(['drill', '--json', '--scratch', scratch, '--probe', 'orders=SELECT count(*) = 5500 FROM orders', '--probe', 'index@postgres=SELECT count(*) = 1 FROM pg_indexes WHERE tablename = \'orders\'', ...repo(BUCKET)]);
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);
  const record = JSON.parse(passed.stdout) as DrillJson;
  assert.equal(record.outcome, 'passed', JSON.stringify(record.checks));
  assert.equal(record.backup?.id, backupId);
  assert.deepEqual(record.checks.map((c) => [c.name, c.outcome]), [
    ['restore', 'passed'],
    ['recovery', 'passed'],
    ['pg_amcheck', 'passed'],
    ['probe orders', 'passed'],
    ['probe index', 'passed'],
  ]);
  assert.ok(record.rtoSeconds !== null && record.rtoSeconds > 0 && record.rtoSeconds < 180, `RTO ${record.rtoSeconds}`);
  assert.ok(record.rpoSeconds !== null && record.rpoSeconds >= 0 && record.rpoSeconds < 180, `RPO ${record.rpoSeconds}`);
  assert.ok(record.objects.length >= 1 && record.objects.every((o) => /^[0-9a-f]{64}$/.test(o.sha256)));
  assert.deepEqual(await readdir(scratch), [], 'the scratch copy is removed');
  const evidence = await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: record.evidenceKey! }));
  assert.equal(evidence.ObjectLockMode, 'COMPLIANCE', 'the evidence record is locked');
  t.diagnostic(`drill passed: RTO ${record.rtoSeconds} s, RPO ${record.rpoSeconds} s, ${record.objects.length} parts, WAL through ${lastSegment}`);

  // A probe that does not hold fails the drill; the record says which and why.
  const failedProbe = await run(['drill', '--json', '--probe', 'too-many=SELECT count(*) = 9999 FROM orders', ...repo(BUCKET)]);
  assert.equal(failedProbe.code, 4, failedProbe.stdout + failedProbe.stderr);
  const probeRecord = JSON.parse(failedProbe.stdout) as DrillJson;
  assert.equal(probeRecord.outcome, 'failed');
  assert.match(probeRecord.reason!, /^probe too-many failed: returned \["f"\]/);

  // A copy of the archive missing a segment the recovery needs: the drill fails naming it.
  await sdk.send(new CreateBucketCommand({ Bucket: GAP_BUCKET }));
  const keys = ((await sdk.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'db/' }))).Contents ?? []).map((o) => o.Key!).filter((k) => !k.includes('/evidence/'));
  const segments = keys.filter((k) => /\/wal\/00000001\/[0-9A-F]{24}$/.test(k)).sort();
  const hole = segments.at(-2)!;
  for (const key of keys) if (key !== hole) await sdk.send(new CopyObjectCommand({ Bucket: GAP_BUCKET, Key: key, CopySource: `${BUCKET}/${key}` }));
  const gap = await run(['drill', '--json', ...repo(GAP_BUCKET)]);
  assert.equal(gap.code, 4, gap.stdout + gap.stderr);
  const gapRecord = JSON.parse(gap.stdout) as DrillJson;
  assert.equal(gapRecord.outcome, 'failed');
  assert.match(gapRecord.reason!, new RegExp(`the restore failed: the WAL archive is missing segment ${hole.slice(-24)}`));
  const stored = await sdk.send(new HeadObjectCommand({ Bucket: GAP_BUCKET, Key: gapRecord.evidenceKey! }));
  assert.equal(stored.Metadata?.['holdfast-drill-outcome'], 'failed', 'a failed drill is evidence too');

  const usage = await run(['drill', '--probe', 'no-sql-here', ...repo(BUCKET)]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--probe "no-sql-here" is not NAME=SQL/);
});

test("the restore step of a drill observes the drill's abort signal itself: no further part is fetched, what was written is removed, the reason is the signal's", { timeout: 120_000 }, async (t) => {
  if (vault === undefined) return t.skip('needs the backup of the test above');
  const client = leanClient(vault);
  t.after(() => client.close());
  const into = join(await mkdtemp(join(tmpdir(), 'holdfast-drill-abort-')), 'data');
  dirs.push(dirname(into));
  const stop = new AbortController();
  const fetched: number[] = [];
  const restoring = restoreToPointInTime({
    client,
    location: { bucket: BUCKET, prefix: 'db' },
    into,
    target: { kind: 'latest' },
    targetTimeline: 'latest',
    targetAction: 'promote',
    targetInclusive: true,
    restoreCommand: 'false',
    env: process.env,
    sync: false,
    signal: stop.signal,
    // The budget runs out once the first part is in.
    onProgress: (progress) => {
      fetched.push(progress.bytes);
      if (fetched.length === 1) stop.abort(new Error('still running after its time budget of 1 min (drill.timeBudgetMinutes)'));
      else assert.ok(progress.bytes < progress.totalBytes, 'no part after the abort completes the backup');
    },
  });
  await assert.rejects(restoring, /still running after its time budget of 1 min/);
  await assert.rejects(stat(into), { code: 'ENOENT' }, 'the half-restored data directory is removed');
  t.diagnostic(`parts taken before the stop: ${fetched.length}`);
});
