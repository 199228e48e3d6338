import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { type ChecksumAlgorithm, checksumAlgorithms } from './checksum-algorithm.js';
import { decodeChecksum, encodeChecksum } from './checksum-encoding.js';

const lengths: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

void test('encodeChecksum', async (t) => {
  await t.test('is standard padded base64 of the big-endian digest', () => {
    // CRC32("123456789") = 0xCBF43926; "y/Q5Jg==" is what the AWS SDKs send for it.
    assert.equal(encodeChecksum(Buffer.from('cbf43926', 'hex')), 'y/Q5Jg==');
  });
});

void test('decodeChecksum', async (t) => {
  await t.test('returns the bytes of a well-formed value of the right length', () => {
    assert.deepEqual(decodeChecksum('CRC32', 'y/Q5Jg=='), Buffer.from('cbf43926', 'hex'));
    assert.deepEqual(
      decodeChecksum('SHA256', '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='),
      Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'),
    );
  });

  await t.test('accepts digests of exactly the algorithm length and nothing else', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...checksumAlgorithms),
        fc.uint8Array({ maxLength: 40 }),
        (algorithm, bytes) => {
          const decoded = decodeChecksum(algorithm, Buffer.from(bytes).toString('base64'));
          if (bytes.length === lengths[algorithm]) assert.deepEqual(decoded, Buffer.from(bytes));
          else assert.equal(decoded, undefined);
        },
      ),
      { numRuns: 1000 },
    );
  });

  await t.test('rejects malformed base64 that a lenient decoder would accept', () => {
    for (const value of [
      '', // empty
      'y/Q5Jg', // padding missing
      'y/Q5Jg=', // padding short
      'y/Q5Jh==', // stray low bits: decodes to the same bytes as y/Q5Jg==
      'y_Q5Jg==', // base64url alphabet
      ' y/Q5Jg=', // whitespace
      'y/Q5\nJg=', // line break
      'y/Q5Jg=!', // junk
      'y/Q5J===', // too much padding
      '=y/Q5Jg=', // padding first
    ]) {
      assert.equal(decodeChecksum('CRC32', value), undefined, JSON.stringify(value));
    }
  });
});
