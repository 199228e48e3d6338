import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backupManifestKey, basePartKey } from './backup-layout.js';
import { type BackupManifest, BackupManifestError, hasIndependentParts, parseBackupManifest, serializeBackupManifest } from './backup-manifest.js';
import { parseBackupHistoryFile } from './backup-history-file.js';
import { backupHistoryFileName, formatLsn, parseLsn, walSegmentNameAt, walSegmentNameBefore } from './wal-position.js';

const SEG = 16 * 1024 * 1024;
const HEX = (c: string) => c.repeat(64);

const valid: BackupManifest = {
  format: 'holdfast-pg-base-backup',
  version: 1,
  id: '20261126T090000Z-0a1b2c',
  label: 'holdfast 20261126T090000Z-0a1b2c',
  systemIdentifier: '7441234567890123456',
  pgVersion: '15.8 (Debian 15.8-1.pgdg120+1)',
  pgVersionNum: 150008,
  walSegmentSize: SEG,
  timeline: 1,
  startLsn: '0/5000028',
  stopLsn: '0/5000138',
  startWalSegment: '000000010000000000000005',
  stopWalSegment: '000000010000000000000005',
  backupHistoryFile: '000000010000000000000005.00000028.backup',
  startTime: '2026-11-26T09:00:00.000Z',
  stopTime: '2026-11-26T09:00:03.250Z',
  compression: 'gzip',
  tarBytes: 40_000_000,
  tarSha256: HEX('a'),
  compressedBytes: 300,
  compressedSha256: HEX('b'),
  parts: [
    { key: 'db/backups/20261126T090000Z-0a1b2c/base.tar.gz.part-00001', size: 200, sha256: HEX('c') },
    { key: 'db/backups/20261126T090000Z-0a1b2c/base.tar.gz.part-00002', size: 100, sha256: HEX('d') },
  ],
};

test('a manifest survives serialize and parse unchanged', () => {
  assert.deepEqual(parseBackupManifest(serializeBackupManifest(valid), 'k'), valid);
});

const independent: BackupManifest = {
  ...valid,
  parts: [
    { ...valid.parts[0]!, tarBytes: 30_000_000 },
    { ...valid.parts[1]!, tarBytes: 10_000_000 },
  ],
};

test('parts that are gzip members of their own carry their tar bytes, and are told apart from one-stream backups', () => {
  const parsed = parseBackupManifest(serializeBackupManifest(independent), 'k');
  assert.deepEqual(parsed, independent);
  assert.equal(hasIndependentParts(parsed), true);
  assert.equal(hasIndependentParts(parseBackupManifest(serializeBackupManifest(valid), 'k')), false);
});

test('malformed and inconsistent manifests are refused, naming the problem', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['another format', { ...valid, format: 'pgbackrest' }, /"format"/],
    ['a newer version', { ...valid, version: 2 }, /"version" 2 is not supported/],
    ['a bad id', { ...valid, id: '2026-11-26' }, /"id"/],
    ['an LSN that is not one', { ...valid, stopLsn: '0x5000138' }, /not an LSN/],
    ['stop before start', { ...valid, stopLsn: '0/4000000' }, /before "startLsn"/],
    ['a segment on another timeline', { ...valid, stopWalSegment: '000000020000000000000005' }, /"stopWalSegment"/],
    ['a history file that is a segment', { ...valid, backupHistoryFile: '000000010000000000000005' }, /"backupHistoryFile"/],
    ['a local time', { ...valid, startTime: '2026-11-26 09:00:00' }, /"startTime"/],
    ['no parts', { ...valid, parts: [] }, /"parts"/],
    ['a part without checksum', { ...valid, parts: [{ key: 'x', size: 300 }] }, /part 1/],
    ['tar bytes on some parts only', { ...independent, parts: [independent.parts[0], valid.parts[1]] }, /"tarBytes" is given for 1 of 2 parts/],
    ['part tar bytes that do not add up', { ...independent, tarBytes: 40_000_001 }, /add up to 40000000, "tarBytes" says 40000001/],
    ['part tar bytes that are not a count', { ...independent, parts: [{ ...independent.parts[0], tarBytes: 0 }, independent.parts[1]] }, /part 1: "tarBytes"/],
    ['sizes that do not add up', { ...valid, compressedBytes: 301 }, /300 bytes, "compressedBytes" says 301/],
    ['a segment size that is none', { ...valid, walSegmentSize: 1000 }, /"walSegmentSize"/],
    ['a missing system identifier', { ...valid, systemIdentifier: undefined }, /"systemIdentifier"/],
  ];
  for (const [name, value, message] of cases) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    assert.throws(() => parseBackupManifest(text, 'db/backups/x/manifest.json'), (e: unknown) => e instanceof BackupManifestError && message.test(e.message) && e.message.includes('db/backups/x/manifest.json'), name);
  }
});

