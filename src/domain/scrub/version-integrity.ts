import { createHash, type Hash } from 'node:crypto';
import { compositeChecksum, createChecksum, type IncrementalChecksum } from '../../infra/checksum/checksum.js';
import type { ObjectVersionRecord } from '../model.js';

/** Why a version's stored bytes are not what was acknowledged when it was written. */
export type IntegrityProblem = 'missing-blob' | 'size-mismatch' | 'etag-mismatch' | 'checksum-mismatch' | 'read-error';

export interface IntegrityFinding {
  readonly problem: IntegrityProblem;
  /** What was expected and what was found, for the record and the alert. */
  readonly detail: string;
}

/**
 * Recomputes what a version's metadata promises about its bytes, fed chunk by chunk as they are
 * read back: the size, the ETag and, when the version has one, its S3 checksum.
 *
 * The ETag is the MD5 of the bytes for a single-part object and, for a multipart object, the
 * MD5 of the parts' MD5s followed by `-N` (what CompleteMultipartUpload produced; the part
 * boundaries come from `partSizes`). A COMPOSITE checksum is the checksum of the parts' raw
 * digests (AWS User Guide, "Checking object integrity"); a FULL_OBJECT checksum is over all bytes.
 */
export class VersionIntegrityCheck {
  readonly #version: ObjectVersionRecord;
  readonly #partSizes: readonly number[];
  readonly #partMd5s: Buffer[] = [];
  readonly #partChecksums: Buffer[] = [];
  #partIndex = 0;
  #partRemaining: number;
  #md5: Hash = createHash('md5');
  #partChecksum: IncrementalChecksum | undefined;
  readonly #wholeChecksum: IncrementalChecksum | undefined;
  #bytes = 0;

  constructor(version: ObjectVersionRecord) {
    this.#version = version;
    // A single-part object is checked as one "part" the size of the object.
    this.#partSizes = version.partSizes.length === 0 ? [version.size] : version.partSizes;
    this.#partRemaining = this.#partSizes[0] ?? 0;
    const checksum = version.checksum;
    this.#wholeChecksum = checksum !== undefined && checksum.type === 'FULL_OBJECT' ? createChecksum(checksum.algorithm) : undefined;
    this.#partChecksum = checksum !== undefined && checksum.type === 'COMPOSITE' ? createChecksum(checksum.algorithm) : undefined;
  }

  get bytes(): number {
    return this.#bytes;
  }

  update(chunk: Uint8Array): void {
    this.#bytes += chunk.length;
    this.#wholeChecksum?.update(chunk);
    let offset = 0;
    while (offset < chunk.length) {
      // Bytes beyond the recorded parts are counted (the size check reports them), not hashed.
      if (this.#partIndex >= this.#partSizes.length) return;
      if (this.#partRemaining === 0) {
        this.#endPart();
        continue;
      }
      const take = Math.min(this.#partRemaining, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + take);
      this.#md5.update(piece);
      this.#partChecksum?.update(piece);
      offset += take;
      this.#partRemaining -= take;
      if (this.#partRemaining === 0) this.#endPart();
    }
  }

  /** The first broken promise, or undefined when size, ETag and checksum all match. */
  finish(): IntegrityFinding | undefined {
    const version = this.#version;
    // Zero-length parts (an empty object) end without a byte: close them now.
    while (this.#partIndex < this.#partSizes.length && this.#partRemaining === 0) this.#endPart();
    if (this.#bytes !== version.size) {
      return { problem: 'size-mismatch', detail: `metadata records ${version.size} bytes, storage holds ${this.#bytes}` };
    }
    const etag =
      version.partSizes.length === 0
        ? `"${this.#partMd5s[0]!.toString('hex')}"`
        : `"${createHash('md5').update(Buffer.concat(this.#partMd5s)).digest('hex')}-${this.#partMd5s.length}"`;
    if (etag !== version.etag) return { problem: 'etag-mismatch', detail: `ETag ${version.etag} recorded, bytes read back give ${etag}` };
    const checksum = version.checksum;
    if (checksum !== undefined) {
      const actual =
        checksum.type === 'FULL_OBJECT' ? this.#wholeChecksum!.digest().toString('base64') : compositeChecksum(checksum.algorithm, this.#partChecksums);
      if (actual !== checksum.value) {
        return { problem: 'checksum-mismatch', detail: `${checksum.algorithm} ${checksum.type} ${checksum.value} recorded, bytes read back give ${actual}` };
      }
    }
    return undefined;
  }

  #endPart(): void {
    this.#partMd5s.push(this.#md5.digest());
    this.#md5 = createHash('md5');
    if (this.#partChecksum !== undefined) {
      this.#partChecksums.push(this.#partChecksum.digest());
      this.#partChecksum = createChecksum(this.#version.checksum!.algorithm);
    }
    this.#partIndex += 1;
    this.#partRemaining = this.#partSizes[this.#partIndex] ?? 0;
  }
}
