import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { systemClock, type Clock } from '../clock.js';
import { Secret } from '../../domain/secret.js';

/** A certificate and key pair read from disk, checked to belong together and to be valid now. */
export interface TlsFiles {
  /** The whole certificate file: the server certificate, possibly followed by intermediates. */
  readonly certPem: string;
  readonly keyPem: Secret;
  /** The first certificate of the file: the one the server presents. */
  readonly certificate: X509Certificate;
  readonly fingerprintSha256: string;
  readonly validTo: Date;
  /** Problems worth telling the operator that do not stop the server. */
  readonly warnings: readonly string[];
}

/** A TLS file that cannot be used; the message names the file and the fix, never the key. */
export class TlsFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsFilesError';
  }
}

const DAY_MS = 24 * 3600 * 1000;
/** A certificate this close to its end gets a warning at every start. */
export const EXPIRY_WARNING_DAYS = 30;

const RENEW = 'create a new pair with `holdfast cert --out DIR --force`, or install a renewed certificate';

async function readTlsFile(path: string, what: string, setting: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? 'error'})`;
    throw new TlsFilesError(`TLS ${what} ${path} ${problem}. Fix: create one with \`holdfast cert --out DIR\`, or point ${setting} to your ${what} (PEM).`);
  }
}

function parseCertificate(certPath: string, certPem: string): X509Certificate {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certPem)) {
    throw new TlsFilesError(`TLS certificate file ${certPath} holds a private key, not a certificate. Fix: check whether tls.certFile and tls.keyFile are swapped.`);
  }
  try {
    return new X509Certificate(certPem);
  } catch {
    throw new TlsFilesError(`TLS certificate file ${certPath} is not a PEM certificate (-----BEGIN CERTIFICATE-----). Fix: point tls.certFile to the certificate, or ${RENEW}.`);
  }
}

function parsePrivateKey(keyPath: string, keyPem: string): KeyObject {
  if (/-----BEGIN (TRUSTED )?CERTIFICATE-----/.test(keyPem)) {
    throw new TlsFilesError(`TLS key file ${keyPath} holds a certificate, not a private key. Fix: check whether tls.certFile and tls.keyFile are swapped.`);
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyPem)) {
    throw new TlsFilesError(`TLS key file ${keyPath} is encrypted, and the server has no passphrase to open it. Fix: store it decrypted with mode 0600 (\`openssl pkey -in ${keyPath} -out KEY\`).`);
  }
  try {
    return createPrivateKey(keyPem);
  } catch {
    // The parser's message is not passed on: it is about the key's content.
    throw new TlsFilesError(`TLS key file ${keyPath} is not a PEM private key. Fix: point tls.keyFile to the key of the certificate, or ${RENEW}.`);
  }
}

/**
 * Reads the server's certificate and private key and checks them before the server starts: both
 * parse, the key belongs to the certificate, and the certificate is valid now. A server that
 * started with a broken pair would only fail later, at each client's handshake.
 */
export async function loadTlsFiles(certPath: string, keyPath: string, clock: Clock = systemClock): Promise<TlsFiles> {
  const certPem = await readTlsFile(certPath, 'certificate file', 'tls.certFile');
  const certificate = parseCertificate(certPath, certPem);
  const keyText = await readTlsFile(keyPath, 'key file', 'tls.keyFile');
  const key = parsePrivateKey(keyPath, keyText);
  if (!certificate.checkPrivateKey(key)) {
    throw new TlsFilesError(`TLS key file ${keyPath} does not belong to the certificate in ${certPath}. Fix: point tls.keyFile to the key made with this certificate, or ${RENEW}.`);
  }

  const nowMs = clock.nowMs();
  const validFrom = new Date(certificate.validFrom);
  const validTo = new Date(certificate.validTo);
  if (nowMs < validFrom.getTime()) {
    throw new TlsFilesError(`TLS certificate ${certPath} is not valid before ${validFrom.toISOString()}. Fix: check this machine's clock, or ${RENEW}.`);
  }
  if (nowMs > validTo.getTime()) {
    throw new TlsFilesError(`TLS certificate ${certPath} expired on ${validTo.toISOString()}. Fix: ${RENEW}.`);
  }

  const warnings: string[] = [];
  const daysLeft = Math.floor((validTo.getTime() - nowMs) / DAY_MS);
  if (daysLeft < EXPIRY_WARNING_DAYS) warnings.push(`TLS certificate ${certPath} expires in ${daysLeft} days (${validTo.toISOString()}); ${RENEW}.`);
  const keyMode = (await stat(keyPath)).mode & 0o777;
  if (process.platform !== 'win32' && (keyMode & 0o077) !== 0) {
    warnings.push(`TLS key file ${keyPath} can be read by other users (mode 0${keyMode.toString(8)}); run \`chmod 600 ${keyPath}\`.`);
  }
  return { certPem, keyPem: new Secret(keyText), certificate, fingerprintSha256: certificate.fingerprint256, validTo, warnings };
}
