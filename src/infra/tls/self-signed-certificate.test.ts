import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inspect, promisify } from 'node:util';
import { generateSelfSignedCertificate } from './self-signed-certificate.js';

const NOW = new Date(Date.UTC(2033, 4, 6, 7, 8, 9, 500));
const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;
const OPENSSL = '/usr/bin/openssl';
const run = promisify(execFile);

function localCertificate(overrides: Partial<Parameters<typeof generateSelfSignedCertificate>[0]> = {}) {
  return generateSelfSignedCertificate({
    commonName: 'localhost',
    dnsNames: ['localhost', '*.vault.example'],
    ipAddresses: ['127.0.0.1', '::1'],
    validDays: 825,
    now: NOW,
    ...overrides,
  });
}

test('Node parses the certificate: names, validity, self-signature, key, end-entity server certificate', () => {
  const generated = localCertificate();
  const cert = new X509Certificate(generated.certPem);
  assert.equal(cert.subject, 'CN=localhost');
  assert.equal(cert.issuer, 'CN=localhost');
  assert.equal(cert.subjectAltName, 'DNS:localhost, DNS:*.vault.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.equal(cert.checkHost('localhost'), 'localhost');
  assert.equal(cert.checkHost('bucket.vault.example'), '*.vault.example');
  assert.equal(cert.checkHost('example.org'), undefined);
  assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(cert.checkIP('::1'), '::1');
  assert.equal(cert.checkIP('10.0.0.1'), undefined);
  // Backdated an hour for slow client clocks; whole seconds; 825 days from now.
  assert.equal(new Date(cert.validFrom).getTime(), Date.UTC(2033, 4, 6, 6, 8, 9));
  assert.equal(new Date(cert.validTo).getTime(), Date.UTC(2033, 4, 6, 7, 8, 9) + 825 * DAY_MS);
  assert.deepEqual([generated.notBefore.getTime(), generated.notAfter.getTime()], [new Date(cert.validFrom).getTime(), new Date(cert.validTo).getTime()]);
  assert.equal(cert.verify(cert.publicKey), true);
  assert.equal(cert.ca, false);
  // No keyCertSign: the key cannot vouch for any certificate, not even formally for itself;
  // clients trust this exact certificate because it is in their CA file (tested with real clients).
  assert.equal(cert.checkIssued(cert), false);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']); // extendedKeyUsage: serverAuth
  assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(cert.checkPrivateKey(createPrivateKey(generated.keyPem.reveal())), true);
  assert.equal(generated.fingerprintSha256, cert.fingerprint256);
  assert.equal(generated.fingerprintSha256, createHash('sha256').update(cert.raw).digest('hex').toUpperCase().match(/../g)!.join(':'));
});

test('serial numbers are random, positive and 16 octets; every call makes a new key', () => {
  const [a, b] = [localCertificate(), localCertificate()];
  for (const generated of [a, b]) {
    const serial = new X509Certificate(generated.certPem).serialNumber;
    assert.match(serial, /^[4-7][0-9A-F]{31}$/);
    assert.equal(serial, generated.serialNumber);
  }
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.notEqual(a.keyPem.reveal(), b.keyPem.reveal());
});

test('validity running past 2049 switches to GeneralizedTime and still parses', () => {
  const generated = localCertificate({ now: new Date(Date.UTC(2049, 11, 1)), validDays: 60 });
  const cert = new X509Certificate(generated.certPem);
  assert.equal(new Date(cert.validFrom).toISOString(), '2049-11-30T23:00:00.000Z');
  assert.equal(new Date(cert.validTo).toISOString(), '2050-01-30T00:00:00.000Z');
});

test('the private key never shows in strings, JSON or inspection', () => {
  const generated = localCertificate();
  assert.match(generated.keyPem.reveal(), /^-----BEGIN PRIVATE KEY-----\n/);
  for (const shown of [String(generated.keyPem), JSON.stringify(generated), inspect(generated, { depth: 5 })]) {
    assert.doesNotMatch(shown, /PRIVATE KEY/);
  }
});

test('options are checked', () => {
  assert.throws(() => localCertificate({ commonName: '' }), /common name/);
  assert.throws(() => localCertificate({ commonName: 'x'.repeat(65) }), /common name/);
  assert.throws(() => localCertificate({ dnsNames: [], ipAddresses: [] }), /at least one/);
  assert.throws(() => localCertificate({ validDays: 0 }), /validDays/);
  assert.throws(() => localCertificate({ validDays: 1.5 }), /validDays/);
  assert.throws(() => localCertificate({ validDays: 3651 }), /validDays/);
  assert.throws(() => localCertificate({ now: new Date(NaN) }), /not a valid date/);
  assert.throws(() => localCertificate({ dnsNames: ['under_score'] }), /not a DNS name/);
  assert.throws(() => localCertificate({ ipAddresses: ['300.1.1.1'] }), /not an IPv4 or IPv6 address/);
});

test('openssl reads every field and verifies the certificate against itself as the CA file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-cert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const generated = localCertificate();
  const certFile = join(dir, 'holdfast.crt');
  await writeFile(certFile, generated.certPem);

  const { stdout: text } = await run(OPENSSL, ['x509', '-in', certFile, '-noout', '-text']);
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication/);
  assert.match(text, /DNS:localhost, DNS:\*\.vault\.example, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
  assert.match(text, /X509v3 Subject Key Identifier/);
  const { stdout: fingerprint } = await run(OPENSSL, ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256']);
  assert.equal(fingerprint.trim().split('=')[1], generated.fingerprintSha256);

  // At the injected time (not today's), strictly, and for the TLS server purpose.
  const at = String(Math.floor(NOW.getTime() / 1000));
  const { stdout: verified } = await run(OPENSSL, ['verify', '-attime', at, '-x509_strict', '-purpose', 'sslserver', '-CAfile', certFile, certFile]);
  assert.equal(verified.trim(), `${certFile}: OK`);
  const expiredAt = String(Math.floor(generated.notAfter.getTime() / 1000) + 60);
  const expired = await run(OPENSSL, ['verify', '-attime', expiredAt, '-CAfile', certFile, certFile]).then(
    () => 'accepted',
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  );
  assert.match(expired, /certificate has expired/);
});
