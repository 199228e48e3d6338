import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CopyObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { type KeyPair, clientFor, createIdentityWithKey, holdfastCli, rootKey } from '../support/admin-cli.js';
import { requireTool, runCommand, type RunResult } from '../support/tools.js';
import { startVault } from '../support/vault-server.js';
import { makeRestoreBase, PG_BIN, startRestoredCluster, startThrowawayCluster } from './throwaway-cluster.js';
import { waitUntil } from '../support/wait-until.js';
import { createLockedBucket, switchAndArchive, waitPromoted } from './pg-test-kit.js';
import { Teardown } from '../support/teardown.js';
import { FILE_CHECK_INLINE } from '../../src/backup/pg/point-in-time-restore.js';

/**
 * Point-in-time recovery end to end, with real PostgreSQL 15 clusters and the built CLI: a cluster
 * archives into an object-locked vault bucket (wal-push, backup-writer key); base backup; writes;
 * a destructive event (DROP TABLE); then `holdfast pg restore` (restore-reader key) to just
 * before it by time, by restore point and by LSN, to the latest WAL, across a timeline switch
 * (restore, promote with archiving on, write, back up again), and from a copy of the archive
 * with a hole — which must fail naming the missing segment before writing anything.
 */

const cli = process.env['HOLDFAST_TEST_SERVER_ENTRY'] ?? holdfastCli;
const BUCKET = 'pg-pitr';
const PREFIX = 'prod';
const HOLE_PREFIX = 'prod-with-hole';

const teardown = new Teardown();
after(() => teardown.run());

/** A fingerprint of a table's exact contents. */
const TABLE_DIGEST = (table: string) => `SELECT count(*)::int AS rows, coalesce(md5(string_agg(id::text || ':' || note, ',' ORDER BY id)), '') AS digest FROM ${table}`;

interface Digest {
  rows: number;
  digest: string;
}

/** Switches to a new segment and waits until the archiver has pushed the one just closed. */

