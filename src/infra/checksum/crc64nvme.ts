/**
 * CRC-64/NVME, the checksum S3 calls CRC64NVME and adds by default to objects uploaded without
 * one: NVM Express NVM Command Set Specification §5.2.1.3 ("64b CRC"), "CRC-64/NVME" in the
 * Williams/Rocksoft catalogue: reflected polynomial 0x9A6C9329AC4BC9B5, initial value and final
 * XOR all ones, check value ("123456789") 0xAE8B14860A799888.
 *
 * BigInt arithmetic is an order of magnitude too slow for the upload path, so the 64-bit
 * register is kept as two 32-bit halves and the tables hold (lo, hi) pairs. Slicing-by-8
 * consumes eight bytes per step with sixteen table loads; measured about twice as fast as the
 * pure-JS implementation in @aws-sdk/crc64-nvme.
 */

import type { IncrementalChecksum } from './incremental-checksum.js';

const POLYNOMIAL_LO = 0xac4bc9b5;
const POLYNOMIAL_HI = 0x9a6c9329;

/**
 * tables[2 * (k * 256 + b)] and [... + 1]: low and high halves of the CRC contribution of byte
 * b followed by k zero bytes. Interleaved so each lookup touches one cache line.
 */
const tables = buildTables();

/** Typed-array views use host byte order; the word loop assumes little-endian. */
const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256 * 2);
  for (let b = 0; b < 256; b++) {
    let lo = b;
    let hi = 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = (lo >>> 1) | (hi << 31);
      hi >>>= 1;
      if (carry) {
        lo ^= POLYNOMIAL_LO;
        hi ^= POLYNOMIAL_HI;
      }
    }
    t[2 * b] = lo;
    t[2 * b + 1] = hi;
  }
  // Appending a zero byte: crc' = (crc >> 8) ^ T0[crc & 0xff].
  for (let i = 256; i < 8 * 256; i++) {
    const lo = t[2 * (i - 256)]!;
    const hi = t[2 * (i - 256) + 1]!;
    const j = 2 * (lo & 0xff);
    t[2 * i] = ((lo >>> 8) | (hi << 24)) ^ t[j]!;
    t[2 * i + 1] = (hi >>> 8) ^ t[j + 1]!;
  }
  return t;
}

/** Incremental CRC-64/NVME; `digest()` is the 8-byte big-endian value S3 base64-encodes. */
export class Crc64Nvme implements IncrementalChecksum {
  // The register as stored between calls: already inverted (init = all ones).
  #lo = 0xffffffff;
  #hi = 0xffffffff;

  update(data: Uint8Array): void {
    let i = 0;
    const end = data.length;
    // Reading the input as aligned little-endian 32-bit words (two loads per 8 bytes instead of
    // eight loads, six shifts and six ORs) measured about 15% faster. Typed-array views need
    // 4-byte alignment, so bytes before the first aligned offset go through the byte loop.
    if (hostIsLittleEndian) {
      const misalignment = (4 - (data.byteOffset & 3)) & 3;
      const head = Math.min(misalignment, end);
      this.#updateBytes(data, 0, head);
      i = head;
      const blocks = (end - i) >>> 3;
      if (blocks > 0) {
        this.#updateWords(new Int32Array(data.buffer, data.byteOffset + i, blocks * 2));
        i += blocks * 8;
      }
    }
    this.#updateBytes(data, i, end);
  }

  /** Slicing-by-8 over pairs of little-endian words: [bytes 0..3, bytes 4..7] per block. */
  #updateWords(words: Int32Array): void {
    // Indexes stay within the tables and the input; the `!`s only satisfy
    // noUncheckedIndexedAccess.
    const t = tables;
    let lo = this.#lo;
    let hi = this.#hi;
    for (let k = 0; k < words.length; k += 2) {
      lo ^= words[k]!;
      hi ^= words[k + 1]!;
      const a = 2 * (1792 + (lo & 0xff));
      const b = 2 * (1536 + ((lo >>> 8) & 0xff));
      const c = 2 * (1280 + ((lo >>> 16) & 0xff));
      const d = 2 * (1024 + (lo >>> 24));
      const e = 2 * (768 + (hi & 0xff));
      const f = 2 * (512 + ((hi >>> 8) & 0xff));
      const g = 2 * (256 + ((hi >>> 16) & 0xff));
      const h = 2 * (hi >>> 24);
      lo = t[a]! ^ t[b]! ^ t[c]! ^ t[d]! ^ t[e]! ^ t[f]! ^ t[g]! ^ t[h]!;
      hi = t[a + 1]! ^ t[b + 1]! ^ t[c + 1]! ^ t[d + 1]! ^ t[e + 1]! ^ t[f + 1]! ^ t[g + 1]! ^ t[h + 1]!;
    }
    this.#lo = lo;
    this.#hi = hi;
  }

  /** One byte at a time (Sarwate), for unaligned heads, tails and big-endian hosts. */
  #updateBytes(data: Uint8Array, from: number, to: number): void {
    const t = tables;
    let lo = this.#lo;
    let hi = this.#hi;
    for (let i = from; i < to; i++) {
      const j = 2 * ((lo ^ data[i]!) & 0xff);
      lo = ((lo >>> 8) | (hi << 24)) ^ t[j]!;
      hi = (hi >>> 8) ^ t[j + 1]!;
    }
    this.#lo = lo;
    this.#hi = hi;
  }

  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE(~this.#hi >>> 0, 0);
    out.writeUInt32BE(~this.#lo >>> 0, 4);
    return out;
  }
}
