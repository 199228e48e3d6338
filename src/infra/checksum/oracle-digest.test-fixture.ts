/**
 * Reference digests from implementations other than ours, for use as test expectations:
 * the AWS SDK's own checksum packages, and OpenSSL's SHA-1 in one shot.
 */
import { createHash } from 'node:crypto';

import { crc32 } from '@aws-crypto/crc32';
import { crc32c } from '@aws-crypto/crc32c';
import { Sha256 } from '@aws-crypto/sha256-js';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';

import type { ChecksumAlgorithm } from './checksum-algorithm.js';

export async function oracleDigest(algorithm: ChecksumAlgorithm, data: Uint8Array): Promise<Buffer> {
  switch (algorithm) {
    case 'CRC32':
      return uint32BigEndian(crc32(data));
    case 'CRC32C':
      return uint32BigEndian(crc32c(data));
    case 'CRC64NVME': {
      const crc = new Crc64Nvme();
      crc.update(data);
      return Buffer.from(await crc.digest());
    }
    case 'SHA1':
      return createHash('sha1').update(data).digest();
    case 'SHA256': {
      const sha = new Sha256();
      sha.update(data);
      return Buffer.from(await sha.digest());
    }
  }
}

function uint32BigEndian(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value, 0);
  return out;
}
