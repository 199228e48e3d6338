import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { walObjectKey, walPrefix, walTimelinePrefix } from './wal-archive-layout.js';
import { parseWalFileName } from './wal-file-name.js';

describe('WAL file names', () => {
  test('the four kinds PostgreSQL archives, with their timeline', () => {
    assert.deepEqual(parseWalFileName('000000010000000000000001'), { name: '000000010000000000000001', kind: 'segment', timeline: '00000001' });
    assert.deepEqual(parseWalFileName('0000000A00000003000000FF.partial'), { name: '0000000A00000003000000FF.partial', kind: 'partial', timeline: '0000000A' });
    assert.deepEqual(parseWalFileName('000000010000000000000002.00000028.backup'), { name: '000000010000000000000002.00000028.backup', kind: 'backup-history', timeline: '00000001' });
    assert.deepEqual(parseWalFileName('00000002.history'), { name: '00000002.history', kind: 'timeline-history', timeline: '00000002' });
  });

  test('anything else is not a WAL file name', () => {
    for (const name of [
      '',
      'RECOVERYXLOG',
      '00000001000000000000001', // 23 digits
      '0000000100000000000000011',
      '000000010000000000000001.gz',
      '00000001000000000000000a', // PostgreSQL writes upper-case hex
      '000000000000000000000001', // timeline 0 does not exist
      '00000000.history',
      '00000001.history.partial',
      '../00000001.history',
      '000000010000000000000002.0000028.backup',
    ]) {
      assert.equal(parseWalFileName(name), undefined, name);
    }
  });

  test('keys: PREFIX/wal/TIMELINE/NAME, suffixes kept, no prefix at the bucket root', () => {
    const key = (prefix: string, name: string) => walObjectKey(prefix, parseWalFileName(name)!);
    assert.equal(key('main', '000000010000000000000001'), 'main/wal/00000001/000000010000000000000001');
    assert.equal(key('a/b', '000000020000000000000001.partial'), 'a/b/wal/00000002/000000020000000000000001.partial');
    assert.equal(key('', '00000003.history'), 'wal/00000003/00000003.history');
    assert.equal(walTimelinePrefix('main', '00000001'), 'main/wal/00000001/');
    assert.equal(walPrefix(''), 'wal/');
  });

  test('keys sort in WAL order within a timeline, so a listing walks segments in order', () => {
    const names = ['000000010000000100000000', '0000000100000000000000FF', '000000010000000000000010', '000000010000000000000009'];
    const keys = names.map((n) => walObjectKey('p', parseWalFileName(n)!));
    assert.deepEqual([...keys].sort(), ['p/wal/00000001/000000010000000000000009', 'p/wal/00000001/000000010000000000000010', 'p/wal/00000001/0000000100000000000000FF', 'p/wal/00000001/000000010000000100000000']);
  });
});
