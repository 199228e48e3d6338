import { createHash } from 'node:crypto';
import { lstat, open, opendir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A streaming tar writer for a directory tree: POSIX.1-2001 "pax" format, as GNU tar writes it
 * with --format=posix and as `tar-extractor.ts` reads it back. Members come in a stable order
 * (sorted names, each directory before its contents): regular files, directories and symbolic
 * links. A path or link target over 100 bytes (or not ASCII), or a size over the ustar limit,
 * travels in a pax extended header (`x`). Anything else (sockets, FIFOs, devices) is left out
 * and reported through `onSkipped` — a backup of a directory is of its files.
 *
 * A file is read in chunks and its size is fixed by the header: a file that grows while it is
 * read is cut at the header's size, one that shrinks is padded with zeros, and both are reported
 * through `onChanged` (the archive stays well-formed; the backup of that file is not consistent).
 */

export interface TarWriterEvents {
  readonly onSkipped?: (path: string, reason: string) => void;
  readonly onChanged?: (path: string, reason: string) => void;
  /**
   * A regular file's archived contents: its size and SHA-256 as they are in the archive (zero
   * padding included when it shrank), so a restore can be checked file by file.
   */
  readonly onFile?: (path: string, size: number, sha256: string) => void;
}

const BLOCK = 512;
const CHUNK = 256 * 1024;
/** 11 octal digits: the largest size a ustar header holds. */
const USTAR_MAX_SIZE = 0o77777777777;

export async function* writeDirectoryTar(root: string, events: TarWriterEvents = {}): AsyncGenerator<Buffer> {
  yield* walk(root, '', events);
  // End of archive: two zero blocks.
  yield Buffer.alloc(2 * BLOCK);
}

async function* walk(root: string, relative: string, events: TarWriterEvents): AsyncGenerator<Buffer> {
  const directory = relative === '' ? root : join(root, relative);
  const names: string[] = [];
  const handle = await opendir(directory);
  for await (const entry of handle) names.push(entry.name);
  names.sort();
  for (const name of names) {
    const path = relative === '' ? name : `${relative}/${name}`;
    const full = join(root, path);
    const stats = await lstat(full);
    const mode = stats.mode & 0o7777;
    const mtime = Math.floor(stats.mtimeMs / 1000);
    if (stats.isDirectory()) {
      yield* header({ path: `${path}/`, type: '5', size: 0, mode, mtime });
      yield* walk(root, path, events);
    } else if (stats.isSymbolicLink()) {
      yield* header({ path, type: '2', size: 0, mode, mtime, linkpath: await readlink(full) });
    } else if (stats.isFile()) {
      yield* header({ path, type: '0', size: stats.size, mode, mtime });
      yield* fileContents(full, path, stats.size, events);
    } else {
      events.onSkipped?.(path, 'not a regular file, directory or symbolic link');
    }
  }
}

async function* fileContents(full: string, path: string, size: number, events: TarWriterEvents): AsyncGenerator<Buffer> {
  const file = await open(full, 'r');
  const hash = createHash('sha256');
  let written = 0;
  try {
    while (written < size) {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, size - written));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, written);
      if (bytesRead === 0) {
        events.onChanged?.(path, `shrank while it was read (${written} of ${size} bytes); padded with zeros`);
        break;
      }
      written += bytesRead;
      hash.update(buffer.subarray(0, bytesRead));
      yield buffer.subarray(0, bytesRead);
    }
    if (written === size) {
      const probe = Buffer.alloc(1);
      if ((await file.read(probe, 0, 1, size)).bytesRead > 0) events.onChanged?.(path, `grew while it was read; archived its first ${size} bytes`);
    }
  } finally {
    await file.close();
  }
  if (written < size) {
    const zeros = Buffer.alloc(size - written);
    hash.update(zeros);
    yield zeros;
  }
  events.onFile?.(path, size, hash.digest('hex'));
  const padding = (BLOCK - (size % BLOCK)) % BLOCK;
  if (padding > 0) yield Buffer.alloc(padding);
}

interface Member {
  readonly path: string;
  readonly type: '0' | '2' | '5';
  readonly size: number;
  readonly mode: number;
  readonly mtime: number;
  readonly linkpath?: string;
}

function* header(member: Member): Generator<Buffer> {
  const pax: Array<[string, string]> = [];
  const fits = (text: string) => Buffer.byteLength(text) <= 100 && /^[\x20-\x7e]*$/.test(text);
  if (!fits(member.path)) pax.push(['path', member.path]);
  if (member.linkpath !== undefined && !fits(member.linkpath)) pax.push(['linkpath', member.linkpath]);
  if (member.size > USTAR_MAX_SIZE) pax.push(['size', String(member.size)]);
  if (pax.length > 0) {
    const body = Buffer.concat(pax.map(([key, value]) => paxRecord(key, value)));
    yield ustarHeader({ path: 'PaxHeader', type: 'x', size: body.length, mode: 0o644, mtime: member.mtime });
    yield body;
    const padding = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (padding > 0) yield Buffer.alloc(padding);
  }
  yield ustarHeader(member);
}

/** `LEN key=value\n`, where LEN counts the whole record including its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const rest = ` ${key}=${value}\n`;
  const restBytes = Buffer.byteLength(rest);
  let length = restBytes + 1;
  while (String(length).length + restBytes !== length) length = String(length).length + restBytes;
  return Buffer.from(`${length}${rest}`, 'utf8');
}

function ustarHeader(member: { path: string; type: string; size: number; mode: number; mtime: number; linkpath?: string }): Buffer {
  const block = Buffer.alloc(BLOCK);
  const ascii = (text: string, max: number) => Buffer.from(text.replace(/[^\x20-\x7e]/g, '_').slice(0, max), 'ascii');
  ascii(member.path, 100).copy(block, 0);
  octal(block, 100, 8, member.mode);
  octal(block, 108, 8, 0);
  octal(block, 116, 8, 0);
  octal(block, 124, 12, Math.min(member.size, USTAR_MAX_SIZE));
  octal(block, 136, 12, Math.max(0, member.mtime));
  block.write(member.type, 156, 'ascii');
  if (member.linkpath !== undefined) ascii(member.linkpath, 100).copy(block, 157);
  block.write('ustar\u000000', 257, 'ascii');
  // Checksum: the sum of all bytes with the checksum field read as spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  return block;
}

function octal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, 'ascii');
}
