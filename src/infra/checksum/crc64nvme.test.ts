import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Crc64Nvme as OracleCrc64Nvme } from '@aws-sdk/crc64-nvme';
import fc from 'fast-check';

import { chunkedInput } from './chunked-input.test-fixture.js';
import { Crc64Nvme } from './crc64nvme.js';

async function oracleHex(data: Uint8Array): Promise<string> {
  const oracle = new OracleCrc64Nvme();
  oracle.update(data);
  return Buffer.from(await oracle.digest()).toString('hex');
}

function crc64Hex(chunks: readonly Uint8Array[]): string {
  const crc = new Crc64Nvme();
  for (const chunk of chunks) crc.update(chunk);
  return crc.digest().toString('hex');
}

void test('Crc64Nvme', async (t) => {
  await t.test('gives the CRC-64/NVME check value for "123456789", big-endian', () => {
    assert.equal(crc64Hex([Buffer.from('123456789')]), 'ae8b14860a799888');
  });

  await t.test('is 0 for no data', () => {
    assert.equal(crc64Hex([]), '0000000000000000');
  });

  await t.test('agrees with @aws-sdk/crc64-nvme for every length 0…40 at every alignment', async () => {
    const backing = new Uint8Array(48).map((_, i) => (i * 151 + 7) & 0xff);
    for (let offset = 0; offset < 8; offset++) {
      for (let length = 0; length <= 40; length++) {
        const data = backing.subarray(offset, offset + length);
        assert.equal(crc64Hex([data]), await oracleHex(data), `offset ${offset}, length ${length}`);
      }
    }
  });

  await t.test('agrees with @aws-sdk/crc64-nvme when fed in arbitrary chunks at any alignment', async () => {
    await fc.assert(
      fc.asyncProperty(chunkedInput(), async ({ whole, chunks }) => {
        assert.equal(crc64Hex(chunks), await oracleHex(whole));
      }),
      { numRuns: 500 },
    );
  });
});
