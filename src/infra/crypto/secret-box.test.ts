import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SecretBox } from './secret-box.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-secret-box-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a shared key file is opened raw or base64, and refused while group or others may access it, naming chmod 600', async () => {
  // Built at run time: a key-looking fixture in the tree would trip the secret scan.
  const key = randomBytes(32);
  const sealed = SecretBox.fromKey(key).seal('secret', 'AKID');
  const path = join(dir, 'shared.key');
  await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o644 });
  await chmod(path, 0o644);
  await assert.rejects(SecretBox.openSharedKeyFile(path), (e: unknown) => e instanceof Error && e.message.includes(`chmod 600 ${path}`) && e.message.includes('mode 644'));
  await chmod(path, 0o640);
  await assert.rejects(SecretBox.openSharedKeyFile(path), /accessible to group or others/);
  await chmod(path, 0o600);
  assert.equal((await SecretBox.openSharedKeyFile(path)).open(sealed, 'AKID'), 'secret');
  await chmod(path, 0o400);
  assert.equal((await SecretBox.openSharedKeyFile(path)).open(sealed, 'AKID'), 'secret');
  const rawPath = join(dir, 'raw.key');
  await writeFile(rawPath, key, { mode: 0o600 });
  assert.equal((await SecretBox.openSharedKeyFile(rawPath)).open(sealed, 'AKID'), 'secret');
  // The message gives the length only, never the content.
  const wrongPath = join(dir, 'short.key');
  await writeFile(wrongPath, key.subarray(0, 16), { mode: 0o600 });
  await assert.rejects(SecretBox.openSharedKeyFile(wrongPath), (e: unknown) => e instanceof Error && e.message.includes('16 bytes') && !e.message.includes(key.subarray(0, 16).toString('base64')));
});