test('holdfast pg restore: point-in-time recovery by time, restore point, LSN and latest; across a timeline switch; a WAL hole is named', { timeout: 300_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'initdb'), ['--version'], 'postgresql-15'))) return;
  if (!(await requireTool(t, join(PG_BIN, 'pg_verifybackup'), ['--version'], 'postgresql-15'))) return;
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const home = await mkdtemp(join(tmpdir(), 'holdfast-pitr-home-'));
  teardown.removeDir(home);

  const vault = await startVault();
  teardown.add(() => vault.stop());
  const root = rootKey(vault);
  const sdk = clientFor(vault, root);
  teardown.add(() => sdk.destroy());
  await createLockedBucket(sdk, BUCKET);
  const writer: KeyPair = await createIdentityWithKey(vault, root, 'pg-writer', ['backup-writer'], ['--service']);
  const reader: KeyPair = await createIdentityWithKey(vault, root, 'pg-restorer', ['restore-reader']);
  const endpoint = vault.endpoint;
  const repo = (prefix: string) => ['--repo', `s3://${BUCKET}/${prefix}`, '--endpoint', endpoint];
  const writerEnv = { AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey, AWS_REGION: 'us-east-1' };
  const readerEnv = { AWS_ACCESS_KEY_ID: reader.accessKeyId, AWS_SECRET_ACCESS_KEY: reader.secretAccessKey, AWS_REGION: 'us-east-1' };
  const archiveCommand = `'${process.execPath}' '${cli}' pg wal-push %p ${repo(PREFIX).join(' ')}`;
  const holdfastPg = (args: readonly string[], env: Record<string, string>, pgPort?: number): Promise<RunResult> =>
    runCommand(process.execPath, [cli, 'pg', ...args], {
      env: { PATH: process.env['PATH'], HOME: home, ...env, ...(pgPort === undefined ? {} : { PGHOST: '127.0.0.1', PGPORT: String(pgPort), PGUSER: 'postgres', PGDATABASE: 'postgres' }) },
      expectExitCode: 'any',
      timeoutMs: 120_000,
    });
  const restore = async (args: readonly string[], prefix = PREFIX): Promise<{ result: RunResult; base: string }> => {
    const base = await makeRestoreBase();
    teardown.removeDir(base);
    const result = await holdfastPg(['restore', '--into', join(base, 'data'), '--json', ...args, ...repo(prefix)], readerEnv);
    return { result, base };
  };
  const startRestored = async (base: string, settings: Record<string, string> = {}, env: Record<string, string> = readerEnv) => {
    const pg = await startRestoredCluster(base, { env, settings, startTimeoutMs: 90_000 });
    teardown.add(() => pg.stop());
    return pg;
  };

  // The production cluster, archiving into the vault.
  const source = await startThrowawayCluster({ settings: { archive_mode: 'on', archive_command: archiveCommand, wal_level: 'replica' }, env: writerEnv });
  teardown.add(() => source.stop());
  await source.query('CREATE TABLE orders (id bigint PRIMARY KEY, note text NOT NULL)');
  await source.query("INSERT INTO orders SELECT g, 'first ' || md5(g::text) FROM generate_series(1, 5000) g");
  const backup = await holdfastPg(['backup', '--json', '--part-mib', '1', ...repo(PREFIX)], writerEnv, source.port);
  assert.equal(backup.code, 0, `${backup.stderr}\n${source.output().slice(-2000)}`);
  const firstBackup = (JSON.parse(backup.stdout) as { id: string; stopWalSegment: string }).id;

  // After the backup: more writes, then the moment to return to, then the destructive event.
  await source.query("INSERT INTO orders SELECT g, 'second ' || md5(g::text) FROM generate_series(5001, 8000) g");
  await source.query("UPDATE orders SET note = note || ' updated' WHERE id % 7 = 0");
  const [beforeDrop] = await source.query<Digest>(TABLE_DIGEST('orders'));
  const [marks] = await source.query<{ at: string; lsn: string }>("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS at, pg_create_restore_point('before-drop')::text AS lsn");
  await source.query('DROP TABLE orders');
  await source.query('CREATE TABLE after_drop (id bigint PRIMARY KEY, note text NOT NULL)');
  await source.query("INSERT INTO after_drop SELECT g, 'late ' || g FROM generate_series(1, 100) g");
  const [afterDrop] = await source.query<Digest>(TABLE_DIGEST('after_drop'));
  const lastSegment = await switchAndArchive(source);
  t.diagnostic(`source: backup ${firstBackup}, target ${marks!.at} / restore point at ${marks!.lsn}, archived through ${lastSegment} (${elapsed()})`);

  // 1. To just before the DROP, by time: the table as it was, exactly; promoted; archive_mode off.
  const byTime = await restore(['--target-time', marks!.at, '--target-action', 'promote']);
  assert.equal(byTime.result.code, 0, byTime.result.stderr);
  const report = JSON.parse(byTime.result.stdout) as { outcome: string; backup: { id: string }; fileCheck: string; settings: Record<string, string>; files: number };
  assert.equal(report.outcome, 'restored');
  assert.equal(report.backup.id, firstBackup);
  assert.equal(report.fileCheck, FILE_CHECK_INLINE);
  assert.equal(report.settings['archive_mode'], 'off');
  assert.doesNotMatch(await readFile(join(byTime.base, 'data', 'postgresql.auto.conf'), 'utf8'), new RegExp(reader.secretAccessKey), 'no secret in the restored configuration');
  const timeCopy = await startRestored(byTime.base);
  await waitPromoted(timeCopy);
  assert.deepEqual((await timeCopy.query<Digest>(TABLE_DIGEST('orders')))[0], beforeDrop, 'the table exactly as it was before the DROP');
  assert.equal((await timeCopy.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'after_drop'"))[0]!.n, 0, 'nothing after the target');
  assert.equal((await timeCopy.query<{ archive_mode: string }>('SHOW archive_mode'))[0]!.archive_mode, 'off');
  await timeCopy.stop();
  t.diagnostic(`restore by time verified (${elapsed()})`);

  // 2. By restore point name (pause: readable, still in recovery), and 3. by LSN, exclusive.
  const byName = await restore(['--target-name', 'before-drop']);
  assert.equal(byName.result.code, 0, byName.result.stderr);
  const nameCopy = await startRestored(byName.base);
  await waitUntil('recovery to pause at the restore point', async () => (await nameCopy.query<{ paused: string }>('SELECT pg_get_wal_replay_pause_state() AS paused'))[0]!.paused === 'paused', 60_000);
  assert.deepEqual((await nameCopy.query<Digest>(TABLE_DIGEST('orders')))[0], beforeDrop);
  await nameCopy.stop();
  const byLsn = await restore(['--target-lsn', marks!.lsn, '--target-exclusive', '--target-action', 'promote']);
  assert.equal(byLsn.result.code, 0, byLsn.result.stderr);
  const lsnCopy = await startRestored(byLsn.base);
  await waitPromoted(lsnCopy);
  assert.deepEqual((await lsnCopy.query<Digest>(TABLE_DIGEST('orders')))[0], beforeDrop);
  await lsnCopy.stop();
  t.diagnostic(`restore by name and by LSN verified (${elapsed()})`);

  // 4. Latest, made the new primary: archive_mode back on (the operator's decision), so its new
  // timeline 2 is archived. The old primary is gone.
  await source.stop();
  const latest = await restore([]);
  assert.equal(latest.result.code, 0, latest.result.stderr);
  const settings = { archive_mode: 'on', archive_command: archiveCommand };
  const primary2 = await startRestored(latest.base, settings, writerEnv);
  await waitPromoted(primary2);
  assert.equal((await primary2.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'orders'"))[0]!.n, 0, 'latest includes the DROP');
  assert.deepEqual((await primary2.query<Digest>(TABLE_DIGEST('after_drop')))[0], afterDrop, 'and everything archived after it');
  assert.equal((await primary2.query<{ tli: number }>('SELECT timeline_id AS tli FROM pg_control_checkpoint()'))[0]!.tli, 2);
  await primary2.query("INSERT INTO after_drop SELECT g, 'timeline two ' || g FROM generate_series(101, 300) g");
  const [onTimeline2] = await primary2.query<Digest>(TABLE_DIGEST('after_drop'));
  const secondBackup = await holdfastPg(['backup', '--json', ...repo(PREFIX)], writerEnv, primary2.port);
  assert.equal(secondBackup.code, 0, `${secondBackup.stderr}\n${primary2.output().slice(-2000)}`);
  assert.equal((JSON.parse(secondBackup.stdout) as { timeline: number }).timeline, 2);
  await primary2.query("INSERT INTO after_drop SELECT g, 'after second backup ' || g FROM generate_series(301, 350) g");
  const [newest] = await primary2.query<Digest>(TABLE_DIGEST('after_drop'));
  await switchAndArchive(primary2);
  await primary2.stop();
  assert.notDeepEqual(onTimeline2, newest);
  t.diagnostic(`timeline 2 primary backed up and archived (${elapsed()})`);

  // 5. From the first backup (timeline 1), latest follows the history file onto timeline 2.
  // (This restore's restore_command prefetches: the spool is in the postgres-owned scratch base.)
  const prefetchBase = await makeRestoreBase();
  teardown.removeDir(prefetchBase);
  const acrossTimelines = await restore(['--backup', firstBackup, '--prefetch', '4', '--spool', join(prefetchBase, 'spool')]);
  assert.equal(acrossTimelines.result.code, 0, acrossTimelines.result.stderr);
  const crossReport = JSON.parse(acrossTimelines.result.stdout) as { targetTimeline: number; walRequired: { timeline: number }[] };
  assert.equal(crossReport.targetTimeline, 2);
  assert.deepEqual(crossReport.walRequired.map((r) => r.timeline), [1, 2]);
  // restore started the prefetch worker itself, as the spool's owner (postgres), before the server asks for a file.
  const [startedSpool] = await readdir(join(prefetchBase, 'spool', 'archive-get'));
  const launchLog = await stat(join(prefetchBase, 'spool', 'archive-get', startedSpool!, 'worker.log'));
  assert.equal(launchLog.uid, (await stat(prefetchBase)).uid, 'restore started the prefetch worker as the owner of the spool');
  const crossCopy = await startRestored(acrossTimelines.base);
  await waitPromoted(crossCopy);
  assert.deepEqual((await crossCopy.query<Digest>(TABLE_DIGEST('after_drop')))[0], newest, 'timeline 1 backup + timeline 1 and 2 WAL = the newest state');
  assert.match(await readFile(join(acrossTimelines.base, 'data', 'postgresql.auto.conf'), 'utf8'), /--prefetch 4 --spool /);
  const [spoolFolder] = await readdir(join(prefetchBase, 'spool', 'archive-get'));
  assert.match(await readFile(join(prefetchBase, 'spool', 'archive-get', spoolFolder!, 'worker.log'), 'utf8'), /prefetched 0000000/, 'recovery was served ahead by the prefetch worker');
  await crossCopy.stop();
  // The newest backup (timeline 2) restores to the same state.
  const fromSecond = await restore([]);
  assert.equal(fromSecond.result.code, 0, fromSecond.result.stderr);
  const secondCopy = await startRestored(fromSecond.base);
  await waitPromoted(secondCopy);
  assert.deepEqual((await secondCopy.query<Digest>(TABLE_DIGEST('after_drop')))[0], newest);
  await secondCopy.stop();
  const listed = await holdfastPg(['list', ...repo(PREFIX)], readerEnv);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /timeline 00000002: /);
  t.diagnostic(`restores across the timeline switch verified (${elapsed()})`);

  // 6. A copy of the archive with one segment missing after the first backup's stop segment.
  const all: string[] = [];
  for (let token: string | undefined; ; ) {
    const page = await sdk.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/`, ContinuationToken: token }));
    all.push(...(page.Contents ?? []).map((o) => o.Key!));
    if (page.NextContinuationToken === undefined) break;
    token = page.NextContinuationToken;
  }
  const timeline1 = all.filter((key) => /\/wal\/00000001\/[0-9A-F]{24}$/.test(key)).sort();
  const stopSegment = (JSON.parse(backup.stdout) as { stopWalSegment: string }).stopWalSegment;
  const holeKey = timeline1.find((key) => key.endsWith('/wal/00000001/' + stopSegment) === false && key.slice(-24) > stopSegment);
  assert.ok(holeKey !== undefined, `a timeline 1 segment after ${stopSegment} to remove: ${timeline1.join(', ')}`);
  const holeSegment = holeKey.slice(-24);
  for (const key of all) {
    if (key === holeKey) continue;
    await sdk.send(new CopyObjectCommand({ Bucket: BUCKET, Key: `${HOLE_PREFIX}/${key.slice(PREFIX.length + 1)}`, CopySource: `${BUCKET}/${key}` }));
  }
  const holed = await restore(['--backup', firstBackup], HOLE_PREFIX);
  assert.equal(holed.result.code, 1, holed.result.stderr);
  assert.match(holed.result.stderr, new RegExp(`missing segment ${holeSegment}`));
  assert.equal((JSON.parse(holed.result.stdout) as { error: { kind: string } }).error.kind, 'wal-gap');
  await assert.rejects(readFile(join(holed.base, 'data', 'PG_VERSION')), 'nothing was restored');
  // The backup alone (to consistency) does not need the missing segment.
  const immediate = await restore(['--backup', firstBackup, '--target', 'immediate'], HOLE_PREFIX);
  assert.equal(immediate.result.code, 0, immediate.result.stderr);

  // show and verify: the intact repository is clean; the copy's hole is named by both, and a
  // planted damaged segment and a foreign object are found by verify.
  const cleanVerify = await holdfastPg(['verify', '--json', ...repo(PREFIX)], readerEnv);
  assert.equal(cleanVerify.code, 0, cleanVerify.stdout + cleanVerify.stderr);
  const clean = JSON.parse(cleanVerify.stdout) as { backups: number; objectsRead: number; problems: unknown[] };
  assert.equal(clean.backups, 2);
  assert.deepEqual(clean.problems, []);
  assert.ok(clean.objectsRead > 10, `every object read (${clean.objectsRead})`);
  const fakeName = '0000000100000000000000F0';
  await sdk.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: `${HOLE_PREFIX}/wal/00000001/${fakeName}`,
      Body: Buffer.from('not the segment that was archived'),
      Metadata: { 'holdfast-wal-format': '1', 'holdfast-wal-sha256': 'a'.repeat(64), 'holdfast-wal-size': '33', 'holdfast-wal-compression': 'none' },
    }),
  );
  await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${HOLE_PREFIX}/wal/notes.txt`, Body: 'someone else was here' }));
  const holedVerify = await holdfastPg(['verify', '--json', ...repo(HOLE_PREFIX)], readerEnv);
  assert.equal(holedVerify.code, 4, holedVerify.stdout + holedVerify.stderr);
  const found = (JSON.parse(holedVerify.stdout) as { problems: { kind: string; subject: string }[] }).problems;
  assert.ok(found.some((p) => p.kind === 'wal-gap' && p.subject === holeSegment), JSON.stringify(found));
  assert.ok(found.some((p) => p.kind === 'checksum' && p.subject.endsWith(fakeName)), JSON.stringify(found));
  assert.ok(found.some((p) => p.kind === 'foreign-object' && p.subject.endsWith('wal/notes.txt')), JSON.stringify(found));
  const quick = await holdfastPg(['verify', '--quick', ...repo(HOLE_PREFIX)], readerEnv);
  assert.equal(quick.code, 4, quick.stdout);
  assert.match(quick.stdout, new RegExp(`\\[wal-gap\\] segment ${holeSegment} is missing: a recovery from backup ${firstBackup}`));
  const shown = await holdfastPg(['show', ...repo(HOLE_PREFIX)], readerEnv);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`^${firstBackup} .* GAP at ${holeSegment}`, 'm'));
  assert.match(shown.stdout, new RegExp(`^ {2}1: .*missing: ${holeSegment}`, 'm'));
  assert.match(shown.stdout, /^ {2}2: .*branched from 1 at /m);
  t.diagnostic(`holdfast pg show of the copy with a hole:\n${shown.stdout}`);
  const shownBackup = await holdfastPg(['show', firstBackup, '--json', ...repo(PREFIX)], readerEnv);
  assert.equal(shownBackup.code, 0, shownBackup.stderr);
  const detail = JSON.parse(shownBackup.stdout) as { restorableToLatest: boolean; targetTimeline: number; manifest: { parts: unknown[] } };
  assert.equal(detail.restorableToLatest, true);
  assert.equal(detail.targetTimeline, 2);
  assert.ok(detail.manifest.parts.length >= 1);

  // Refusals that name the fix.
  const notEmpty = await makeRestoreBase();
  teardown.removeDir(notEmpty);
  await writeFile(join(notEmpty, 'stray'), 'x');
  const occupied = await holdfastPg(['restore', '--into', notEmpty, ...repo(PREFIX)], readerEnv);
  assert.equal(occupied.code, 2, occupied.stderr);
  assert.match(occupied.stderr, /is not empty .* give --into a new or empty directory/);
  const tooEarly = await holdfastPg(['restore', '--into', join(notEmpty, 'x'), '--target-time', '2000-01-01 00:00:00+00', ...repo(PREFIX)], readerEnv);
  assert.equal(tooEarly.code, 1, tooEarly.stderr);
  assert.match(tooEarly.stderr, /no backup in s3:\/\/pg-pitr\/prod ended before the target 2000-01-01 00:00:00\+00/);
  const noZone = await holdfastPg(['restore', '--into', join(notEmpty, 'x'), '--target-time', '2026-11-26 10:00:00', ...repo(PREFIX)], readerEnv);
  assert.equal(noZone.code, 2);
  assert.match(noZone.stderr, /not a timestamp with a time zone/);
  t.diagnostic(`whole test: ${elapsed()}`);
});
