import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { requireTool, runCommand } from '../../../test/support/tools.js';
import { TarExtractor, TarFormatError } from './tar-extractor.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'holdfast-tar-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Feeds `bytes` to a new extractor in chunks of `chunk` bytes (odd sizes cross every boundary). */
async function extract(bytes: Buffer, into: string, chunk = 777) {
  await mkdir(into, { mode: 0o700 });
  const extractor = new TarExtractor(into);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
  await pipeline(Readable.from(pieces), extractor);
  return extractor.summary();
}

/** Every path under `dir` with what it is: file contents' length and first bytes, link targets. */
async function describeTree(dir: string, base = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of (await readdir(join(dir, base), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = base === '' ? entry.name : `${base}/${entry.name}`;
    if (entry.isSymbolicLink()) out[path] = `link → ${await readlink(join(dir, path))}`;
    else if (entry.isDirectory()) {
      out[path] = 'dir';
      Object.assign(out, await describeTree(dir, path));
    } else out[path] = `file ${(await readFile(join(dir, path))).toString('base64')}`;
  }
  return out;
}

/** A minimal ustar header + body, for archives `tar` would refuse to write. */
function member(name: string, body: Buffer, type = '0', link = ''): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000600\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write(type, 156, 'latin1');
  header.write(link, 157, 100, 'utf8');
  header.write('ustar\0' + '00', 257, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding]);
}
const END = Buffer.alloc(1024);

