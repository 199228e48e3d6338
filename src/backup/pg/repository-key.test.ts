import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkKeyFor, DecryptionError, RepositoryKey, RepositoryKeyError, SEAL_OVERHEAD_BYTES } from './repository-key.js';

test('sealed objects open only with their key, for what they were sealed for, unaltered', () => {
  const key = RepositoryKey.fromBase64(RepositoryKey.generate(), 'test');
  const other = RepositoryKey.fromBase64(RepositoryKey.generate(), 'test');
  const plain = Buffer.from('a WAL segment, compressed');
  const sealed = key.seal(plain, 'holdfast-wal:000000010000000000000001');
  assert.equal(sealed.length, plain.length + SEAL_OVERHEAD_BYTES);
  assert.equal(sealed.indexOf(plain), -1, 'the plaintext is not in the sealed bytes');
  assert.notDeepEqual(key.seal(plain, 'x'), key.seal(plain, 'x'), 'a fresh nonce each time');
  assert.deepEqual(key.open(sealed, 'holdfast-wal:000000010000000000000001', 'seg'), plain);
  assert.throws(() => key.open(sealed, 'holdfast-wal:000000010000000000000002', 'seg'), DecryptionError, 'swapped for another name');
  assert.throws(() => other.open(sealed, 'holdfast-wal:000000010000000000000001', 'seg'), DecryptionError, 'another key');
  const flipped = Buffer.from(sealed);
  flipped[20] = flipped[20]! ^ 1;
  assert.throws(() => key.open(flipped, 'holdfast-wal:000000010000000000000001', 'seg'), /does not authenticate under key/);
  assert.throws(() => key.open(plain, 'x', 'plain bytes'), /not sealed by holdfast/);
  assert.notEqual(key.keyId, other.keyId);
  assert.match(key.keyId, /^[0-9a-f]{16}$/);
});

test('keys come from a file or the environment, and wrong ones are named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-key-'));
  try {
    const text = RepositoryKey.generate();
    await writeFile(join(dir, 'key'), text);
    const fromFile = RepositoryKey.fromOptions(join(dir, 'key'), {});
    assert.equal(fromFile?.keyId, RepositoryKey.fromBase64(text, 'x').keyId);
    assert.equal(RepositoryKey.fromOptions(undefined, { HOLDFAST_ENCRYPTION_KEY_FILE: join(dir, 'key') })?.keyId, fromFile?.keyId);
    assert.equal(RepositoryKey.fromOptions(undefined, { HOLDFAST_ENCRYPTION_KEY: text.trim() })?.keyId, fromFile?.keyId);
    assert.equal(RepositoryKey.fromOptions(undefined, {}), undefined);
    await writeFile(join(dir, 'short'), Buffer.alloc(16).toString('base64'));
    assert.throws(() => RepositoryKey.fromOptions(join(dir, 'short'), {}), (e: unknown) => e instanceof RepositoryKeyError && /base64 of 32 random bytes/.test(e.message));
    assert.throws(() => RepositoryKey.fromOptions(join(dir, 'missing'), {}), /cannot read the encryption key file .*ENOENT/);
    assert.throws(() => checkKeyFor('backup X', 'abcdef0123456789', undefined), /is encrypted \(key abcdef0123456789\): pass --encryption-key-file/);
    assert.throws(() => checkKeyFor('backup X', 'abcdef0123456789', fromFile), /encrypted with key abcdef0123456789, but the key given is/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
