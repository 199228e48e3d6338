import assert from 'node:assert/strict';
import { test } from 'node:test';

import { crc32c as oracleCrc32c } from '@aws-crypto/crc32c';
import fc from 'fast-check';

import { chunkedInput } from './chunked-input.test-fixture.js';
import { crc32c } from './crc32c.js';

void test('crc32c', async (t) => {
  await t.test('gives the CRC-32/ISCSI check value for "123456789"', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });

  await t.test('matches the RFC 3720 §B.4 examples', () => {
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });

  await t.test('is 0 for no data, and 0 as a running value starts afresh', () => {
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(0), 0xe3069283), 0xe3069283);
  });

  await t.test('agrees with @aws-crypto/crc32c when fed in arbitrary chunks at any alignment', () => {
    fc.assert(
      fc.property(chunkedInput(), ({ whole, chunks }) => {
        let value = 0;
        for (const chunk of chunks) value = crc32c(chunk, value);
        assert.equal(value, oracleCrc32c(whole));
      }),
      { numRuns: 500 },
    );
  });
});
