import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { basename, normalize, sep } from 'node:path';
import type { KeywordPrefilter, ScreenedText } from './keyword-prefilter.js';
import type { TextDecoding } from './latin1-text.js';
import { looksBinary, type SourceStats, type TextUnit } from './text-unit.js';

/** Directories a working-tree scan leaves out unless asked: history and installed dependencies. */
export const DEFAULT_EXCLUDED_DIRECTORIES: readonly string[] = ['.git', 'node_modules'];

export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024;

export interface WorkingTreeOptions {
  readonly maxFileBytes: number;
  /** Directory names skipped wherever they occur below the root; empty to scan everything. */
  readonly excludedDirectories: readonly string[];
  /** How file bytes become text: the rule set's `textDecoding` (latin1-text.ts). */
  readonly decoding: TextDecoding;
  /**
   * The rule set's prefilter, to screen each file's bytes before it becomes a string (Latin-1
   * only): a file the screen shows can hold no finding is counted as scanned but not decoded or
   * yielded, and the others carry what the screen found.
   */
  readonly screen?: KeywordPrefilter;
}

/*
 * Files are read synchronously, on purpose. A tree like node_modules is ten thousand small files;
 * through fs/promises each costs four thread-pool round trips (open, fstat, read, close) plus an
 * lstat, and the profile showed the scanner idle 40 % of the time waiting for them. Read in place
 * it is open (O_NOFOLLOW instead of an lstat: a symbolic link swapped in after the directory
 * listing is refused, not followed), one read into a reused buffer, close; an fstat and a second
 * read only for files of 64 KiB and more.
 */

/** Files under this size are read in one call, without an fstat. */
const ONE_READ_BYTES = 64 * 1024;
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/** A file to read: where it is, and its path as reported (relative to the root, with `/`). */
export interface TreeFile {
  readonly file: string;
  readonly path: string;
}

/*
 * Paths are built by concatenation, not path.join/relative: on node_modules (ten thousand files)
 * normalizing every path again cost as much as opening the files.
 */
function* walk(dir: string, prefix: string, options: WorkingTreeOptions, stats: SourceStats): Generator<TreeFile> {
  const names: Array<{ name: string; directory: boolean }> = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Symbolic links are not followed: they may leave the tree or loop.
    if (entry.isDirectory()) names.push({ name: entry.name, directory: true });
    else if (entry.isFile()) names.push({ name: entry.name, directory: false });
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, directory } of names) {
    const file = dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
    const path = prefix === '' ? name : `${prefix}/${name}`;
    if (!directory) {
      yield { file, path };
    } else if (options.excludedDirectories.includes(name)) {
      stats.skippedDirectories.push(path);
    } else {
      yield* walk(file, path, options, stats);
    }
  }
}

/** 'clean': a text file that the screen showed can hold no finding (read whole, never decoded). */
export type FileRead =
  | { readonly kind: 'text'; readonly text: string; readonly bytes: number; readonly screened?: ScreenedText }
  | { readonly kind: 'clean'; readonly bytes: number }
  | { readonly kind: 'binary' | 'large' | 'unreadable' };

/**
 * Reads files into one buffer that grows to the largest file read, so a scan allocates little.
 * Screened Latin-1 reads go straight into the screen's WebAssembly memory (KeywordPrefilter.input)
 * instead: copying each file in again was 4 % of a scan of the benchmark's tree.
 */
export class FileReader {
  #buffer = Buffer.allocUnsafe(ONE_READ_BYTES + 1);
  /** Whether files are read into the screen's memory: decided on the first read. */
  #intoScreen: boolean | undefined;

  constructor(
    private readonly maxFileBytes: number,
    private readonly decoding: TextDecoding,
    private readonly screen?: KeywordPrefilter,
  ) {}

