import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gzipSync, createGunzip } from 'node:zlib';
import { buildTar } from '../../../test/support/tar-writer.js';
import { requireTool, runCommand } from '../../../test/support/tools.js';
import { TarFormatError } from './tar-header.js';
import { indexTarFile, readTarEntries, type TarEntry } from './tar-reader.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'holdfast-tar-reader-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function chunked(bytes: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return Readable.from(pieces);
}

async function collect(source: AsyncIterable<Uint8Array>, keep = true): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for await (const entry of readTarEntries(source, { keepContent: () => keep })) out.push(entry);
  return out;
}

describe('tar reader', () => {
  const longName = `usr/share/${'d'.repeat(70)}/${'f'.repeat(60)}.txt`;
  const big = randomBytes(70_000);
  const archive = buildTar([
    { path: 'etc', type: 'directory' },
    { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
    { path: 'usr/bin/tool', content: big, mode: 0o4755, uid: 0, gid: 0 },
    { path: longName, content: 'long' },
    { path: 'bin/sh', type: 'symlink', linkpath: '/bin/busybox' },
    { path: 'bin/ash', type: 'hardlink', linkpath: 'bin/busybox' },
    { path: 'empty', content: '' },
  ]);

  for (const chunk of [1, 511, 513, 4096, archive.length]) {
    test(`reads every member, long pax names and contents, in chunks of ${chunk} bytes`, async () => {
      const entries = await collect(chunked(archive, chunk));
      assert.deepEqual(
        entries.map((entry) => [entry.path, entry.kind, entry.size]),
        [
          ['etc/', 'directory', 0],
          ['etc/passwd', 'file', 30],
          ['usr/bin/tool', 'file', big.length],
          [longName, 'file', 4],
          ['bin/sh', 'symlink', 0],
          ['bin/ash', 'hardlink', 0],
          ['empty', 'file', 0],
        ],
      );
      assert.equal(entries[1]!.content?.toString(), 'root:x:0:0:root:/root:/bin/sh\n');
      assert.ok(entries[2]!.content?.equals(big));
      assert.equal(entries[2]!.mode, 0o4755);
      assert.equal(entries[4]!.linkpath, '/bin/busybox');
      assert.deepEqual(entries[6]!.content, Buffer.alloc(0));
    });
  }

  test('keeps only the contents asked for', async () => {
    const kept: string[] = [];
    for await (const entry of readTarEntries(chunked(archive, 1000), { keepContent: (header) => header.path === 'etc/passwd' })) if (entry.content !== undefined) kept.push(entry.path);
    assert.deepEqual(kept, ['etc/passwd']);
  });

  test('reads through gzip, and the headers-only index gives offsets where the data is', async () => {
    const entries = await collect(Readable.from([gzipSync(archive)]).pipe(createGunzip()));
    assert.equal(entries.length, 7);
    const file = join(scratch, 'index.tar');
    await writeFile(file, archive);
    const index = indexTarFile(file);
    assert.deepEqual(index.map((entry) => entry.path), entries.map((entry) => entry.path));
    const tool = index.find((entry) => entry.path === 'usr/bin/tool')!;
    assert.ok(archive.subarray(tool.dataOffset, tool.dataOffset + tool.size).equals(big));
  });

  test('an archive that stops at a member boundary without end blocks is read (as Go archive/tar does)', async () => {
    const entries = await collect(chunked(buildTar([{ path: 'a', content: 'x' }], { endMarker: false }), 100));
    assert.deepEqual(entries.map((entry) => entry.path), ['a']);
  });

  test('a truncated member and a damaged header are refused', async () => {
    await assert.rejects(collect(Readable.from([archive.subarray(0, 2000)])), (error: unknown) => error instanceof TarFormatError && /truncated/.test(error.message));
    const damaged = Buffer.from(archive);
    damaged[600] = 0x41;
    await assert.rejects(collect(Readable.from([damaged])), /checksum does not match/);
    const file = join(scratch, 'cut.tar');
    await writeFile(file, archive.subarray(0, 2000));
    assert.throws(() => indexTarFile(file), /truncated/);
  });

  for (const format of ['ustar', 'gnu', 'pax']) {
    test(`reads what GNU tar --format=${format} wrote`, async (t) => {
      if (!(await requireTool(t, 'tar', ['--version']))) return;
      const source = join(scratch, `src-${format}`);
      const deep = `a/${'d'.repeat(90)}`;
      await mkdir(join(source, deep), { recursive: true });
      await writeFile(join(source, deep, `${'f'.repeat(40)}.conf`), 'value\n');
      await symlink('../target', join(source, 'link'));
      const file = join(scratch, `${format}.tar`);
      await runCommand('tar', [`--format=${format}`, '-cf', file, '-C', source, '.']);
      const entries = await collect(createReadStream(file));
      const conf = entries.find((entry) => entry.path.endsWith('.conf'))!;
      assert.equal(conf.path, `./${deep}/${'f'.repeat(40)}.conf`);
      assert.equal(conf.content?.toString(), 'value\n');
      assert.equal(entries.find((entry) => entry.kind === 'symlink')?.linkpath, '../target');
      assert.deepEqual(indexTarFile(file).map((entry) => entry.path), entries.map((entry) => entry.path));
      assert.equal((await readFile(file)).length % 512, 0);
    });
  }
});
