import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, test } from 'node:test';
import { encodeWal, walDecoder } from './wal-compression.js';

async function decode(encoded: { compression: 'gzip' | 'none'; body: Uint8Array }): Promise<Buffer> {
  const decoder = walDecoder(encoded.compression);
  const source = Readable.from([encoded.body]);
  return buffer(decoder === undefined ? source : source.pipe(decoder));
}

describe('WAL compression', () => {
  test('a mostly empty 16 MiB segment shrinks to a few KiB and decodes to the same bytes', async () => {
    const segment = Buffer.alloc(16 * 1024 * 1024);
    randomBytes(64 * 1024).copy(segment, 0);
    const encoded = await encodeWal(segment);
    assert.equal(encoded.compression, 'gzip');
    assert.ok(encoded.body.length < 200 * 1024, `${encoded.body.length} bytes`);
    assert.ok((await decode(encoded)).equals(segment));
  });

  test('bytes that do not shrink are stored as they are', async () => {
    const noise = randomBytes(256 * 1024);
    const encoded = await encodeWal(noise);
    assert.equal(encoded.compression, 'none');
    assert.equal(encoded.body, noise);
    assert.ok((await decode(encoded)).equals(noise));
  });

  test('level 0 stores as-is; levels outside 0..9 are refused', async () => {
    assert.equal((await encodeWal(Buffer.alloc(100), 0)).compression, 'none');
    await assert.rejects(encodeWal(Buffer.alloc(1), 10), RangeError);
  });
});
