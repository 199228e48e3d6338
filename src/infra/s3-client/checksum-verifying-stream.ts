import { Transform, type TransformCallback } from 'node:stream';
import { createChecksum, type IncrementalChecksum } from '../checksum/checksum.js';
import type { StoredObjectChecksum } from './object-head.js';
import { S3IntegrityError } from './s3-client-errors.js';

/**
 * Passes a response body through unchanged and, at its end, fails the stream with an
 * `S3IntegrityError` unless the byte count matches `Content-Length` and — when the answer carried
 * a FULL_OBJECT checksum — the bytes match it. A consumer that pipes the body somewhere therefore
 * learns of corruption before it can treat the copy as complete. COMPOSITE (multipart) checksums
 * cover part checksums, not the bytes, so only the length is checked for them.
 */
export class ChecksumVerifyingStream extends Transform {
  readonly #resource: string;
  readonly #expectedLength: number;
  readonly #expected: StoredObjectChecksum | undefined;
  readonly #checksum: IncrementalChecksum | undefined;
  #length = 0;

  constructor(resource: string, expectedLength: number, expected: StoredObjectChecksum | undefined) {
    super();
    this.#resource = resource;
    this.#expectedLength = expectedLength;
    this.#expected = expected?.type === 'FULL_OBJECT' ? expected : undefined;
    this.#checksum = this.#expected === undefined ? undefined : createChecksum(this.#expected.algorithm);
  }

  /** Whether the body is checked against a stored checksum (and not by its length only). */
  get verifiesChecksum(): boolean {
    return this.#checksum !== undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#length += chunk.length;
    this.#checksum?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (Number.isFinite(this.#expectedLength) && this.#length !== this.#expectedLength) {
      callback(new S3IntegrityError(this.#resource, 'body length', `${this.#expectedLength} bytes (Content-Length)`, `${this.#length} bytes`));
      return;
    }
    if (this.#expected !== undefined && this.#checksum !== undefined) {
      const actual = this.#checksum.digest().toString('base64');
      if (actual !== this.#expected.value) {
        callback(new S3IntegrityError(this.#resource, `${this.#expected.algorithm} checksum`, this.#expected.value, actual));
        return;
      }
    }
    callback();
  }
}
