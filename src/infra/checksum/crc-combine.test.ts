import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';

import fc from 'fast-check';

import type { CrcAlgorithm } from './checksum-algorithm.js';
import { combineCrc } from './crc-combine.js';
import { oracleDigest } from './oracle-digest.test-fixture.js';

const crcAlgorithms: readonly CrcAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

void test('combineCrc', async (t) => {
  for (const algorithm of crcAlgorithms) {
    await t.test(`${algorithm}: combine(crc(A), crc(B), len(B)) = crc(A || B)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 600 }),
          fc.uint8Array({ maxLength: 600 }),
          async (a, b) => {
            const combined = combineCrc(
              algorithm,
              await oracleDigest(algorithm, a),
              await oracleDigest(algorithm, b),
              b.length,
            );
            assert.deepEqual(combined, await oracleDigest(algorithm, Buffer.concat([a, b])));
          },
        ),
        { numRuns: 300 },
      );
    });

    await t.test(`${algorithm}: folds many parts into the whole-object CRC (FULL_OBJECT)`, async () => {
      const parts = [5, 0, 1, 4096, 17, 100_000].map((length, n) =>
        Buffer.alloc(length, (n * 37 + 11) & 0xff),
      );
      let whole = await oracleDigest(algorithm, parts[0]!);
      for (const part of parts.slice(1)) {
        whole = combineCrc(algorithm, whole, await oracleDigest(algorithm, part), part.length);
      }
      assert.deepEqual(whole, await oracleDigest(algorithm, Buffer.concat(parts)));
    });
  }

  await t.test('handles a second part longer than 2^32 bytes (S3 parts reach 5 GiB)', () => {
    // zlib.crc32 is the reference here: native, and fast enough to run over 4 GiB of zeros.
    const zeros = Buffer.alloc(64 << 20);
    const secondLength = 2 ** 32 + 3;
    const first = Buffer.from('object head');
    let whole = crc32(first);
    let second = 0;
    for (let left = secondLength; left > 0; left -= zeros.length) {
      const chunk = zeros.subarray(0, Math.min(left, zeros.length));
      whole = crc32(chunk, whole);
      second = crc32(chunk, second);
    }
    const combined = combineCrc('CRC32', uint32(crc32(first)), uint32(second), secondLength);
    assert.deepEqual(combined, uint32(whole));
  });

  await t.test('rejects digests of the wrong size and impossible lengths', () => {
    const four = Buffer.alloc(4);
    const eight = Buffer.alloc(8);
    assert.throws(() => combineCrc('CRC32', eight, four, 1), RangeError);
    assert.throws(() => combineCrc('CRC32C', four, eight, 1), RangeError);
    assert.throws(() => combineCrc('CRC64NVME', four, four, 1), RangeError);
    for (const length of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
      assert.throws(() => combineCrc('CRC32', four, four, length), RangeError, String(length));
    }
    assert.throws(() => combineCrc('SHA1' as CrcAlgorithm, four, four, 1), TypeError);
  });
});

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value, 0);
  return out;
}
