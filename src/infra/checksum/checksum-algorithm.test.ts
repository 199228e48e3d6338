import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  checksumAlgorithms,
  checksumDigestLength,
  checksumHeaderName,
  parseChecksumAlgorithm,
  supportsCompositeChecksum,
} from './checksum-algorithm.js';

void test('checksum algorithms', async (t) => {
  await t.test('lists the five S3 algorithms, frozen', () => {
    assert.deepEqual(checksumAlgorithms, ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']);
    assert.ok(Object.isFrozen(checksumAlgorithms));
  });

  await t.test('parses names case-insensitively', () => {
    assert.equal(parseChecksumAlgorithm('crc32'), 'CRC32');
    assert.equal(parseChecksumAlgorithm('CRC32C'), 'CRC32C');
    assert.equal(parseChecksumAlgorithm('Crc64Nvme'), 'CRC64NVME');
    assert.equal(parseChecksumAlgorithm('sha1'), 'SHA1');
    assert.equal(parseChecksumAlgorithm('SHA256'), 'SHA256');
  });

  await t.test('returns undefined for anything else', () => {
    for (const name of [
      '',
      'md5',
      'crc-32',
      'CRC32 ',
      ' crc32',
      'sha-256',
      'crc64',
      'constructor',
      '__proto__',
      'toString',
      '\u017Fha1', // "ſha1": upper-cases to "SHA1"
      'x-amz-checksum-crc32',
    ]) {
      assert.equal(parseChecksumAlgorithm(name), undefined, JSON.stringify(name));
    }
  });

  await t.test('names the x-amz-checksum-* headers as S3 does', () => {
    assert.deepEqual(checksumAlgorithms.map(checksumHeaderName), [
      'x-amz-checksum-crc32',
      'x-amz-checksum-crc32c',
      'x-amz-checksum-crc64nvme',
      'x-amz-checksum-sha1',
      'x-amz-checksum-sha256',
    ]);
  });

  await t.test('knows the digest lengths', () => {
    assert.deepEqual(checksumAlgorithms.map(checksumDigestLength), [4, 4, 8, 20, 32]);
  });

  await t.test('allows COMPOSITE for every algorithm but CRC64NVME', () => {
    assert.deepEqual(checksumAlgorithms.filter(supportsCompositeChecksum), [
      'CRC32',
      'CRC32C',
      'SHA1',
      'SHA256',
    ]);
  });
});
