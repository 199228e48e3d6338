import { type ChecksumAlgorithm, checksumDigestLength } from './checksum-algorithm.js';
import { encodeChecksum } from './checksum-encoding.js';
import { createChecksum } from './create-checksum.js';

/**
 * The COMPOSITE multipart checksum (S3 User Guide, "Checking object integrity", "Using part-level
 * checksums for multipart uploads"): the algorithm applied to the concatenation of the raw part
 * digests, in part-number order, reported as `<base64>-<partCount>` (three CRC32 parts give
 * twelve bytes to checksum and a value like `"xxxxxx==-3"`). Callers pass the digests already
 * ordered by part number.
 *
 * S3 itself never produces this for CRC64NVME, which "is always a full object checksum" (API
 * reference, PutObject `x-amz-checksum-crc64nvme`): a multipart upload with CRC64NVME gets the
 * FULL_OBJECT value instead, built with `combineCrc`. Check `supportsCompositeChecksum` first.
 * The value is still computed here for CRC64NVME, because it is well defined and refusing it
 * would turn a completable upload into a server error.
 */
export function compositeChecksum(
  algorithm: ChecksumAlgorithm,
  partDigests: readonly Buffer[],
): string {
  // S3 allows 1 … 10,000 parts (User Guide, "Amazon S3 multipart upload limits").
  if (partDigests.length === 0) throw new RangeError('a composite checksum needs at least one part');
  const length = checksumDigestLength(algorithm);
  const checksum = createChecksum(algorithm);
  partDigests.forEach((digest, index) => {
    if (digest.length !== length) {
      throw new RangeError(
        `part ${index + 1}: ${algorithm} digest must be ${length} bytes, got ${digest.length}`,
      );
    }
    checksum.update(digest);
  });
  return `${encodeChecksum(checksum.digest())}-${partDigests.length}`;
}
