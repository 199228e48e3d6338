import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Passes bytes through unchanged, counting them and computing their SHA-256 on the way. */
export class DigestingStream extends Transform {
  readonly #hash = createHash('sha256');
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  /** Lower-case hex SHA-256 of the bytes so far (may be called more than once). */
  sha256(): string {
    return this.#hash.copy().digest('hex');
  }
}
