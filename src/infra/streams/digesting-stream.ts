import { createHash, type Hash, type Hmac } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through unchanged, counting them and digesting them on the way: SHA-256 by
 * default, or the hash or HMAC given (an encrypted repository records keyed digests).
 */
export class DigestingStream extends Transform {
  readonly #hash: Hash | Hmac;
  #hex: string | undefined;
  size = 0;

  constructor(hash: Hash | Hmac = createHash('sha256')) {
    super();
    this.#hash = hash;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#hex !== undefined) {
      callback(new Error('DigestingStream: data after the digest was read'));
      return;
    }
    this.#hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  /** Lower-case hex digest of all the bytes; read it once they have all passed. */
  sha256(): string {
    this.#hex ??= this.#hash.digest('hex');
    return this.#hex;
  }
}
