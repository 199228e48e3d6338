import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ManualClock } from '../clock.js';
import { generateSelfSignedCertificate } from './self-signed-certificate.js';
import { EXPIRY_WARNING_DAYS, loadTlsFiles, TlsFilesError } from './tls-files.js';

const NOW_MS = Date.UTC(2032, 8, 1, 12);
const DAY_MS = 24 * 3600 * 1000;

const issue = (validDays = 90) => generateSelfSignedCertificate({ commonName: 'vault', dnsNames: ['vault.local'], validDays, now: new Date(NOW_MS) });

async function files(t: TestContext, cert: string, key: string, keyMode = 0o600) {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-tls-files-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const certPath = join(dir, 'holdfast.crt');
  const keyPath = join(dir, 'holdfast.key');
  await writeFile(certPath, cert);
  await writeFile(keyPath, key);
  await chmod(keyPath, keyMode);
  for (const text of [cert, key]) KEY_MATERIAL.push(...text.split('\n').filter((line) => /^[A-Za-z0-9+/=]{16,}$/.test(line)));
  return { dir, certPath, keyPath };
}

const KEY_MATERIAL: string[] = [];

/** Rejects with a TlsFilesError whose message matches every pattern and holds no line of any key used here. */
async function refused(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TlsFilesError, String(error));
    for (const pattern of patterns) assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /PRIVATE KEY-----/);
    for (const line of KEY_MATERIAL) assert.ok(!error.message.includes(line), 'key material in the message');
    return true;
  });
}

test('a matching, valid pair loads, with nothing to warn about', async (t) => {
  const generated = issue();
  const { certPath, keyPath } = await files(t, generated.certPem, generated.keyPem.reveal());
  const loaded = await loadTlsFiles(certPath, keyPath, new ManualClock(NOW_MS + DAY_MS));
  assert.equal(loaded.certPem, generated.certPem);
  assert.equal(loaded.keyPem.reveal(), generated.keyPem.reveal());
  assert.equal(loaded.fingerprintSha256, generated.fingerprintSha256);
  assert.equal(loaded.certificate.subjectAltName, 'DNS:vault.local');
  assert.equal(loaded.validTo.getTime(), generated.notAfter.getTime());
  assert.deepEqual(loaded.warnings, []);
});

test('a chain file presents its first certificate and is kept whole', async (t) => {
  const [leaf, other] = [issue(), issue()];
  const { certPath, keyPath } = await files(t, leaf.certPem + other.certPem, leaf.keyPem.reveal());
  const loaded = await loadTlsFiles(certPath, keyPath, new ManualClock(NOW_MS));
  assert.equal(loaded.fingerprintSha256, leaf.fingerprintSha256);
  assert.equal(loaded.certPem, leaf.certPem + other.certPem);
});

test('missing files name the file and how to make one', async (t) => {
  const generated = issue();
  const { dir, certPath, keyPath } = await files(t, generated.certPem, generated.keyPem.reveal());
  const clock = new ManualClock(NOW_MS);
  await refused(loadTlsFiles(join(dir, 'nope.crt'), keyPath, clock), /nope\.crt does not exist/, /holdfast cert --out DIR/, /tls\.certFile/);
  await refused(loadTlsFiles(certPath, join(dir, 'nope.key'), clock), /nope\.key does not exist/, /tls\.keyFile/);
});

test('a key that belongs to another certificate is refused, whatever its type', async (t) => {
  const [mine, theirs] = [issue(), issue()];
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  for (const key of [theirs.keyPem.reveal(), rsa]) {
    const { certPath, keyPath } = await files(t, mine.certPem, key);
    await refused(loadTlsFiles(certPath, keyPath, new ManualClock(NOW_MS)), /does not belong to the certificate/, /holdfast\.key/, /holdfast\.crt/);
  }
});

test('swapped, encrypted and unreadable files get their own explanation, without the key in it', async (t) => {
  const generated = issue();
  const clock = new ManualClock(NOW_MS);
  const swapped = await files(t, generated.keyPem.reveal(), generated.certPem);
  await refused(loadTlsFiles(swapped.certPath, swapped.keyPath, clock), /holds a private key/, /swapped/);
  const certInKey = await files(t, generated.certPem, generated.certPem);
  await refused(loadTlsFiles(certInKey.certPath, certInKey.keyPath, clock), /holds a certificate, not a private key/);

  const encryptedKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
  const encrypted = await files(t, generated.certPem, encryptedKey);
  await refused(loadTlsFiles(encrypted.certPath, encrypted.keyPath, clock), /is encrypted/, /openssl pkey/);

  const truncatedKey = generated.keyPem.reveal().slice(0, 120);
  const truncated = await files(t, generated.certPem, truncatedKey);
  await refused(loadTlsFiles(truncated.certPath, truncated.keyPath, clock), /is not a PEM private key/);
  const garbageCert = await files(t, 'not a certificate', generated.keyPem.reveal());
  await refused(loadTlsFiles(garbageCert.certPath, garbageCert.keyPath, clock), /is not a PEM certificate/);
});

test('an expired or not yet valid certificate stops the start, naming the date and the fix', async (t) => {
  const generated = issue(10);
  const { certPath, keyPath } = await files(t, generated.certPem, generated.keyPem.reveal());
  await refused(
    loadTlsFiles(certPath, keyPath, new ManualClock(generated.notAfter.getTime() + 1000)),
    /expired on 2032-09-11T12:00:00\.000Z/,
    /holdfast cert --out DIR --force/,
  );
  await refused(loadTlsFiles(certPath, keyPath, new ManualClock(generated.notBefore.getTime() - 1000)), /not valid before/, /clock/);
  await loadTlsFiles(certPath, keyPath, new ManualClock(generated.notAfter.getTime()));
});

test('warnings: expiry within the warning window, and a key other users can read', async (t) => {
  const generated = issue(EXPIRY_WARNING_DAYS + 5);
  const { certPath, keyPath } = await files(t, generated.certPem, generated.keyPem.reveal(), 0o644);
  const early = await loadTlsFiles(certPath, keyPath, new ManualClock(NOW_MS));
  assert.deepEqual(early.warnings.length, 1);
  assert.match(early.warnings[0]!, /can be read by other users \(mode 0644\); run `chmod 600 .*holdfast\.key`/);
  const late = await loadTlsFiles(certPath, keyPath, new ManualClock(NOW_MS + 10 * DAY_MS));
  assert.equal(late.warnings.length, 2);
  assert.match(late.warnings[0]!, /expires in 25 days/);
});
