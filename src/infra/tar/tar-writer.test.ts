import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, test } from 'node:test';
import { TarExtractor } from './tar-extractor.js';
import { writeDirectoryTar } from './tar-writer.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tree(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'holdfast-tar-src-'));
  dirs.push(root);
  await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
  await writeFile(join(root, 'empty.txt'), '');
  await writeFile(join(root, 'a.txt'), 'hello\n');
  await writeFile(join(root, 'sub', 'block.bin'), Buffer.alloc(512, 7));
  await writeFile(join(root, 'sub', 'deeper', 'big.bin'), Buffer.from(Array.from({ length: 700_001 }, (_, i) => (i * 31) % 251)));
  const long = `${'n'.repeat(120)}-ümlaut.txt`;
  await writeFile(join(root, 'sub', long), 'long name');
  await symlink('a.txt', join(root, 'link-to-a'));
  await symlink(`../${'t'.repeat(150)}`, join(root, 'sub', 'dangling-long-link'));
  return root;
}

test('a directory written as tar is read back identically by our extractor', async () => {
  const root = await tree();
  const out = await mkdtemp(join(tmpdir(), 'holdfast-tar-out-'));
  dirs.push(out);
  const extractor = new TarExtractor(out, { sync: false, modeMask: 0o777 });
  await pipeline(Readable.from(writeDirectoryTar(root)), extractor);
  assert.deepEqual(extractor.summary(), { files: 5, directories: 2, symlinks: 2, bytes: 6 + 512 + 700_001 + 9 });
  for (const file of ['a.txt', 'empty.txt', 'sub/block.bin', 'sub/deeper/big.bin', `sub/${'n'.repeat(120)}-ümlaut.txt`]) {
    assert.deepEqual(await readFile(join(out, file)), await readFile(join(root, file)), file);
  }
  assert.equal(await readlink(join(out, 'link-to-a')), 'a.txt');
  assert.equal(await readlink(join(out, 'sub', 'dangling-long-link')), `../${'t'.repeat(150)}`);
  assert.equal((await stat(join(out, 'sub', 'deeper'))).isDirectory(), true);
});

test('GNU tar reads the archive and lists every member', async (t) => {
  if (spawnSync('tar', ['--version']).status !== 0) {
    if (process.env.CI === 'true') throw new Error('tar is missing (apt-get install tar)');
    t.skip('tar not installed: apt-get install tar');
    return;
  }
  const root = await tree();
  const chunks: Buffer[] = [];
  for await (const chunk of writeDirectoryTar(root)) chunks.push(chunk);
  const listing = spawnSync('tar', ['-tvf', '-'], { input: Buffer.concat(chunks) });
  assert.equal(listing.status, 0, listing.stderr.toString());
  const names = listing.stdout.toString().trim().split('\n').map((line) => line.split(/\s+/).slice(5).join(' '));
  // Sorted names, each directory before its contents.
  assert.deepEqual(names, [
    'a.txt',
    'empty.txt',
    'link-to-a -> a.txt',
    'sub/',
    'sub/block.bin',
    `sub/dangling-long-link -> ../${'t'.repeat(150)}`,
    'sub/deeper/',
    'sub/deeper/big.bin',
    `sub/${'n'.repeat(120)}-ümlaut.txt`,
  ]);
});
