import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { checkpointProblem, checkpointSigningPayload, signCheckpoint } from '../../domain/audit/audit-checkpoint.js';
import { AuditSigner } from './audit-signer.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-audit-key-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `case-${n++}`, 'keys', 'audit-signing.key');

test('creates the key file once, owner-only, and loads the same key afterwards', async () => {
  const path = freshPath();
  const created = await AuditSigner.openKeyFile(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.match(readFileSync(path, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  assert.deepEqual(readdirSync(join(path, '..')), ['audit-signing.key'], 'no temp file left behind');
  const loaded = await AuditSigner.openKeyFile(path);
  assert.equal(loaded.keyId, created.keyId);
  assert.equal(loaded.publicKeyPem(), created.publicKeyPem());
  assert.match(created.keyId, /^[0-9a-f]{32}$/);
});

test('signatures verify offline with the exported public key, as PEM and as JWK', async () => {
  const signer = await AuditSigner.openKeyFile(freshPath());
  const checkpoint = signCheckpoint(signer, { chain: 'node-a', seq: 42, hash: 'a'.repeat(64), timeMs: Date.UTC(2037, 0, 1) });
  const { signature, ...signed } = checkpoint;
  const fromPem = createPublicKey(signer.publicKeyPem());
  const jwk = signer.publicKeyJwk();
  assert.deepEqual([jwk.kty, jwk.crv, jwk.kid], ['OKP', 'Ed25519', signer.keyId]);
  const fromJwk = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
  for (const key of [fromPem, fromJwk]) {
    assert.equal(verify(null, checkpointSigningPayload(signed), key, Buffer.from(signature, 'base64')), true);
    assert.equal(checkpointProblem(checkpoint, key), undefined);
  }
  const other = generateKeyPairSync('ed25519').publicKey;
  assert.match(checkpointProblem(checkpoint, other)!, /not by the audit key/);
});

test('a damaged key file stops start-up with a message that names the file and quotes none of it', async () => {
  for (const content of ['', 'garbage that is not PEM', String(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }))]) {
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content, { mode: 0o600 });
    await assert.rejects(AuditSigner.openKeyFile(path), (e: Error) => {
      assert.match(e.message, /is not an Ed25519 private key in PKCS#8 PEM form/);
      assert.ok(e.message.includes(path));
      assert.ok(content === '' || !e.message.includes(content.slice(0, 20)));
      return true;
    });
    assert.equal(readFileSync(path, 'utf8'), content, 'never overwritten');
  }
});

test('a key readable by group or others is refused', async () => {
  const path = freshPath();
  await AuditSigner.openKeyFile(path);
  chmodSync(path, 0o644);
  await assert.rejects(AuditSigner.openKeyFile(path), /accessible to group or others \(mode 644\); run: chmod 600/);
  const directory = freshPath();
  mkdirSync(directory, { recursive: true });
  await assert.rejects(AuditSigner.openKeyFile(directory), /is not a regular file/);
});

test('a key file the server may not read stops start-up with a clear message', async () => {
  const path = freshPath();
  await AuditSigner.openKeyFile(path);
  if (process.getuid?.() === 0) {
    // Root reads everything: run the loader as an unprivileged user instead, as a real deployment would.
    const module = fileURLToPath(new URL(`./audit-signer${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
    const script = `const { AuditSigner } = await import(${JSON.stringify(module)});
      try { await AuditSigner.openKeyFile(${JSON.stringify(path)}); console.log('loaded'); } catch (e) { console.log(e.message); }`;
    const loader = import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const { stdout } = await promisify(execFile)(process.execPath, [...loader, '--input-type=module', '-e', script], { uid: 65534, gid: 65534, cwd: fileURLToPath(new URL('../../..', import.meta.url)) });
    assert.match(stdout, /cannot be read \(permission denied\)/);
  } else {
    chmodSync(path, 0o000);
    await assert.rejects(AuditSigner.openKeyFile(path), /cannot be read \(permission denied\)/);
  }
});

test('the signer never prints its private key', async () => {
  const signer = await AuditSigner.openKeyFile(freshPath());
  const pem = readFileSync(join(root, `case-${n - 1}`, 'keys', 'audit-signing.key'), 'utf8');
  const body = pem.split('\n')[1]!;
  assert.ok(!JSON.stringify(signer).includes(body));
  assert.ok(!JSON.stringify(signer).includes('BEGIN'));
});
