import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  type S3Client as SdkClient,
} from '@aws-sdk/client-s3';
import { type KeyPair, clientFor, createIdentityWithKey, holdfastCli, rootKey } from '../support/admin-cli.js';
import { requireTool, runCommand, type RunResult } from '../support/tools.js';
import { startVault } from '../support/vault-server.js';
import { makeRestoreBase, PG_BIN, startRestoredCluster, startThrowawayCluster } from './throwaway-cluster.js';
import { createLockedBucket, switchAndArchive, waitPromoted } from './pg-test-kit.js';
import { Teardown } from '../support/teardown.js';

/**
 * `holdfast pg prune` end to end, with a real PostgreSQL 15 cluster and the built CLI: a cluster
 * archives with wal-push (backup-writer key); three base backups with WAL switches between them;
 * then prune --keep-count 1 with a pruner key. In a bucket without Object Lock the two older
 * backups and the WAL before the newest backup's start are deleted — every version, no delete
 * marker left — and the kept backup still restores to the latest state. In a copy of the
 * repository under 1-day compliance retention nothing is deleted and the locks are reported.
 * A backup-writer key is refused (exit 3) with a hint.
 */

const cli = process.env['HOLDFAST_TEST_SERVER_ENTRY'] ?? holdfastCli;
// Deletion can only be shown where no lock forbids it: Object Lock (rightly) refuses every
// delete for a day in the locked bucket. Versioning is on, so deletes must name versions to
// leave nothing behind.
const PLAIN = 'pg-prune';
const LOCKED = 'pg-prune-locked';
const PREFIX = 'prod';

const teardown = new Teardown();
after(() => teardown.run());

const TABLE_DIGEST = 'SELECT count(*)::int AS rows, coalesce(md5(string_agg(id::text || \':\' || note, \',\' ORDER BY id)), \'\') AS digest FROM items';

interface Version {
  readonly key: string;
  readonly versionId: string;
  readonly deleteMarker: boolean;
}

