import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { type ChecksumAlgorithm, checksumAlgorithms } from './checksum-algorithm.js';
import { chunkedInput } from './chunked-input.test-fixture.js';
import { createChecksum } from './create-checksum.js';
import { oracleDigest } from './oracle-digest.test-fixture.js';

function digestHex(algorithm: ChecksumAlgorithm, chunks: readonly Uint8Array[]): string {
  const checksum = createChecksum(algorithm);
  for (const chunk of chunks) checksum.update(chunk);
  return checksum.digest().toString('hex');
}

void test('createChecksum', async (t) => {
  await t.test('gives the catalogued CRC check values for "123456789"', () => {
    const data = [Buffer.from('123456789')];
    assert.equal(digestHex('CRC32', data), 'cbf43926');
    assert.equal(digestHex('CRC32C', data), 'e3069283');
    assert.equal(digestHex('CRC64NVME', data), 'ae8b14860a799888');
  });

  await t.test('gives the FIPS 180-2 example digests for "abc"', () => {
    const data = [Buffer.from('abc')];
    assert.equal(digestHex('SHA1', data), 'a9993e364706816aba3e25717850c26c9cd0d89d');
    assert.equal(
      digestHex('SHA256', data),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  await t.test('has the digest length S3 expects for each algorithm', () => {
    const lengths = checksumAlgorithms.map((algorithm) => createChecksum(algorithm).digest().length);
    assert.deepEqual(lengths, [4, 4, 8, 20, 32]);
  });

  for (const algorithm of checksumAlgorithms) {
    await t.test(`${algorithm}: agrees with the reference implementation over arbitrary chunks`, async () => {
      await fc.assert(
        fc.asyncProperty(chunkedInput(), async ({ whole, chunks }) => {
          const expected = (await oracleDigest(algorithm, whole)).toString('hex');
          assert.equal(digestHex(algorithm, chunks), expected);
        }),
        { numRuns: 200 },
      );
    });

    await t.test(`${algorithm}: digest() can be read mid-stream and the stream continued`, async () => {
      const head = Buffer.from('first chunk of the body, ');
      const tail = Buffer.from('and the rest of it');
      const checksum = createChecksum(algorithm);
      checksum.update(head);
      assert.deepEqual(checksum.digest(), await oracleDigest(algorithm, head));
      assert.deepEqual(checksum.digest(), await oracleDigest(algorithm, head));
      checksum.update(tail);
      assert.deepEqual(checksum.digest(), await oracleDigest(algorithm, Buffer.concat([head, tail])));
    });
  }

  await t.test('refuses an algorithm outside the union', () => {
    assert.throws(() => createChecksum('MD5' as ChecksumAlgorithm), TypeError);
  });
});
