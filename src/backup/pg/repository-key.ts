import { createCipheriv, createDecipheriv, createHash, createHmac, type Hash, type Hmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Client-side encryption of a backup repository (AES-256-GCM), for when the object store should
 * not be able to read the backups (AWS S3, a vault run by someone else). The key never goes to
 * the store: it is read from a file (`--encryption-key-file`, `HOLDFAST_ENCRYPTION_KEY_FILE`) or
 * the environment (`HOLDFAST_ENCRYPTION_KEY`), base64 of 32 random bytes — what
 * `openssl rand -base64 32` or `holdfast pg keygen` writes.
 *
 * Sealed object: "HFE1" | 12-byte random nonce | ciphertext | 16-byte GCM tag. The associated
 * data binds each object to what it is (a WAL file name, a backup part), so a stored object
 * cannot be swapped for another without the tag failing. What the store still sees: object
 * names, sizes and times. Digests recorded beside the data (the identity of a WAL file, the tar's
 * digest) become HMAC-SHA256 under the key, so they do not let anyone confirm a guess at the
 * plaintext. Objects carry the key's id (an HMAC of a constant, not the key), so a wrong key is
 * named as such rather than failing as corruption.
 */

export const ENCRYPTION_ALGORITHM = 'aes-256-gcm';
const MAGIC = Buffer.from('HFE1', 'ascii');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Bytes a sealed object has beyond its plaintext: header, nonce, tag. */
export const SEAL_OVERHEAD_BYTES = 4 + NONCE_BYTES + TAG_BYTES;

export class RepositoryKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepositoryKeyError';
  }
}

/** Sealed bytes that do not open: a wrong key, or bytes altered after they were sealed. */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

export class RepositoryKey {
  readonly keyId: string;
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
    this.keyId = createHmac('sha256', key).update('holdfast repository key id v1').digest('hex').slice(0, 16);
  }

  static fromBase64(text: string, source: string): RepositoryKey {
    const trimmed = text.trim();
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
    if (key.length !== KEY_BYTES) {
      throw new RepositoryKeyError(`${source} does not hold an encryption key: it must be base64 of ${KEY_BYTES} random bytes (make one with holdfast pg keygen --out FILE, or openssl rand -base64 32).`);
    }
    return new RepositoryKey(key);
  }

  /** The key from --encryption-key-file, else HOLDFAST_ENCRYPTION_KEY_FILE, else HOLDFAST_ENCRYPTION_KEY; undefined when none is given. */
  static fromOptions(file: string | undefined, env: NodeJS.ProcessEnv): RepositoryKey | undefined {
    const path = file ?? nonEmpty(env['HOLDFAST_ENCRYPTION_KEY_FILE']);
    if (path !== undefined) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw new RepositoryKeyError(`cannot read the encryption key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
      }
      return RepositoryKey.fromBase64(text, `the encryption key file ${path}`);
    }
    const inline = nonEmpty(env['HOLDFAST_ENCRYPTION_KEY']);
    return inline === undefined ? undefined : RepositoryKey.fromBase64(inline, 'HOLDFAST_ENCRYPTION_KEY');
  }

  static generate(): string {
    return `${randomBytes(KEY_BYTES).toString('base64')}\n`;
  }

  seal(plaintext: Uint8Array, associatedData: string): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ENCRYPTION_ALGORITHM, this.#key, nonce);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([MAGIC, nonce, body, cipher.getAuthTag()]);
  }

  /** The plaintext; DecryptionError names `what` if the bytes are not what this key sealed for it. */
  open(sealed: Uint8Array, associatedData: string, what: string): Buffer {
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (bytes.length < MAGIC.length + NONCE_BYTES + TAG_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new DecryptionError(`${what} is not sealed by holdfast (no HFE1 header): it is damaged or not encrypted.`);
    }
    const nonce = bytes.subarray(MAGIC.length, MAGIC.length + NONCE_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const decipher = createDecipheriv(ENCRYPTION_ALGORITHM, this.#key, nonce);
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(bytes.subarray(MAGIC.length + NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new DecryptionError(`${what} does not authenticate under key ${this.keyId}: its bytes were altered, or it belongs elsewhere.`);
    }
  }

  /** HMAC-SHA256 under the key: the digest recorded for encrypted content. */
  keyedDigest(): Hmac {
    return createHmac('sha256', this.#key);
  }
}

/** The digest recorded for content: SHA-256, or HMAC-SHA256 under the key when encrypted. */
export function contentDigest(key: RepositoryKey | undefined): Hash | Hmac {
  return key === undefined ? createHash('sha256') : key.keyedDigest();
}

/** Encrypted objects name the key they need; a different key is a usage problem, not corruption. */
export function checkKeyFor(what: string, storedKeyId: string | undefined, key: RepositoryKey | undefined): RepositoryKey {
  if (key === undefined) {
    throw new RepositoryKeyError(`${what} is encrypted (key ${storedKeyId ?? 'unknown'}): pass --encryption-key-file FILE or set HOLDFAST_ENCRYPTION_KEY_FILE.`);
  }
  if (storedKeyId !== undefined && storedKeyId !== key.keyId) {
    throw new RepositoryKeyError(`${what} is encrypted with key ${storedKeyId}, but the key given is ${key.keyId}: use the repository's key.`);
  }
  return key;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
