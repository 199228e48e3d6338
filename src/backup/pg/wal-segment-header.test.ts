import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readWalSegmentHeader } from './wal-segment-header.js';

/** The first 40 bytes of a segment as PostgreSQL 15 writes them on little-endian machines. */
function longHeader(fields: { magic?: number; info?: number; tli?: number; sysid?: bigint; segSize?: number; blockSize?: number }): Buffer {
  const b = Buffer.alloc(8192);
  b.writeUInt16LE(fields.magic ?? 0xd110, 0); // XLOG_PAGE_MAGIC of PostgreSQL 15
  b.writeUInt16LE(fields.info ?? 0x0006, 2); // XLP_LONG_HEADER | XLP_BKP_REMOVABLE
  b.writeUInt32LE(fields.tli ?? 1, 4);
  b.writeBigUInt64LE(0x1000000n, 8); // xlp_pageaddr
  b.writeBigUInt64LE(fields.sysid ?? 7311234567890123456n, 24);
  b.writeUInt32LE(fields.segSize ?? 16 * 1024 * 1024, 32);
  b.writeUInt32LE(fields.blockSize ?? 8192, 36);
  return b;
}

describe('WAL segment long page header', () => {
  test('system identifier (full 64 bits), timeline, segment and block size', () => {
    assert.deepEqual(readWalSegmentHeader(longHeader({ sysid: 18446744073709551615n, tli: 3 })), {
      systemIdentifier: '18446744073709551615',
      timeline: 3,
      segmentSize: 16 * 1024 * 1024,
      blockSize: 8192,
    });
  });

  test('not a segment start: zeros, short, no long-header flag, implausible sizes', () => {
    for (const bytes of [
      Buffer.alloc(8192),
      longHeader({}).subarray(0, 39),
      longHeader({ info: 0x0004 }),
      longHeader({ segSize: 3 * 1024 * 1024 }),
      longHeader({ segSize: 512 * 1024 }),
      longHeader({ blockSize: 100 }),
    ]) {
      assert.equal(readWalSegmentHeader(bytes), undefined);
    }
  });
});
