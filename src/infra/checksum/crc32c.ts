/**
 * CRC-32C (Castagnoli): the RFC 3720 §B.4 iSCSI CRC, "CRC-32/ISCSI" in the Williams/Rocksoft
 * catalogue: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF. Node has no
 * native CRC-32C, and this sits on the upload path, so it is table driven with slicing-by-8
 * (Kounavis & Berry, "A Systematic Approach to Building High Performance Software-based CRC
 * Generators", 2005): one 32-bit XOR and eight table loads per eight input bytes.
 */

const POLYNOMIAL = 0x82f63b78;

/** tables[k * 256 + b]: the CRC contribution of byte b followed by k zero bytes. */
const tables = buildTables();

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let crc = b;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    t[b] = crc;
  }
  for (let i = 256; i < t.length; i++) {
    const previous = t[i - 256]!;
    t[i] = (previous >>> 8) ^ t[previous & 0xff]!;
  }
  return t;
}

/**
 * CRC-32C of `data`, continuing from `value`, the CRC-32C of everything before it (0 to start),
 * the same running-value contract as `zlib.crc32(data, value)`.
 */
export function crc32c(data: Uint8Array, value = 0): number {
  // The index expressions below are always within the tables and the data, so the `!`s only
  // tell the compiler what noUncheckedIndexedAccess cannot see.
  const t = tables;
  let crc = ~value;
  let i = 0;
  const end = data.length;
  const blockEnd = end - (end % 8);
  while (i < blockEnd) {
    crc ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    crc =
      t[1792 + (crc & 0xff)]! ^
      t[1536 + ((crc >>> 8) & 0xff)]! ^
      t[1280 + ((crc >>> 16) & 0xff)]! ^
      t[1024 + (crc >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = (crc >>> 8) ^ t[(crc ^ data[i++]!) & 0xff]!;
  return ~crc >>> 0;
}
