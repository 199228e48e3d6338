import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type BackupCatalog, walRangesOf } from './backup-catalog.js';
import type { BackupManifest } from './backup-manifest.js';
import { overviewOf } from './repository-overview.js';
import { planRetention, POLICY_MAX_BACKUP_RETENTION_DAYS, type RetentionPlan, RetentionPolicyError, retentionPolicy, type StoredKey } from './retention-plan.js';
import { parseTimelineHistory } from './timeline-history.js';
import { type ArchivedWalFile, walArchiveListingOf } from './wal-archive-listing.js';
import { parseWalFileName } from './wal-file-name.js';

const MiB16 = 16 * 1024 * 1024;
const DAY = 24 * 3600 * 1000;
/** A fixed "now": tests never depend on today's date. */
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const PREFIX = 'prod';

const seg = (timeline: number, n: number) => `${timeline.toString(16).padStart(8, '0').toUpperCase()}00000000${n.toString(16).toUpperCase().padStart(8, '0')}`;
const walKey = (name: string) => `${PREFIX}/wal/${name.slice(0, 8)}/${name}`;

interface BackupSpec {
  readonly id: string;
  readonly timeline: number;
  readonly start: number;
  readonly stop: number;
  readonly stoppedDaysAgo: number;
}

function manifestOf(spec: BackupSpec): BackupManifest {
  const stopMs = NOW - spec.stoppedDaysAgo * DAY;
  return {
    id: spec.id,
    timeline: spec.timeline,
    walSegmentSize: MiB16,
    startLsn: `0/${spec.start.toString(16).toUpperCase()}000028`,
    stopLsn: `0/${spec.stop.toString(16).toUpperCase()}000100`,
    startWalSegment: seg(spec.timeline, spec.start),
    stopWalSegment: seg(spec.timeline, spec.stop),
    backupHistoryFile: `${seg(spec.timeline, spec.start)}.00000028.backup`,
    startTime: new Date(stopMs - 60_000).toISOString(),
    stopTime: new Date(stopMs).toISOString(),
  } as unknown as BackupManifest;
}

interface Repository {
  readonly backups: readonly BackupSpec[];
  /** Archived WAL file names (segments, partials, .backup and .history files). */
  readonly wal: readonly string[];
  readonly histories?: Readonly<Record<number, string>>;
  /** Extra stored keys: incomplete folders, strays. */
  readonly extra?: readonly StoredKey[];
  readonly invalid?: readonly string[];
}

function stored(key: string, modifiedMs = NOW - 30 * DAY, versions = 1, deleteMarkers = 0): StoredKey {
  return { key, versions, deleteMarkers, newestModifiedMs: modifiedMs };
}

function plan(repo: Repository, keepCount: number | undefined, keepDays: number | undefined, stillLocked?: ReadonlySet<string>): RetentionPlan {
  const manifests = repo.backups.map(manifestOf);
  const files: ArchivedWalFile[] = repo.wal.map((name) => ({ name, kind: parseWalFileName(name)!.kind, key: walKey(name), size: 1, lastModifiedMs: NOW - DAY }));
  const listing = walArchiveListingOf(files);
  const catalog: BackupCatalog = { backups: manifests, invalid: (repo.invalid ?? []).map((key) => ({ key, problem: 'not JSON' })), wal: walRangesOf(listing), listing };
  const histories = new Map(Object.entries(repo.histories ?? {}).map(([tl, text]) => [Number(tl), parseTimelineHistory(text, Number(tl))]));
  const keys: StoredKey[] = [
    ...manifests.flatMap((m) => [`${PREFIX}/backups/${m.id}/manifest.json`, `${PREFIX}/backups/${m.id}/base.tar.gz.part-00001`, `${PREFIX}/backups/${m.id}/base.tar.gz.part-00002`].map((k) => stored(k))),
    ...files.map((f) => stored(f.key)),
    ...(repo.extra ?? []),
  ];
  return planRetention({ overview: overviewOf(catalog, histories), stored: keys, prefix: PREFIX, policy: retentionPolicy(keepCount, keepDays), nowMs: NOW, ...(stillLocked === undefined ? {} : { stillLocked }) });
}