  /**
   * Where to read a file of up to `capacity` bytes; what was read into it before is kept. A Buffer
   * either way: looksBinary's search for a NUL is memchr on a Buffer, a byte loop on a Uint8Array.
   */
  #target(capacity: number): Buffer {
    this.#intoScreen ??= this.decoding === 'latin1' && this.screen?.input(0) !== undefined;
    if (this.#intoScreen) {
      const input = this.screen!.input(capacity)!;
      return Buffer.from(input.buffer, input.byteOffset, input.length);
    }
    if (this.#buffer.length < capacity) {
      const grown = Buffer.allocUnsafe(capacity);
      this.#buffer.copy(grown);
      this.#buffer = grown;
    }
    return this.#buffer;
  }

  #fill(fd: number, target: Buffer, from: number, to: number): number {
    let at = from;
    while (at < to) {
      const wanted = to - at;
      const read = readSync(fd, target, at, wanted, null);
      at += read;
      // A short read of a regular file is its end: no second call to learn that.
      if (read < wanted) break;
    }
    return at;
  }

  read(file: string): FileRead {
    let fd: number;
    try {
      fd = openSync(file, OPEN_FLAGS);
    } catch {
      return { kind: 'unreadable' };
    }
    try {
      // One byte more than the cap tells a file over it.
      const limit = this.maxFileBytes + 1;
      const first = Math.min(ONE_READ_BYTES, limit);
      let target = this.#target(first);
      let length = this.#fill(fd, target, 0, first);
      // Most files end within the first read: they need no fstat.
      if (length === first) {
        const size = fstatSync(fd).size;
        if (size > this.maxFileBytes) return { kind: 'large' };
        // The head decides: a large binary (image, archive, native module) is not read further.
        if (looksBinary(target.subarray(0, length))) return { kind: 'binary' };
        const wanted = Math.min(size + 1, limit);
        target = this.#target(wanted);
        length = this.#fill(fd, target, length, wanted);
      }
      if (length > this.maxFileBytes) return { kind: 'large' };
      if (looksBinary(target.subarray(0, length))) return { kind: 'binary' };
      if (this.#intoScreen) {
        const screened = this.screen!.screenInput(length);
        if (screened.holdsNothing) return { kind: 'clean', bytes: length };
        // Screening may have grown the memory (for its output): the input is read from a new view.
        const text = this.#target(length).toString('latin1', 0, length);
        return { kind: 'text', text, bytes: length, screened };
      }
      const screened = this.decoding === 'latin1' ? this.screen?.screen(this.#buffer.subarray(0, length)) : undefined;
      if (screened?.holdsNothing === true) return { kind: 'clean', bytes: length };
      const text = this.#buffer.toString(this.decoding, 0, length);
      return screened === undefined ? { kind: 'text', text, bytes: length } : { kind: 'text', text, bytes: length, screened };
    } catch {
      return { kind: 'unreadable' };
    } finally {
      closeSync(fd);
    }
  }
}

/** The files under `root` (or `root` itself when it is a file), in path order; excluded directories are counted in `stats`. */
export function treeFiles(root: string, options: WorkingTreeOptions, stats: SourceStats): Iterable<TreeFile> {
  return lstatSync(root).isFile() ? [{ file: root, path: basename(root) }] : walk(normalize(root), '', options, stats);
}

/** Counts a file read in `stats`: a text file of `bytes` scanned, or a file skipped and why. */
export function countRead(kind: FileRead['kind'], bytes: number, stats: SourceStats): void {
  switch (kind) {
    case 'unreadable':
      stats.skippedUnreadable++;
      break;
    case 'large':
      stats.skippedLarge++;
      break;
    case 'binary':
      stats.skippedBinary++;
      break;
    case 'text':
    case 'clean':
      stats.units++;
      stats.bytes += bytes;
  }
}

/**
 * The text files under `root` (or `root` itself when it is a file), in path order. Binary files
 * (a NUL in the first 8 KiB) and files over the size cap are counted in `stats` and skipped;
 * with `options.screen`, so are (as scanned) the files that can hold no finding.
 */
export async function* workingTreeUnits(root: string, options: WorkingTreeOptions, stats: SourceStats): AsyncGenerator<TextUnit> {
  const reader = new FileReader(options.maxFileBytes, options.decoding, options.screen);
  for (const { file, path } of treeFiles(root, options, stats)) {
    const read = reader.read(file);
    countRead(read.kind, read.kind === 'text' || read.kind === 'clean' ? read.bytes : 0, stats);
    if (read.kind === 'text') yield { path, text: read.text, decoding: options.decoding, ...(read.screened === undefined ? {} : { screened: read.screened }) };
  }
}
