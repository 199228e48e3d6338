import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { indexTarFile, type TarEntry } from '../../../infra/tar/tar-reader.js';

/**
 * Where an image's files are: an OCI image layout directory, or a tar of one (`docker save`,
 * whose members are the same kind of files: manifest.json, blobs, layer tars). Both are read in
 * place; a tarball's members are found from its headers and streamed by offset.
 */
export interface ImageArchive {
  /** What was opened, for messages. */
  readonly description: string;
  has(path: string): boolean;
  size(path: string): number;
  /** A small file (JSON), at most `maxBytes`. */
  read(path: string, maxBytes: number): Buffer;
  stream(path: string): Readable;
}

export class ImageFormatError extends Error {}

/** `./blobs//sha256/x` → `blobs/sha256/x`. */
export function normalizeMemberPath(path: string): string {
  return path.replace(/^(?:\.?\/)+/, '').replace(/\/{2,}/g, '/').replace(/\/$/, '');
}

class DirectoryArchive implements ImageArchive {
  constructor(readonly root: string) {}
  get description(): string {
    return `OCI layout directory ${this.root}`;
  }
  #path(path: string): string {
    const clean = normalizeMemberPath(path);
    if (clean.split('/').includes('..')) throw new ImageFormatError(`${path} points outside the image directory`);
    return join(this.root, clean);
  }
  has(path: string): boolean {
    return existsSync(this.#path(path));
  }
  size(path: string): number {
    return statSync(this.#path(path)).size;
  }
  read(path: string, maxBytes: number): Buffer {
    const size = this.size(path);
    if (size > maxBytes) throw new ImageFormatError(`${path} is ${size} bytes, more than the ${maxBytes} a ${path.endsWith('.json') ? 'JSON document' : 'metadata file'} may have`);
    return readFileSync(this.#path(path));
  }
  stream(path: string): Readable {
    return createReadStream(this.#path(path), { highWaterMark: 1 << 20 });
  }
}

class TarballArchive implements ImageArchive {
  readonly #members = new Map<string, TarEntry>();
  constructor(readonly file: string) {
    for (const entry of indexTarFile(file)) if (entry.kind === 'file') this.#members.set(normalizeMemberPath(entry.path), entry);
  }
  get description(): string {
    return `image tarball ${this.file}`;
  }
  #member(path: string): TarEntry {
    const entry = this.#members.get(normalizeMemberPath(path));
    if (entry === undefined) throw new ImageFormatError(`${path} is not in the tarball`);
    return entry;
  }
  has(path: string): boolean {
    return this.#members.has(normalizeMemberPath(path));
  }
  size(path: string): number {
    return this.#member(path).size;
  }
  read(path: string, maxBytes: number): Buffer {
    const entry = this.#member(path);
    if (entry.size > maxBytes) throw new ImageFormatError(`${path} is ${entry.size} bytes, more than the ${maxBytes} a metadata file may have`);
    if (entry.size === 0) return Buffer.alloc(0);
    const fd = openSync(this.file, 'r');
    try {
      const out = Buffer.alloc(entry.size);
      let done = 0;
      while (done < out.length) {
        const read = readSync(fd, out, done, out.length - done, entry.dataOffset + done);
        if (read === 0) throw new ImageFormatError(`${path} ends early: the tarball is truncated`);
        done += read;
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }
  stream(path: string): Readable {
    const entry = this.#member(path);
    if (entry.size === 0) return Readable.from([]);
    return createReadStream(this.file, { start: entry.dataOffset, end: entry.dataOffset + entry.size - 1, highWaterMark: 1 << 20 });
  }
}

export function openImageArchive(path: string): ImageArchive {
  return statSync(path).isDirectory() ? new DirectoryArchive(path) : new TarballArchive(path);
}
