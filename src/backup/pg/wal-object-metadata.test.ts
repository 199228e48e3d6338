import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readWalObjectMetadata, walObjectMetadata } from './wal-object-metadata.js';

const description = { sha256: 'ab'.repeat(32), size: 16777216, compression: 'gzip', systemIdentifier: '7311234567890123456' } as const;

describe('WAL object metadata', () => {
  test('round-trips through S3 user metadata', () => {
    const metadata = walObjectMetadata(description);
    assert.deepEqual(metadata, {
      'holdfast-wal-format': '1',
      'holdfast-wal-sha256': description.sha256,
      'holdfast-wal-size': '16777216',
      'holdfast-wal-compression': 'gzip',
      'holdfast-pg-system-id': '7311234567890123456',
    });
    assert.deepEqual(readWalObjectMetadata(metadata), description);
    assert.deepEqual(readWalObjectMetadata(walObjectMetadata({ ...description, systemIdentifier: undefined })), { ...description, systemIdentifier: undefined });
    const sealed = walObjectMetadata({ ...description, encryptionKeyId: '0123456789abcdef' });
    assert.equal(sealed['holdfast-encryption'], 'aes-256-gcm');
    assert.deepEqual(readWalObjectMetadata(sealed), { ...description, encryptionKeyId: '0123456789abcdef' });
  });

  test('objects not written in this format are not understood (another tool, a person, a tampered header)', () => {
    const good = walObjectMetadata(description);
    for (const metadata of [
      {},
      { ...good, 'holdfast-wal-format': '2' },
      { ...good, 'holdfast-wal-sha256': 'AB'.repeat(32) },
      { ...good, 'holdfast-wal-sha256': 'ab' },
      { ...good, 'holdfast-wal-size': '-1' },
      { ...good, 'holdfast-wal-size': 'many' },
      { ...good, 'holdfast-wal-compression': 'zstd' },
      { ...good, 'holdfast-encryption': 'rot13' },
    ]) {
      assert.equal(readWalObjectMetadata(metadata), undefined, JSON.stringify(metadata));
    }
  });
});
