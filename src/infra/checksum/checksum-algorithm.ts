/**
 * The integrity checksums S3 accepts in `x-amz-checksum-*` headers, aws-chunked trailers and
 * `x-amz-sdk-checksum-algorithm` (AWS S3 User Guide, "Checking object integrity";
 * API reference, PutObject `ChecksumAlgorithm`).
 */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

export const checksumAlgorithms: readonly ChecksumAlgorithm[] = Object.freeze([
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
]);

/**
 * Whether S3 offers the COMPOSITE multipart checksum type for the algorithm. CRC64NVME does not:
 * "The CRC64NVME checksum is always a full object checksum" (API reference, PutObject
 * `x-amz-checksum-crc64nvme`), so its multipart uploads get the FULL_OBJECT value (`combineCrc`).
 */
export function supportsCompositeChecksum(algorithm: ChecksumAlgorithm): boolean {
  return algorithm !== 'CRC64NVME';
}

/** The CRCs whose values can be combined without the data (FULL_OBJECT multipart checksums). */
export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

const digestLengths: ReadonlyMap<ChecksumAlgorithm, number> = new Map([
  ['CRC32', 4],
  ['CRC32C', 4],
  ['CRC64NVME', 8],
  ['SHA1', 20],
  ['SHA256', 32],
]);

/** Length in bytes of the raw digest: 4, 4, 8, 20 or 32. */
export function checksumDigestLength(algorithm: ChecksumAlgorithm): number {
  const length = digestLengths.get(algorithm);
  if (length === undefined) throw new TypeError(`unknown checksum algorithm ${String(algorithm)}`);
  return length;
}

// A Map rather than an object literal, so that names like "constructor" or "__proto__" cannot
// resolve to inherited properties.
const byLowerCaseName: ReadonlyMap<string, ChecksumAlgorithm> = new Map(
  checksumAlgorithms.map((algorithm) => [algorithm.toLowerCase(), algorithm]),
);

/**
 * `'crc32'` → `'CRC32'` etc., case-insensitively, as clients send it in
 * `x-amz-sdk-checksum-algorithm`, `x-amz-checksum-algorithm` and trailer names; `undefined` for
 * anything else. Lower-casing (not upper-casing) the input matters: U+017F "ſ" upper-cases to
 * "S", so "ſha1" would otherwise pass as SHA1.
 */
export function parseChecksumAlgorithm(name: string): ChecksumAlgorithm | undefined {
  return byLowerCaseName.get(name.toLowerCase());
}

/**
 * `'x-amz-checksum-crc32'` etc.: the header and trailer name, in lower case as Node presents
 * incoming header names.
 */
export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  checksumDigestLength(algorithm); // rejects values smuggled past the type system
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}