describe('tar extraction', () => {
  for (const format of ['ustar', 'gnu', 'pax']) {
    test(`extracts what GNU tar --format=${format} wrote: nested directories, long names, a symlink, empty and odd-sized files`, async (t) => {
      if (!(await requireTool(t, 'tar', ['--version']))) return;
      const source = join(scratch, `src-${format}`);
      const deep = `base/16384/${'d'.repeat(60)}`;
      await mkdir(join(source, deep), { recursive: true });
      await writeFile(join(source, 'PG_VERSION'), '15\n');
      await writeFile(join(source, 'empty'), '');
      await writeFile(join(source, 'base/16384/2619'), randomBytes(8192 * 3 + 17));
      // A path over 100 bytes: ustar needs the prefix field, gnu an L header, pax a path record.
      await writeFile(join(source, deep, `${'f'.repeat(50)}_vm`), randomBytes(1000));
      await symlink('/var/lib/postgresql/tablespaces/ts1', join(source, 'tablespace-link'));
      const archive = join(scratch, `${format}.tar`);
      await runCommand('tar', [`--format=${format}`, '-cf', archive, '-C', source, '.']);
      const target = join(scratch, `out-${format}`);
      const summary = await extract(await readFile(archive), target);
      assert.deepEqual(await describeTree(target), await describeTree(source));
      assert.equal(summary.files, 4);
      assert.equal(summary.symlinks, 1);
      assert.equal(summary.bytes, 3 + 8192 * 3 + 17 + 1000);
      const mode = (await lstat(join(target, 'PG_VERSION'))).mode & 0o777;
      assert.equal(mode & 0o007, 0, `no access for others (mode ${mode.toString(8)})`);
    });
  }

  test('base-256 sizes (what PostgreSQL writes past 8 GiB) are read', async () => {
    const body = Buffer.from('hello');
    const m = member('big', body);
    // Rewrite the size field as base-256 and fix the checksum.
    m.fill(0, 124, 136);
    m[124] = 0x80;
    m[135] = body.length;
    m.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of m.subarray(0, 512)) sum += byte;
    m.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const target = join(scratch, 'b256');
    await extract(Buffer.concat([m, END]), target);
    assert.equal(await readFile(join(target, 'big'), 'utf8'), 'hello');
  });

  const hostile: readonly (readonly [string, Buffer, RegExp])[] = [
    ['a path that climbs out with ..', Buffer.concat([member('../escaped', Buffer.from('x')), END]), /outside the target directory/],
    ['an absolute path', Buffer.concat([member('/tmp/holdfast-absolute', Buffer.from('x')), END]), /outside the target directory/],
    ['a file written through a symlink the archive made', Buffer.concat([member('link', Buffer.alloc(0), '2', '/tmp'), member('link/planted', Buffer.from('x')), END]), /symbolic link/],
    ['the same path twice', Buffer.concat([member('twice', Buffer.from('a')), member('twice', Buffer.from('b')), END]), /EEXIST/],
    ['a device node', Buffer.concat([member('dev', Buffer.alloc(0), '3'), END]), /type "3"/],
    ['a truncated archive', member('cut', Buffer.alloc(2000)).subarray(0, 1200), /truncated/],
    ['no end marker', member('open', Buffer.from('x')), /end-of-archive/],
  ];
  for (const [what, bytes, message] of hostile) {
    test(`refuses ${what}`, async () => {
      const target = join(scratch, `hostile-${what.replaceAll(' ', '-')}`);
      await assert.rejects(extract(bytes, target), (error: unknown) => (error instanceof TarFormatError || (error as { code?: string }).code === 'EEXIST') && message.test(String(error)));
      assert.equal(await readFile('/tmp/holdfast-absolute', 'utf8').catch(() => 'absent'), 'absent');
      assert.equal(await readFile(join(scratch, 'escaped'), 'utf8').catch(() => 'absent'), 'absent');
    });
  }

  test('with digestFiles, every regular file is reported with its size and SHA-256, by member path', async () => {
    const bodies = { PG_VERSION: Buffer.from('15\n'), 'base/1/1259': randomBytes(8192 * 2 + 5), empty: Buffer.alloc(0) };
    const archive = Buffer.concat([member('./PG_VERSION', bodies.PG_VERSION), member('base/', Buffer.alloc(0), '5'), member('base/1/1259', bodies['base/1/1259']), member('empty', bodies.empty), member('link', Buffer.alloc(0), '2', 'PG_VERSION'), END]);
    const into = join(scratch, 'digests');
    await mkdir(into, { mode: 0o700 });
    const extractor = new TarExtractor(into, { digestFiles: true, sync: false });
    await pipeline(Readable.from([archive.subarray(0, 1000), archive.subarray(1000)]), extractor);
    const expected = new Map(Object.entries(bodies).map(([path, body]) => [path, { size: body.length, sha256: createHash('sha256').update(body).digest('hex') }]));
    assert.deepEqual(new Map(extractor.fileDigests()), expected);
    assert.equal(new TarExtractor(join(scratch, 'unused')).fileDigests().size, 0, 'none without the option');
  });

  test('destroyed in the middle of a large chunk, it stops creating files before it reports closed', async () => {
    const members = Array.from({ length: 400 }, (_, index) => member(`dir${index % 7}/file-${index}`, randomBytes(3000)));
    const into = join(scratch, 'destroyed');
    await mkdir(into, { mode: 0o700 });
    const extractor = new TarExtractor(into, { sync: false });
    const closed = new Promise((resolve) => extractor.once('close', resolve));
    extractor.write(Buffer.concat([...members, END]));
    await new Promise((resolve) => setImmediate(resolve));
    extractor.destroy(new Error('the source failed'));
    extractor.on('error', () => undefined);
    await closed;
    await rm(into, { recursive: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assert.rejects(readdir(into), { code: 'ENOENT' }, 'nothing is created after close');
  });

  test('a file larger than the writeback interval is written whole and in order, synced as it goes', async () => {
    const body = randomBytes(70 * 1024 * 1024 + 333);
    const into = join(scratch, 'large');
    await mkdir(into, { mode: 0o700 });
    const extractor = new TarExtractor(into, { sync: true, digestFiles: true });
    const archive = Buffer.concat([member('base/1/16384', body), member('after', Buffer.from('next member')), END]);
    const pieces: Buffer[] = [];
    for (let i = 0; i < archive.length; i += 3 * 1024 * 1024 + 7) pieces.push(archive.subarray(i, i + 3 * 1024 * 1024 + 7));
    await pipeline(Readable.from(pieces), extractor);
    assert.ok((await readFile(join(into, 'base/1/16384'))).equals(body));
    assert.equal(await readFile(join(into, 'after'), 'utf8'), 'next member');
    assert.equal(extractor.fileDigests().get('base/1/16384')?.sha256, createHash('sha256').update(body).digest('hex'));
  });

  test('a damaged header fails its checksum', async () => {
    const bytes = Buffer.concat([member('file', Buffer.from('x')), END]);
    bytes[0] = 'g'.charCodeAt(0);
    await assert.rejects(extract(bytes, join(scratch, 'damaged')), /checksum does not match/);
  });
});
