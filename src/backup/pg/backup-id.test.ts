import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backupIdTimeMs, isBackupId, newBackupId } from './backup-id.js';

const AT = Date.UTC(2026, 10, 26, 9, 0, 0, 789);

test('a backup id is the UTC start second and six random hex digits', () => {
  const id = newBackupId(AT, (n) => Buffer.alloc(n, 0xab));
  assert.equal(id, '20261126T090000Z-ababab');
  assert.ok(isBackupId(id));
  assert.equal(backupIdTimeMs(id), Date.UTC(2026, 10, 26, 9, 0, 0));
});

test('two ids of the same second differ, and ids sort by time', () => {
  const a = newBackupId(AT);
  const b = newBackupId(AT);
  assert.notEqual(a, b);
  const later = newBackupId(AT + 1000);
  assert.ok(a < later && b < later);
});

test('texts that are not ids are refused', () => {
  for (const text of ['', '20261126T090000Z', '20261126T090000Z-ABABAB', '20261126T090000-ababab', '20260230T090000Z-ababab', '20261126T250000Z-ababab', '../20261126T090000Z-ababab', '20261126T090000Z-ababab/']) {
    assert.equal(isBackupId(text), false, text);
  }
});
