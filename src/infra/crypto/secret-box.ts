import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Authenticated encryption (AES-256-GCM) for secrets kept in the metadata store, such as access
 * key secrets. The key lives in its own file beside — never inside — the metadata, so a copy of
 * the metadata database alone does not reveal any secret.
 *
 * Sealed format: "v1:" + base64(iv(12) || tag(16) || ciphertext). The associated data binds a
 * sealed value to its purpose (e.g. the access key id), so a ciphertext cannot be moved to
 * another row and still open.
 */
export class SecretBox {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** Loads the key file, creating it (mode 0600, fsync'd) when it does not exist yet. */
  static async openKeyFile(path: string): Promise<SecretBox> {
    try {
      const key = await readFile(path);
      if (key.length !== 32) {
        throw new Error(`Key file ${path} holds ${key.length} bytes, expected 32. Restore it from your backup; without it stored secrets cannot be read.`);
      }
      return new SecretBox(key);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(key);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return new SecretBox(key);
  }

  /**
   * Loads a key file that must already exist (a shared key, e.g. a mounted secret): never
   * creates one, since a node that made its own key would seal secrets no other node can open.
   * The file holds the 32 bytes raw, or as base64 text (`openssl rand -base64 32`). Like the
   * audit signing key, it is refused when group or others may access it: whoever reads it can
   * open every stored secret access key.
   */
  static async openSharedKeyFile(path: string): Promise<SecretBox> {
    const info = await stat(path);
    if (!info.isFile()) throw new Error(`Key file ${path} is not a regular file`);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new Error(
        `Key file ${path} is accessible to group or others (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path} ` +
          '(for a mounted secret, give it mode 0400 or 0600, e.g. Kubernetes defaultMode: 0400)',
      );
    }
    const raw = await readFile(path);
    if (raw.length === 32) return new SecretBox(raw);
    const text = raw.toString('utf8').trim();
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    if (decoded.length === 32) return new SecretBox(decoded);
    // The length only: the content is a secret.
    throw new Error(`Key file ${path} holds ${raw.length} bytes, neither 32 raw bytes nor 32 bytes in base64`);
  }

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw new Error('SecretBox key must be 32 bytes');
    return new SecretBox(Buffer.from(key));
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return 'v1:' + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string, associatedData: string): string {
    if (!sealed.startsWith('v1:')) throw new Error('unknown sealed-secret format');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  toJSON(): string {
    return '**redacted**';
  }
}
