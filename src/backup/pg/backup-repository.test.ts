import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatRepositoryLocation, parseRepositoryLocation, RepositoryLocationError } from './backup-repository.js';

describe('repository locations', () => {
  test('s3://BUCKET/PREFIX, slashes at the ends of the prefix dropped', () => {
    assert.deepEqual(parseRepositoryLocation('s3://pg-backups/main-cluster'), { bucket: 'pg-backups', prefix: 'main-cluster' });
    assert.deepEqual(parseRepositoryLocation('s3://pg-backups/a/b/'), { bucket: 'pg-backups', prefix: 'a/b' });
    assert.deepEqual(parseRepositoryLocation('s3://pg-backups'), { bucket: 'pg-backups', prefix: '' });
    assert.deepEqual(parseRepositoryLocation('s3://pg-backups/'), { bucket: 'pg-backups', prefix: '' });
    assert.equal(formatRepositoryLocation({ bucket: 'b1b', prefix: 'x' }), 's3://b1b/x');
    assert.equal(formatRepositoryLocation({ bucket: 'b1b', prefix: '' }), 's3://b1b');
  });

  test('refused, with the reason: not s3://, a bad bucket name, empty or dot segments', () => {
    for (const [text, reason] of [
      ['pg-backups/main', /not an s3:\/\/BUCKET\/PREFIX URL/],
      ['https://pg-backups/main', /not an s3:\/\/BUCKET\/PREFIX URL/],
      ['s3://PG_Backups/main', /not a valid bucket name/],
      ['s3://ab/main', /not a valid bucket name/],
      ['s3://pg-backups/a//b', /empty, "\." or "\.\." segment/],
      ['s3://pg-backups/a/../b', /empty, "\." or "\.\." segment/],
    ] as const) {
      assert.throws(() => parseRepositoryLocation(text), (e: unknown) => e instanceof RepositoryLocationError && reason.test(e.message), text);
    }
  });
});