async function listVersions(sdk: SdkClient, bucket: string): Promise<Version[]> {
  const found: Version[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await sdk.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${PREFIX}/`, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    found.push(...(page.Versions ?? []).map((v) => ({ key: v.Key!, versionId: v.VersionId!, deleteMarker: false })));
    found.push(...(page.DeleteMarkers ?? []).map((v) => ({ key: v.Key!, versionId: v.VersionId!, deleteMarker: true })));
    if (page.IsTruncated !== true) return found;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

interface PruneReport {
  dryRun: boolean;
  backups: { id: string; decision: string; reasons: string[]; lockedUntil: string | null }[];
  wal: { keptFrom: string; files: number; removed: number; wouldRemove: number; keptLocked: number; lockedUntil: string | null };
  deleted: { versions: number; deleteMarkers: number; bytes: number };
  locked: unknown[];
}

test('holdfast pg prune --keep-count 1: older backups and their WAL deleted version by version; the kept backup restores; locked versions stay; a writer key is refused', { timeout: 180_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'initdb'), ['--version'], 'postgresql-15'))) return;
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const home = await mkdtemp(join(tmpdir(), 'holdfast-prune-home-'));
  teardown.removeDir(home);

  const vault = await startVault();
  teardown.add(() => vault.stop());
  const root = rootKey(vault);
  const sdk = clientFor(vault, root);
  teardown.add(() => sdk.destroy());
  await sdk.send(new CreateBucketCommand({ Bucket: PLAIN }));
  await sdk.send(new PutBucketVersioningCommand({ Bucket: PLAIN, VersioningConfiguration: { Status: 'Enabled' } }));
  await createLockedBucket(sdk, LOCKED);
  const writer: KeyPair = await createIdentityWithKey(vault, root, 'pg-writer', ['backup-writer'], ['--service']);
  const pruner: KeyPair = await createIdentityWithKey(vault, root, 'pg-pruner', ['pruner'], ['--service']);
  const reader: KeyPair = await createIdentityWithKey(vault, root, 'pg-restorer', ['restore-reader']);
  const envOf = (key: KeyPair) => ({ AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey, AWS_REGION: 'us-east-1' });
  const repo = (bucket: string) => ['--repo', `s3://${bucket}/${PREFIX}`, '--endpoint', vault.endpoint];
  const holdfastPg = (args: readonly string[], key: KeyPair, pgPort?: number): Promise<RunResult> =>
    runCommand(process.execPath, [cli, 'pg', ...args], {
      env: { PATH: process.env['PATH'], HOME: home, ...envOf(key), ...(pgPort === undefined ? {} : { PGHOST: '127.0.0.1', PGPORT: String(pgPort), PGUSER: 'postgres', PGDATABASE: 'postgres' }) },
      expectExitCode: 'any',
      timeoutMs: 60_000,
    });

  // A cluster archiving into the plain bucket; three backups with WAL switches in between.
  const archiveCommand = `'${process.execPath}' '${cli}' pg wal-push %p ${repo(PLAIN).join(' ')}`;
  const source = await startThrowawayCluster({ settings: { archive_mode: 'on', archive_command: archiveCommand, wal_level: 'replica' }, env: envOf(writer) });
  teardown.add(() => source.stop());
  await source.query('CREATE TABLE items (id bigint PRIMARY KEY, note text NOT NULL)');
  const backups: { id: string; startWalSegment: string }[] = [];
  for (let round = 0; round < 3; round++) {
    await source.query(`INSERT INTO items SELECT g, 'round ${round} ' || md5(g::text) FROM generate_series(${round * 1000 + 1}, ${round * 1000 + 1000}) g`);
    await switchAndArchive(source);
    const backup = await holdfastPg(['backup', '--json', ...repo(PLAIN)], writer, source.port);
    assert.equal(backup.code, 0, `${backup.stderr}\n${source.output().slice(-2000)}`);
    backups.push(JSON.parse(backup.stdout) as { id: string; startWalSegment: string });
    await switchAndArchive(source);
  }
  await source.query("INSERT INTO items SELECT g, 'after the last backup ' || g FROM generate_series(5001, 5100) g");
  const [latest] = await source.query<{ rows: number; digest: string }>(TABLE_DIGEST);
  await switchAndArchive(source);
  await source.stop();
  const [b1, b2, b3] = backups as [(typeof backups)[0], (typeof backups)[0], (typeof backups)[0]];
  t.diagnostic(`3 backups (${backups.map((b) => `${b.id} from ${b.startWalSegment}`).join(', ')}) and WAL archived (${elapsed()})`);

  // The same repository in the locked bucket: copies get the bucket's 1-day compliance default.
  const plainBefore = await listVersions(sdk, PLAIN);
  for (const v of plainBefore) await sdk.send(new CopyObjectCommand({ Bucket: LOCKED, Key: v.key, CopySource: `${PLAIN}/${v.key}` }));
  const lockedBefore = await listVersions(sdk, LOCKED);
  assert.equal(lockedBefore.length, plainBefore.length);

  // 1. A backup-writer key may plan but never delete: refused, exit 3, with the hint; nothing gone.
  const byWriter = await holdfastPg(['prune', '--keep-count', '1', ...repo(PLAIN)], writer);
  assert.equal(byWriter.code, 3, byWriter.stdout + byWriter.stderr);
  assert.match(byWriter.stderr, /AccessDenied.*pruner role/s);
  assert.doesNotMatch(byWriter.stderr, /\n\s+at /, 'no stack trace');
  assert.equal((await listVersions(sdk, PLAIN)).length, plainBefore.length, 'the writer deleted nothing');

  // 2. A dry run with the pruner key: the plan, nothing deleted.
  const dry = await holdfastPg(['prune', '--keep-count', '1', '--dry-run', '--json', ...repo(PLAIN)], pruner);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout) as PruneReport;
  assert.deepEqual(plan.backups.map((b) => [b.id, b.decision]), [[b3.id, 'keep'], [b2.id, 'would-remove'], [b1.id, 'would-remove']]);
  assert.equal((await listVersions(sdk, PLAIN)).length, plainBefore.length, 'a dry run deletes nothing');

  // 3. The prune itself.
  const pruneStarted = performance.now();
  const pruned = await holdfastPg(['prune', '--keep-count', '1', '--json', ...repo(PLAIN)], pruner);
  const pruneMs = performance.now() - pruneStarted;
  assert.equal(pruned.code, 0, pruned.stderr);
  const report = JSON.parse(pruned.stdout) as PruneReport;
  assert.deepEqual(report.backups.map((b) => [b.id, b.decision, b.reasons.join('+')]), [[b3.id, 'keep', 'newest+keep-count'], [b2.id, 'removed', ''], [b1.id, 'removed', '']]);
  assert.equal(report.wal.keptFrom, b3.startWalSegment);
  assert.ok(report.wal.removed > 0);
  const plainAfter = await listVersions(sdk, PLAIN);
  assert.deepEqual(plainAfter.filter((v) => v.deleteMarker), [], 'no delete marker left behind');
  assert.equal(report.deleted.versions, plainBefore.length - plainAfter.length, 'every deleted version is gone for good');
  assert.equal(report.deleted.deleteMarkers, 0);
  for (const old of [b1, b2]) assert.ok(!plainAfter.some((v) => v.key.includes(`/backups/${old.id}/`)), `nothing of backup ${old.id} remains`);
  assert.ok(plainAfter.some((v) => v.key.endsWith(`/backups/${b3.id}/manifest.json`)));
  const segmentsLeft = plainAfter.map((v) => v.key.slice(v.key.lastIndexOf('/') + 1)).filter((name) => /^[0-9A-F]{24}$/.test(name)).sort();
  assert.equal(segmentsLeft[0], b3.startWalSegment, 'WAL from the kept backup start on, nothing before');
  assert.ok(plainAfter.some((v) => v.key.includes(`/${b3.startWalSegment}.`) && v.key.endsWith('.backup')), "the kept backup's history file stays");
  t.diagnostic(`prune --keep-count 1: ${report.deleted.versions} versions (${report.deleted.bytes} bytes) deleted of ${plainBefore.length}, ${plainAfter.length} left, WAL files removed ${report.wal.removed}, in ${pruneMs.toFixed(0)} ms (${elapsed()})`);

  // 4. The kept backup restores to the latest state.
  const base = await makeRestoreBase();
  teardown.removeDir(base);
  const restored = await holdfastPg(['restore', '--into', join(base, 'data'), '--no-sync', '--json', ...repo(PLAIN)], reader);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal((JSON.parse(restored.stdout) as { backup: { id: string } }).backup.id, b3.id);
  const copy = await startRestoredCluster(base, { env: envOf(reader), settings: { recovery_target_action: 'promote' }, startTimeoutMs: 60_000 });
  teardown.add(() => copy.stop());
  await waitPromoted(copy);
  assert.deepEqual((await copy.query<{ rows: number; digest: string }>(TABLE_DIGEST))[0], latest, 'the kept backup plus the kept WAL give the latest state exactly');
  await copy.stop();
  t.diagnostic(`restore of the kept backup verified (${elapsed()})`);

  // 5. Under 1-day compliance retention: nothing deleted, the locks reported, exit 0.
  const onLocked = await holdfastPg(['prune', '--keep-count', '1', ...repo(LOCKED)], pruner);
  assert.equal(onLocked.code, 0, onLocked.stderr);
  assert.match(onLocked.stdout, new RegExp(`^${b1.id} .*kept: locked until 20\\d\\d-`, 'm'));
  assert.match(onLocked.stdout, /Deleted 0 version\(s\) and 0 delete marker\(s\)/);
  assert.match(onLocked.stdout, /kept because Object Lock still protects them/);
  const lockedAfter = await listVersions(sdk, LOCKED);
  assert.deepEqual(lockedAfter.map((v) => v.versionId).sort(), lockedBefore.map((v) => v.versionId).sort(), 'every version is still there, no marker added');
  const lockedJson = JSON.parse((await holdfastPg(['prune', '--keep-count', '1', '--json', ...repo(LOCKED)], pruner)).stdout) as PruneReport;
  assert.deepEqual(lockedJson.deleted, { versions: 0, deleteMarkers: 0, bytes: 0 });
  assert.ok(lockedJson.backups.filter((b) => b.id !== b3.id).every((b) => b.decision === 'kept-locked' && b.lockedUntil !== null));
  assert.ok(lockedJson.wal.keptLocked > 0 && lockedJson.wal.keptLocked === lockedJson.wal.files);
  t.diagnostic(`holdfast pg prune on the locked copy:\n${onLocked.stdout}`);

  // 6. Usage: no rule, or --keep-days beyond the policy's 90 days.
  const noRule = await holdfastPg(['prune', ...repo(PLAIN)], pruner);
  assert.equal(noRule.code, 2);
  const tooLong = await holdfastPg(['prune', '--keep-days', '120', ...repo(PLAIN)], pruner);
  assert.equal(tooLong.code, 2);
  assert.match(tooLong.stderr, /maximum backup retention of 90 days/);
  t.diagnostic(`whole test: ${elapsed()}`);
});
