import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type CheckpointSigner, auditKeyId } from '../../domain/audit/audit-checkpoint.js';
import { syncDirectory } from '../fs/sync-directory.js';

/**
 * The server's audit signing key (Ed25519): signs checkpoints; its public half lets an auditor
 * verify them offline (`publicKeyPem()`, `publicKeyJwk()`).
 *
 * The key file holds the private key as PKCS#8 PEM, mode 0600. It is created atomically (temp
 * file, fsync, rename, fsync of the directory: restic's recipe), so a crash never leaves a
 * half-written key. An existing file that cannot be read, is not an Ed25519 key, or is readable
 * by group or others stops the server: silently making a new key would split the evidence
 * (old checkpoints verify only with the old key), and a readable key lets anyone forge them.
 * No message ever contains key material.
 */
export class AuditSigner implements CheckpointSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  readonly #privateKey: KeyObject;

  private constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey);
    this.keyId = auditKeyId(this.publicKey);
  }

  /** Loads the key at `path`, creating it when the file does not exist. */
  static async openKeyFile(path: string): Promise<AuditSigner> {
    let pem: string;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new Error(`The audit signing key ${path} is not a regular file.`);
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
        throw new Error(`The audit signing key ${path} is accessible to group or others (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
      }
      pem = await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return AuditSigner.#create(path);
      if (code === 'EACCES' || code === 'EPERM') {
        throw new Error(`The audit signing key ${path} cannot be read (permission denied). It must be readable by the user running Holdfast, and by no one else.`, { cause: e });
      }
      throw e;
    }
    return new AuditSigner(parseKey(pem, path));
  }

  /** A signer for a key held in memory (tests, tools). */
  static fromPrivateKey(privateKey: KeyObject): AuditSigner {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the audit signing key must be an Ed25519 private key');
    return new AuditSigner(privateKey);
  }

  static async #create(path: string): Promise<AuditSigner> {
    const dir = dirname(path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.writeFile(pem, 'utf8');
      await file.sync();
    } catch (e) {
      await file.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw e;
    }
    await file.close();
    await rename(temp, path);
    await syncDirectory(dir);
    return new AuditSigner(privateKey);
  }

  sign(payload: Uint8Array): string {
    return sign(null, payload, this.#privateKey).toString('base64');
  }

  /** SubjectPublicKeyInfo PEM, for `openssl` and most libraries. */
  publicKeyPem(): string {
    return String(this.publicKey.export({ type: 'spki', format: 'pem' }));
  }

  /** RFC 8037 OKP JWK ({ kty: 'OKP', crv: 'Ed25519', x }) with its kid. */
  publicKeyJwk(): { readonly kty: string; readonly crv: string; readonly x: string; readonly kid: string } {
    // The raw key is the SPKI's last 32 bytes (RFC 8410). Not via a JWK export: on Node 20 that can
    // deadlock when a GC inside it finalizes a key-generation job (see self-signed-certificate.ts).
    const spki = this.publicKey.export({ type: 'spki', format: 'der' });
    return { kty: 'OKP', crv: 'Ed25519', x: spki.subarray(spki.length - 32).toString('base64url'), kid: this.keyId };
  }

  toJSON(): unknown {
    return { keyId: this.keyId, privateKey: '**redacted**' };
  }
}

function parseKey(pem: string, path: string): KeyObject {
  const corrupt = `The audit signing key ${path} is not an Ed25519 private key in PKCS#8 PEM form (damaged or replaced). ` +
    'Restore it from your backup. Only if it is lost for good, move it aside so that a new key is made; checkpoints signed by the old key then verify only with its public key.';
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // The parser's own message is not passed on: it may quote the input.
    throw new Error(corrupt);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(corrupt);
  return key;
}