const B1: BackupSpec = { id: '20261116T120000Z-aaaaaa', timeline: 1, start: 2, stop: 3, stoppedDaysAgo: 10 };
const B2: BackupSpec = { id: '20261121T120000Z-bbbbbb', timeline: 1, start: 5, stop: 6, stoppedDaysAgo: 5 };
const B3: BackupSpec = { id: '20261125T120000Z-cccccc', timeline: 1, start: 8, stop: 9, stoppedDaysAgo: 1 };
const backupFile = (b: BackupSpec) => `${seg(b.timeline, b.start)}.00000028.backup`;
/** Three backups on timeline 1 and WAL 1..10 with each backup's history file. */
const LINEAR: Repository = { backups: [B1, B2, B3], wal: [...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => seg(1, n)), backupFile(B1), backupFile(B2), backupFile(B3)] };

const decisions = (p: RetentionPlan) => Object.fromEntries(p.backups.map((b) => [b.manifest.id, b.keep ? b.reasons.join('+') : 'remove']));
const walNames = (p: RetentionPlan) => p.wal.removable.map((key) => key.slice(key.lastIndexOf('/') + 1));

describe('retention plan', () => {
  test('--keep-count keeps the N newest; the others go, manifest first, with the WAL before the oldest kept start', () => {
    const p = plan(LINEAR, 2, undefined);
    assert.deepEqual(decisions(p), { [B3.id]: 'newest+keep-count', [B2.id]: 'keep-count', [B1.id]: 'remove' });
    const removed = p.backups.find((b) => !b.keep)!;
    assert.deepEqual(removed.keys, [`${PREFIX}/backups/${B1.id}/manifest.json`, `${PREFIX}/backups/${B1.id}/base.tar.gz.part-00001`, `${PREFIX}/backups/${B1.id}/base.tar.gz.part-00002`]);
    assert.equal(p.wal.keptFrom, seg(1, 5));
    assert.deepEqual(walNames(p), [seg(1, 1), seg(1, 2), backupFile(B1), seg(1, 3), seg(1, 4)]);
  });

  test('--keep-days keeps the backups that stopped within D days', () => {
    assert.deepEqual(decisions(plan(LINEAR, undefined, 7)), { [B3.id]: 'newest+keep-days', [B2.id]: 'keep-days', [B1.id]: 'remove' });
    const p = plan(LINEAR, undefined, 3);
    assert.deepEqual(decisions(p), { [B3.id]: 'newest+keep-days', [B2.id]: 'remove', [B1.id]: 'remove' });
    assert.equal(p.wal.keptFrom, seg(1, 8));
    assert.deepEqual(walNames(p), [seg(1, 1), seg(1, 2), backupFile(B1), seg(1, 3), seg(1, 4), seg(1, 5), backupFile(B2), seg(1, 6), seg(1, 7)]);
  });

  test('a backup either rule keeps stays (the union)', () => {
    assert.deepEqual(decisions(plan(LINEAR, 1, 7)), { [B3.id]: 'newest+keep-count+keep-days', [B2.id]: 'keep-days', [B1.id]: 'remove' });
    assert.deepEqual(decisions(plan(LINEAR, 3, 1)), { [B3.id]: 'newest+keep-count+keep-days', [B2.id]: 'keep-count', [B1.id]: 'keep-count' });
    assert.deepEqual(walNames(plan(LINEAR, 3, 1)), [seg(1, 1)]);
  });

  test('the newest complete backup always stays, even when no rule keeps it; beyond the policy maximum it is reported', () => {
    const old = { backups: [{ ...B1, stoppedDaysAgo: 200 }, { ...B2, stoppedDaysAgo: 100 }], wal: [1, 2, 3, 4, 5, 6].map((n) => seg(1, n)) };
    const p = plan(old, undefined, 30);
    assert.deepEqual(decisions(p), { [B2.id]: 'newest', [B1.id]: 'remove' });
    assert.equal(p.warnings.length, 1);
    assert.match(p.warnings[0]!, new RegExp(`backup ${B2.id} .* ${POLICY_MAX_BACKUP_RETENTION_DAYS}-day maximum .* newest backup`));
  });

  test('--keep-count never keeps a backup past the policy maximum; the newest stays and is reported', () => {
    const monthly = { backups: [{ ...B1, stoppedDaysAgo: 95 }, { ...B2, stoppedDaysAgo: 60 }, { ...B3, stoppedDaysAgo: 30 }], wal: [1, 2, 3, 4, 5, 6, 7, 8].map((n) => seg(1, n)) };
    const p = plan(monthly, 6, undefined);
    assert.deepEqual(decisions(p), { [B3.id]: 'newest+keep-count', [B2.id]: 'keep-count', [B1.id]: 'remove' });
    assert.deepEqual(p.warnings, []);
  });

  test('across a timeline switch, the WAL a kept backup needs for a recovery to the newest WAL stays', () => {
    // Timeline 2 branched from 1 at 0/6000000 (segment 6); timeline 1's segment 6 was archived as .partial.
    const T1: BackupSpec = { id: '20261116T120000Z-111111', timeline: 1, start: 2, stop: 3, stoppedDaysAgo: 10 };
    const T2: BackupSpec = { id: '20261125T120000Z-222222', timeline: 2, start: 8, stop: 9, stoppedDaysAgo: 1 };
    const repo: Repository = {
      backups: [T1, T2],
      wal: [...[1, 2, 3, 4, 5].map((n) => seg(1, n)), `${seg(1, 6)}.partial`, '00000002.history', ...[6, 7, 8, 9, 10].map((n) => seg(2, n)), backupFile(T1), backupFile(T2)],
      histories: { 2: '1\t0/6000000\tno recovery target specified\n' },
    };
    const both = plan(repo, 2, undefined);
    assert.deepEqual(walNames(both), [seg(1, 1)], 'the timeline 1 backup needs timeline 1 from segment 2 and timeline 2 from the switch');
    const needed = [...[2, 3, 4, 5].map((n) => seg(1, n)), ...[6, 7, 8, 9, 10].map((n) => seg(2, n)), '00000002.history'];
    for (const name of needed) assert.ok(!walNames(both).includes(name), `${name} is needed`);

    const newestOnly = plan(repo, 1, undefined);
    assert.deepEqual(decisions(newestOnly), { [T2.id]: 'newest+keep-count', [T1.id]: 'remove' });
    assert.deepEqual(walNames(newestOnly), [seg(1, 1), seg(1, 2), backupFile(T1), seg(1, 3), seg(1, 4), seg(1, 5), `${seg(1, 6)}.partial`, seg(2, 6), seg(2, 7)]);
    assert.ok(!walNames(newestOnly).includes(seg(2, 8)), "the kept backup's start segment stays");
    assert.ok(!walNames(newestOnly).includes('00000002.history'), "the kept backup's own timeline history stays");
  });

  test('a timeline history file goes only when its timeline is entirely before every kept backup and on no kept path', () => {
    // Timeline 2 was an abandoned branch at segment 3; timeline 3 branched from 1 at segment 5.
    const T3: BackupSpec = { id: '20261125T120000Z-333333', timeline: 3, start: 7, stop: 7, stoppedDaysAgo: 1 };
    const repo: Repository = {
      backups: [B1, T3],
      wal: [...[1, 2, 3, 4].map((n) => seg(1, n)), '00000002.history', seg(2, 3), '00000003.history', ...[5, 6, 7, 8].map((n) => seg(3, n))],
      histories: { 2: '1\t0/3000000\tabandoned\n', 3: '1\t0/5000000\tno recovery target specified\n' },
    };
    const p = plan(repo, 1, undefined);
    assert.ok(walNames(p).includes('00000002.history'), 'abandoned timeline 2: its history goes with its WAL');
    assert.ok(walNames(p).includes(seg(2, 3)));
    assert.ok(!walNames(p).includes('00000003.history'), "the kept backup's timeline history stays");
    assert.equal(walNames(p).at(-1), '00000002.history', 'history files go last');
  });

  test('a backup the policy lets go but Object Lock still holds stays, and its WAL with it', () => {
    const p = plan(LINEAR, 1, undefined, new Set([B2.id]));
    assert.deepEqual(decisions(p), { [B3.id]: 'newest+keep-count', [B2.id]: 'locked', [B1.id]: 'remove' });
    assert.equal(p.wal.keptFrom, seg(1, 5));
  });

  test('incomplete backup folders go after 24 h unchanged; invalid manifests and unknown keys are left alone', () => {
    const abandoned = '20261120T000000Z-dddddd';
    const uploading = '20261126T100000Z-eeeeee';
    const broken = '20261119T000000Z-ffffff';
    const repo: Repository = {
      ...LINEAR,
      extra: [
        stored(`${PREFIX}/backups/${abandoned}/base.tar.gz.part-00001`, NOW - 2 * DAY),
        stored(`${PREFIX}/backups/${abandoned}/manifest.json`, NOW - 2 * DAY, 0, 1),
        stored(`${PREFIX}/backups/${uploading}/base.tar.gz.part-00001`, NOW - 3 * DAY),
        stored(`${PREFIX}/backups/${uploading}/base.tar.gz.part-00002`, NOW - 3600_000),
        stored(`${PREFIX}/backups/${broken}/manifest.json`),
        stored(`${PREFIX}/backups/${broken}/base.tar.gz.part-00001`),
        stored(`${PREFIX}/backups/${B1.id}/notes.txt`),
        stored(`${PREFIX}/wal/00000001/readme`),
      ],
      invalid: [`${PREFIX}/backups/${broken}/manifest.json`],
    };
    const p = plan(repo, 1, undefined);
    const byId = Object.fromEntries(p.incomplete.map((f) => [f.id, f]));
    assert.deepEqual(Object.keys(byId).sort(), [abandoned, uploading]);
    assert.equal(byId[abandoned]!.removable, true);
    assert.deepEqual(byId[abandoned]!.keys, [`${PREFIX}/backups/${abandoned}/manifest.json`, `${PREFIX}/backups/${abandoned}/base.tar.gz.part-00001`], 'the delete marker of a half-pruned manifest goes first');
    assert.equal(byId[uploading]!.removable, false, 'a part written an hour ago: still uploading');
    assert.ok(p.untouched.includes(`${PREFIX}/backups/${broken}/base.tar.gz.part-00001`));
    assert.ok(p.untouched.includes(`${PREFIX}/backups/${B1.id}/notes.txt`));
    assert.ok(p.untouched.includes(`${PREFIX}/wal/00000001/readme`));
    assert.ok(!p.backups.find((b) => b.manifest.id === B1.id)!.keys.includes(`${PREFIX}/backups/${B1.id}/notes.txt`));
    assert.ok(p.warnings.some((w) => w.includes(broken)));
  });

  test('fails closed: an unreadable timeline history file stops all WAL removal', () => {
    const manifests = LINEAR.backups.map(manifestOf);
    const listing = walArchiveListingOf(LINEAR.wal.map((name) => ({ name, kind: parseWalFileName(name)!.kind, key: walKey(name), size: 1, lastModifiedMs: 0 })));
    const overview = overviewOf({ backups: manifests, invalid: [], wal: walRangesOf(listing), listing }, new Map(), ['00000002.history: not a history file']);
    const p = planRetention({ overview, stored: LINEAR.wal.map((n) => stored(walKey(n))), prefix: PREFIX, policy: retentionPolicy(1, undefined), nowMs: NOW });
    assert.deepEqual(p.wal.removable, []);
    assert.match(p.wal.notPruned!, /history file cannot be read/);
  });

  test('a policy needs a rule, whole numbers, and --keep-days within the 90-day maximum', () => {
    assert.throws(() => retentionPolicy(undefined, undefined), RetentionPolicyError);
    assert.throws(() => retentionPolicy(0, undefined), /--keep-count/);
    assert.throws(() => retentionPolicy(undefined, 91), /maximum backup retention of 90 days after data deletion/);
    assert.deepEqual(retentionPolicy(undefined, 90), { keepCount: undefined, keepDays: 90 });
    assert.deepEqual(retentionPolicy(400, undefined), { keepCount: 400, keepDays: undefined });
  });
});
