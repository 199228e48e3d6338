/**
 * crc(A || B) from crc(A), crc(B) and len(B), without the data: what S3's FULL_OBJECT multipart
 * checksum needs, because the whole-object CRC of a multipart upload must be derived from the
 * part CRCs (S3 User Guide, "Checking object integrity", full object checksums).
 *
 * Method (zlib crc32.c, crc32_combine since 1.2.12; Mark Adler's write-up on Stack Overflow
 * question 23122312): for a CRC whose initial value equals its final XOR,
 *   crc(A || B) = crc(A) · x^(8·len(B)) mod P  ⊕  crc(B),
 * where values are polynomials over GF(2) in the reflected bit order the CRC itself uses (the
 * most significant bit is the x^0 coefficient). CRC-32, CRC-32C and CRC-64/NVME all start from
 * and finish with all ones, so the identity holds for each. x^(8n) is built from a table of
 * x^(2^k) mod P, one multiplication per set bit of 8n.
 */

import type { CrcAlgorithm } from './checksum-algorithm.js';

/** Reflected polynomials, as the CRCs themselves use them. */
const CRC32_POLYNOMIAL = 0xedb88320; // ISO-HDLC / zlib
const CRC32C_POLYNOMIAL = 0x82f63b78; // Castagnoli, RFC 3720 §B.4
const CRC64NVME_POLYNOMIAL_HI = 0x9a6c9329; // NVMe NVM Command Set §5.2.1.3
const CRC64NVME_POLYNOMIAL_LO = 0xac4bc9b5;

/** 8·len must be representable: lengths up to 2^53 − 1 bytes need x^(2^k) for k < 56. */
const POWERS = 56;

/** a · b mod P for 32-bit reflected polynomials. */
function multiplyModP32(a: number, b: number, polynomial: number): number {
  let product = 0;
  for (let bit = 31; bit >= 0; bit--) {
    if ((a >>> bit) & 1) product ^= b;
    b = b & 1 ? (b >>> 1) ^ polynomial : b >>> 1; // b · x
  }
  return product >>> 0;
}

/** x^(2^k) mod P for k = 0 … POWERS − 1. In reflected order x^1 is bit 30. */
function powersOfX32(polynomial: number): Uint32Array {
  const powers = new Uint32Array(POWERS);
  powers[0] = 0x40000000;
  for (let k = 1; k < POWERS; k++) {
    const previous = powers[k - 1]!;
    powers[k] = multiplyModP32(previous, previous, polynomial);
  }
  return powers;
}

interface Wide {
  hi: number;
  lo: number;
}

/** a · b mod P for 64-bit reflected polynomials held as 32-bit halves (no BigInt on this path). */
function multiplyModP64(a: Wide, b: Wide): Wide {
  let productHi = 0;
  let productLo = 0;
  let { hi, lo } = b;
  for (let bit = 63; bit >= 0; bit--) {
    const aBit = bit >= 32 ? (a.hi >>> (bit - 32)) & 1 : (a.lo >>> bit) & 1;
    if (aBit) {
      productHi ^= hi;
      productLo ^= lo;
    }
    const carry = lo & 1;
    lo = (lo >>> 1) | (hi << 31);
    hi >>>= 1;
    if (carry) {
      hi ^= CRC64NVME_POLYNOMIAL_HI;
      lo ^= CRC64NVME_POLYNOMIAL_LO;
    }
  }
  return { hi: productHi >>> 0, lo: productLo >>> 0 };
}

function powersOfX64(): Wide[] {
  const powers: Wide[] = [{ hi: 0x40000000, lo: 0 }];
  for (let k = 1; k < POWERS; k++) {
    const previous = powers[k - 1]!;
    powers.push(multiplyModP64(previous, previous));
  }
  return powers;
}

const crc32Powers = powersOfX32(CRC32_POLYNOMIAL);
const crc32cPowers = powersOfX32(CRC32C_POLYNOMIAL);
const crc64nvmePowers = powersOfX64();

/**
 * The set bits of 8·length, as indexes into the x^(2^k) tables. Plain arithmetic rather than
 * bit operators, because lengths above 2^32 (S3 objects reach 5 TiB) overflow 32-bit shifts.
 */
function bitsOfBitLength(length: number): number[] {
  const bits: number[] = [];
  for (let k = 3, n = length; n > 0; k++, n = Math.floor(n / 2)) {
    if (n % 2 === 1) bits.push(k);
  }
  return bits;
}

/**
 * crc(A || B) for CRC32, CRC32C or CRC64NVME, given the raw big-endian digests of A and B (as
 * `IncrementalChecksum.digest()` returns them) and the length of B in bytes.
 */
export function combineCrc(
  algorithm: CrcAlgorithm,
  first: Buffer,
  second: Buffer,
  secondLength: number,
): Buffer {
  if (!Number.isSafeInteger(secondLength) || secondLength < 0) {
    throw new RangeError(`secondLength must be a non-negative safe integer, got ${secondLength}`);
  }
  switch (algorithm) {
    case 'CRC32':
    case 'CRC32C': {
      requireLength(algorithm, first, 4);
      requireLength(algorithm, second, 4);
      const polynomial = algorithm === 'CRC32' ? CRC32_POLYNOMIAL : CRC32C_POLYNOMIAL;
      const powers = algorithm === 'CRC32' ? crc32Powers : crc32cPowers;
      let crc = first.readUInt32BE(0);
      for (const k of bitsOfBitLength(secondLength)) {
        crc = multiplyModP32(powers[k]!, crc, polynomial);
      }
      const out = Buffer.allocUnsafe(4);
      out.writeUInt32BE((crc ^ second.readUInt32BE(0)) >>> 0, 0);
      return out;
    }
    case 'CRC64NVME': {
      requireLength(algorithm, first, 8);
      requireLength(algorithm, second, 8);
      let crc: Wide = { hi: first.readUInt32BE(0), lo: first.readUInt32BE(4) };
      for (const k of bitsOfBitLength(secondLength)) {
        crc = multiplyModP64(crc64nvmePowers[k]!, crc);
      }
      const out = Buffer.allocUnsafe(8);
      out.writeUInt32BE((crc.hi ^ second.readUInt32BE(0)) >>> 0, 0);
      out.writeUInt32BE((crc.lo ^ second.readUInt32BE(4)) >>> 0, 4);
      return out;
    }
    default:
      throw new TypeError(`${String(algorithm)} is not a combinable CRC`);
  }
}

function requireLength(algorithm: CrcAlgorithm, digest: Buffer, length: number): void {
  if (digest.length !== length) {
    throw new RangeError(`${algorithm} digest must be ${length} bytes, got ${digest.length}`);
  }
}