test('LSNs parse and print as PostgreSQL does', () => {
  assert.equal(parseLsn('0/5000028'), 0x5000028n);
  assert.equal(parseLsn('1A/FF'), (0x1an << 32n) | 0xffn);
  assert.equal(formatLsn(parseLsn('1A/FF')!), '1A/FF');
  assert.equal(parseLsn('5000028'), undefined);
});

test('the segment of an LSN, the segment before an end, and the backup history file name', () => {
  assert.equal(walSegmentNameAt(1, parseLsn('0/5000028')!, SEG), '000000010000000000000005');
  assert.equal(walSegmentNameAt(3, parseLsn('1A/FF000000')!, SEG), '000000030000001A000000FF');
  // An end exactly on a boundary needs nothing of the next segment (XLByteToPrevSeg).
  assert.equal(walSegmentNameBefore(1, parseLsn('0/6000000')!, SEG), '000000010000000000000005');
  assert.equal(walSegmentNameBefore(1, parseLsn('0/6000001')!, SEG), '000000010000000000000006');
  assert.equal(walSegmentNameAt(1, parseLsn('0/5000028')!, 64 * 1024 * 1024), '000000010000000000000001');
  assert.equal(backupHistoryFileName(1, parseLsn('0/5000028')!, SEG), '000000010000000000000005.00000028.backup');
  assert.throws(() => walSegmentNameAt(1, 0n, 1000), RangeError);
});

test('the backup history file gives the WAL range and label of the backup', () => {
  const text = [
    'START WAL LOCATION: 0/5000028 (file 000000010000000000000005)',
    'STOP WAL LOCATION: 0/5000138 (file 000000010000000000000005)',
    'CHECKPOINT LOCATION: 0/5000060',
    'BACKUP METHOD: streamed',
    'BACKUP FROM: primary',
    'START TIME: 2026-11-26 09:00:00 UTC',
    'LABEL: holdfast 20261126T090000Z-0a1b2c',
    'START TIMELINE: 1',
    'STOP TIME: 2026-11-26 09:00:03 UTC',
    'STOP TIMELINE: 1',
    '',
  ].join('\n');
  assert.deepEqual(parseBackupHistoryFile(text), { label: 'holdfast 20261126T090000Z-0a1b2c', startLsn: '0/5000028', stopLsn: '0/5000138', startTimeline: 1, stopTimeline: 1 });
  assert.equal(parseBackupHistoryFile(text.replace('STOP TIMELINE: 1', '')), undefined);
  assert.equal(parseBackupHistoryFile('not a history file'), undefined);
});

test('backup keys sit under PREFIX/backups/ID/ with parts in order', () => {
  assert.equal(backupManifestKey('db', valid.id), 'db/backups/20261126T090000Z-0a1b2c/manifest.json');
  assert.equal(backupManifestKey('', valid.id), 'backups/20261126T090000Z-0a1b2c/manifest.json');
  assert.equal(basePartKey('db', valid.id, 12), 'db/backups/20261126T090000Z-0a1b2c/base.tar.gz.part-00012');
  assert.throws(() => basePartKey('db', valid.id, 0), RangeError);
});
