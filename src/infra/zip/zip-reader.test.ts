import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../../test/support/file-tree.js';
import { requireTool, runCommand } from '../../../test/support/tools.js';
import { buildZip } from '../../../test/support/zip-writer.js';
import { ZipFormatError, ZipReader } from './zip-reader.js';

function readAll(path: string): Map<string, Buffer> {
  const reader = ZipReader.open(path);
  try {
    return new Map([...reader.entries()].map((entry) => [entry.name, reader.read(entry, 1 << 24)]));
  } finally {
    reader.close();
  }
}

const FILES = [
  { name: 'GHSA-aaaa-bbbb-cccc.json', data: JSON.stringify({ id: 'GHSA-aaaa-bbbb-cccc', text: 'x'.repeat(5000) }) },
  { name: 'empty.json', data: '' },
  { name: 'dir/ünïcode.json', data: '{"a":1}', method: 'store' as const },
  { name: 'random.bin', data: randomBytes(70_000) },
];

test('reads stored and deflated entries, with and without ZIP64 end records and a comment', async (t) => {
  const dir = await tempDir(t, 'holdfast-zip-');
  for (const options of [{}, { zip64: true }, { comment: 'exported by a test' }]) {
    const path = join(dir, 'all.zip');
    await writeFile(path, buildZip(FILES, options));
    const entries = readAll(path);
    assert.deepEqual([...entries.keys()], FILES.map((file) => file.name), JSON.stringify(options));
    for (const file of FILES) assert.ok(entries.get(file.name)!.equals(Buffer.from(file.data)), file.name);
  }
});

test('reads archives written by Info-ZIP zip, including ZIP64 streamed from stdin with data descriptors', async (t) => {
  if (!(await requireTool(t, 'zip', ['-v'], 'zip'))) return;
  const dir = await tempDir(t, 'holdfast-zip-infozip-');
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'sub'), { recursive: true });
  await writeFile(join(tree, 'a.json'), JSON.stringify({ id: 'A', padding: 'y'.repeat(10_000) }));
  await writeFile(join(tree, 'sub', 'b.json'), '{"id":"B"}');
  await runCommand('zip', ['-q', '-r', join(dir, 'tree.zip'), '.'], { cwd: tree });
  const entries = readAll(join(dir, 'tree.zip'));
  assert.equal(entries.get('a.json')?.toString(), await readFile(join(tree, 'a.json'), 'utf8'));
  assert.equal(entries.get('sub/b.json')?.toString(), '{"id":"B"}');
  // `zip archive -` reads the data from stdin: sizes unknown in advance, so ZIP64 and a data descriptor.
  await runCommand('sh', ['-c', `printf '%s' '{"id":"STDIN"}' | zip -q ${join(dir, 'streamed.zip')} -`]);
  assert.equal(readAll(join(dir, 'streamed.zip')).get('-')?.toString(), '{"id":"STDIN"}');
});

test('damage is refused with a message: not a zip, truncated, a flipped byte, an oversized entry', async (t) => {
  const dir = await tempDir(t, 'holdfast-zip-bad-');
  const good = buildZip(FILES);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['not-zip', Buffer.from('{"id": "just json"}'), /not a zip archive/],
    ['truncated', good.subarray(0, good.length - 30), /not a zip archive|runs past the end|damaged/],
  ];
  const flipped = Buffer.from(good);
  const inFirstData = 30 + FILES[0]!.name.length + 10; // past the local header and name
  flipped[inFirstData] = flipped[inFirstData]! ^ 0xff;
  cases.push(['flipped', flipped, /does not inflate|CRC-32/]);
  for (const [name, bytes, message] of cases) {
    await writeFile(join(dir, name), bytes);
    assert.throws(() => readAll(join(dir, name)), (error: unknown) => error instanceof ZipFormatError && message.test(error.message), name);
  }
  await writeFile(join(dir, 'good.zip'), good);
  const reader = ZipReader.open(join(dir, 'good.zip'));
  try {
    const big = [...reader.entries()].find((entry) => entry.name === 'random.bin')!;
    assert.throws(() => reader.read(big, 1000), /above the 1000-byte limit/);
  } finally {
    reader.close();
  }
});
