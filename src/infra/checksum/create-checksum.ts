import { type Hash, createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

import type { ChecksumAlgorithm } from './checksum-algorithm.js';
import { crc32c } from './crc32c.js';
import { Crc64Nvme } from './crc64nvme.js';
import type { IncrementalChecksum } from './incremental-checksum.js';

/**
 * A fresh checksum for one body. `digest()` does not end the computation: it may be called at
 * any point (e.g. at each aws-chunked chunk boundary) and `update()` may continue afterwards.
 */
export function createChecksum(algorithm: ChecksumAlgorithm): IncrementalChecksum {
  switch (algorithm) {
    case 'CRC32':
      return new Crc32Checksum();
    case 'CRC32C':
      return new Crc32cChecksum();
    case 'CRC64NVME':
      return new Crc64Nvme();
    case 'SHA1':
      return new HashChecksum('sha1');
    case 'SHA256':
      return new HashChecksum('sha256');
    default:
      throw new TypeError(`unknown checksum algorithm ${String(algorithm)}`);
  }
}

/** CRC-32 (ISO-HDLC, as zlib): native `zlib.crc32`, Node ≥ 20.15, takes the running value. */
class Crc32Checksum implements IncrementalChecksum {
  #crc = 0;
  update(chunk: Uint8Array): void {
    this.#crc = crc32(chunk, this.#crc);
  }
  digest(): Buffer {
    return uint32BigEndian(this.#crc);
  }
}

class Crc32cChecksum implements IncrementalChecksum {
  #crc = 0;
  update(chunk: Uint8Array): void {
    this.#crc = crc32c(chunk, this.#crc);
  }
  digest(): Buffer {
    return uint32BigEndian(this.#crc);
  }
}

/** SHA-1 / SHA-256 through OpenSSL. `copy()` keeps `digest()` non-final, as for the CRCs. */
class HashChecksum implements IncrementalChecksum {
  readonly #hash: Hash;
  constructor(name: 'sha1' | 'sha256') {
    this.#hash = createHash(name);
  }
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }
  digest(): Buffer {
    return this.#hash.copy().digest();
  }
}

/** S3 transmits CRC values big-endian (the SDKs' `numToUint8`), so the digest is too. */
function uint32BigEndian(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}
