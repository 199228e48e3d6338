/**
 * Public entry for S3 integrity checksums: the five algorithms of `x-amz-checksum-*`, their
 * header names and base64 form, and the two multipart forms (COMPOSITE and FULL_OBJECT).
 * Import from here, not from the files behind it.
 */
export {
  type ChecksumAlgorithm,
  type CrcAlgorithm,
  checksumAlgorithms,
  checksumDigestLength,
  checksumHeaderName,
  parseChecksumAlgorithm,
  supportsCompositeChecksum,
} from './checksum-algorithm.js';
export { decodeChecksum, encodeChecksum } from './checksum-encoding.js';
export { compositeChecksum } from './composite-checksum.js';
export { combineCrc } from './crc-combine.js';
export { createChecksum } from './create-checksum.js';
export type { IncrementalChecksum } from './incremental-checksum.js';
