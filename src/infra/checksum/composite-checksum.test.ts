import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { checksumAlgorithms } from './checksum-algorithm.js';
import { compositeChecksum } from './composite-checksum.js';
import { oracleDigest } from './oracle-digest.test-fixture.js';

void test('compositeChecksum', async (t) => {
  await t.test('is the CRC32 of the concatenated part CRC32s, then "-<partCount>"', () => {
    // CRC32 of "part one", "part two", "part three" per @aws-crypto/crc32; the expected value
    // is that package's CRC32 of the twelve concatenated bytes.
    const parts = ['8b1413b0', 'e0b21f27', '2fc23002'].map((hex) => Buffer.from(hex, 'hex'));
    assert.equal(compositeChecksum('CRC32', parts), 'HjvSlQ==-3');
  });

  for (const algorithm of checksumAlgorithms) {
    await t.test(`${algorithm}: checksum of the part digests in order, with the part count`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 12 }),
          async (bodies) => {
            const digests = await Promise.all(bodies.map((body) => oracleDigest(algorithm, body)));
            const expected = await oracleDigest(algorithm, Buffer.concat(digests));
            assert.equal(
              compositeChecksum(algorithm, digests),
              `${expected.toString('base64')}-${bodies.length}`,
            );
          },
        ),
        { numRuns: 100 },
      );
    });
  }

  await t.test('refuses no parts and part digests of the wrong size', () => {
    assert.throws(() => compositeChecksum('CRC32', []), RangeError);
    assert.throws(() => compositeChecksum('CRC32', [Buffer.alloc(4), Buffer.alloc(8)]), /part 2/);
    assert.throws(() => compositeChecksum('SHA256', [Buffer.alloc(20)]), RangeError);
  });
});
