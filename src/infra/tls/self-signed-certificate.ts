import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { Secret } from '../../domain/secret.js';
import {
  authorityKeyIdentifierExtension,
  endEntityBasicConstraintsExtension,
  KEY_USAGE,
  keyUsageExtension,
  serverAuthExtension,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from './certificate-extensions.js';
import * as der from './der.js';
import { dnsName, ipAddressName, type SubjectAltName } from './subject-alt-names.js';

export interface SelfSignedCertificateOptions {
  /** Shown to people (browsers, `openssl x509 -text`); clients match names against the SANs only. */
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly validDays: number;
  readonly now: Date;
}

export interface SelfSignedCertificate {
  readonly certPem: string;
  /** PKCS #8 PEM of the ECDSA P-256 private key. */
  readonly keyPem: Secret;
  /** SHA-256 of the DER certificate, as `AB:CD:…` (the form `openssl x509 -fingerprint -sha256` prints). */
  readonly fingerprintSha256: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const DAY_MS = 24 * 3600 * 1000;
/** Clients whose clocks run a little behind still accept a certificate made just now. */
const BACKDATE_MS = 3600 * 1000;
export const MAX_VALID_DAYS = 3650;

const OID = {
  commonName: '2.5.4.3',
  /** ecdsa-with-SHA256 (RFC 5758 3.2): the AlgorithmIdentifier has no parameters. */
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

function pem(label: string, derBytes: Buffer): string {
  const lines = derBytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Uncompressed EC point (0x04 ‖ x ‖ y): the subjectPublicKey bits of the SPKI, which for P-256
 * are its last 65 bytes. Read from the DER rather than through a JWK export: on Node 20, a JWK
 * export can deadlock when a garbage collection inside it finalizes an earlier key-generation
 * job (seen here as a test process hung in KeyGenJob's destructor under ExportJWKEcKey).
 */
function publicKeyBits(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const point = spki.subarray(spki.length - 65);
  if (point[0] !== 0x04) throw new Error('expected an uncompressed P-256 point at the end of the SPKI');
  return Buffer.from(point);
}

/** 16 random octets, top bit clear (positive) and next bit set (no leading zero to strip): always 16 octets. */
function randomSerialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

function checkedNames(options: SelfSignedCertificateOptions): SubjectAltName[] {
  const names = [...(options.dnsNames ?? []).map(dnsName), ...(options.ipAddresses ?? []).map(ipAddressName)];
  if (names.length === 0) throw new Error('a server certificate needs at least one DNS name or IP address');
  return names;
}

/**
 * A self-signed X.509 v3 server certificate (RFC 5280) and its ECDSA P-256 key, built with
 * node:crypto and a DER encoder only: no openssl at run time, no dependency. It is its own trust
 * anchor: give the certificate file to clients as their CA bundle.
 *
 * It is an end-entity certificate (cA FALSE, no keyCertSign). Node, curl, OpenSSL and Python
 * (aws-cli, boto3, also with VERIFY_X509_STRICT) accept a self-signed leaf found in the CA bundle
 * either way, and Go accepts a root that is the leaf itself; rustls/webpki rejects a CA
 * certificate used as a server certificate (CaUsedAsEndEntity). cA FALSE also means that a client
 * trusting this file trusts this one server and nothing else: the key cannot vouch for other
 * certificates, so a stolen key impersonates only this server, under the names listed here.
 */
export function generateSelfSignedCertificate(options: SelfSignedCertificateOptions): SelfSignedCertificate {
  const { commonName, validDays, now } = options;
  // ub-common-name (RFC 5280 appendix A.1) is 64 characters.
  if (commonName.length < 1 || commonName.length > 64) throw new Error('the common name must be 1 to 64 characters');
  if (!Number.isInteger(validDays) || validDays < 1 || validDays > MAX_VALID_DAYS) throw new Error(`validDays must be a whole number from 1 to ${MAX_VALID_DAYS}`);
  if (Number.isNaN(now.getTime())) throw new Error('now is not a valid date');
  const names = checkedNames(options);

  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Key identifier per RFC 7093 section 2 method 1: the leftmost 160 bits of the SHA-256 of the key.
  const keyIdentifier = createHash('sha256').update(publicKeyBits(publicKey)).digest().subarray(0, 20);
  const serialNumber = randomSerialNumber();
  // Whole seconds: DER times carry no fraction (X.690 11.7, 11.8).
  const issued = Math.floor(now.getTime() / 1000) * 1000;
  const notBefore = new Date(issued - BACKDATE_MS);
  const notAfter = new Date(issued + validDays * DAY_MS);

  const name = der.sequence(der.set(der.sequence(der.objectIdentifier(OID.commonName), der.utf8String(commonName))));
  const signatureAlgorithm = der.sequence(der.objectIdentifier(OID.ecdsaWithSha256));
  const tbsCertificate = der.sequence(
    der.explicitTag(0, der.integer(2n)), // v3
    der.integer(serialNumber),
    signatureAlgorithm,
    name, // issuer = subject: self-signed
    der.sequence(der.x509Time(notBefore), der.x509Time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der.explicitTag(
      3,
      der.sequence(
        endEntityBasicConstraintsExtension(),
        // keyEncipherment is for RSA key exchange (TLS 1.2); an ECDSA key only signs, and
        // signing needs digitalSignature (RFC 8446 4.4.2.2).
        keyUsageExtension([KEY_USAGE.digitalSignature]),
        serverAuthExtension(),
        subjectAltNameExtension(names),
        subjectKeyIdentifierExtension(keyIdentifier),
        authorityKeyIdentifierExtension(keyIdentifier),
      ),
    ),
  );
  // crypto.sign returns the DER Ecdsa-Sig-Value (RFC 5480 / RFC 3279 2.2.3) that the BIT STRING holds.
  const signature = sign('sha256', tbsCertificate, privateKey);
  const certificate = der.sequence(tbsCertificate, signatureAlgorithm, der.bitString(signature));

  return {
    certPem: pem('CERTIFICATE', certificate),
    keyPem: new Secret(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string),
    fingerprintSha256: new X509Certificate(certificate).fingerprint256,
    serialNumber: serialNumber.toString('hex').toUpperCase(),
    notBefore,
    notAfter,
  };
}
