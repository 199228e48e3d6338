import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { applyMetaHeader, decodeMemberHeader, headerTypeAndSize, isMetaType, MAX_META_BYTES, paddingAfter, TAR_BLOCK, TarFormatError, type TarMemberHeader, type TarOverrides, verifyChecksum } from './tar-header.js';

/**
 * Reads a tar archive without extracting it: container image layers and `docker save` tarballs,
 * whose members are looked at, not written. Two ways in:
 *
 * - `readTarEntries(stream)` iterates the members of a stream (a layer, possibly decompressed on
 *   the way), keeping in memory only the contents the caller asks for;
 * - `indexTarFile(path)` reads only the headers of an archive on disk with positioned reads,
 *   so a member (a layer inside a `docker save` tarball) can then be streamed by its offset.
 *
 * Formats are those of tar-header.ts. Unlike the extractor, which refuses anything a data
 * directory never holds, the reader reports every member type (hard links, devices, FIFOs) and
 * leaves judging paths to the caller. Like Go's archive/tar (what Docker itself uses), an archive
 * that ends at a member boundary without the two zero blocks is accepted; one that ends inside a
 * member is truncated and refused.
 */

export type TarEntryKind = 'file' | 'hardlink' | 'symlink' | 'directory' | 'other';

export interface TarEntry extends TarMemberHeader {
  readonly kind: TarEntryKind;
  /** Byte offset of the member's data in the archive. */
  readonly dataOffset: number;
  /** The member's data, when `keepContent` asked for it. */
  readonly content?: Buffer;
}

export interface TarReadOptions {
  /** Whether to keep this member's data in memory (decided from its header: path, size, type). */
  readonly keepContent?: (header: TarMemberHeader) => boolean;
}

export function entryKind(type: string): TarEntryKind {
  if (type === '0' || type === '\0' || type === '7') return 'file';
  if (type === '1') return 'hardlink';
  if (type === '2') return 'symlink';
  if (type === '5') return 'directory';
  return 'other';
}

/** Pulls exact byte counts out of a stream of chunks of any size. */
class ChunkQueue {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  async #fill(wanted: number): Promise<boolean> {
    while (this.#buffered < wanted && !this.#ended) {
      const next = await this.#iterator.next();
      if (next.done === true) this.#ended = true;
      else if (next.value.length > 0) {
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length);
        this.#chunks.push(chunk);
        this.#buffered += chunk.length;
      }
    }
    return this.#buffered >= wanted;
  }

  /** Exactly `length` bytes, or undefined when the stream ends before any of them. */
  async read(length: number): Promise<Buffer | undefined> {
    if (!(await this.#fill(length))) {
      if (this.#buffered === 0) return undefined;
      throw new TarFormatError('the archive ends in the middle of a member: it is truncated');
    }
    const out = this.#take(length);
    this.offset += length;
    return out;
  }

  async skip(length: number): Promise<void> {
    let remaining = length;
    while (remaining > 0) {
      if (this.#buffered === 0 && !(await this.#fill(1))) throw new TarFormatError('the archive ends in the middle of a member: it is truncated');
      const first = this.#chunks[0]!;
      const take = Math.min(remaining, first.length);
      if (take === first.length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(take);
      this.#buffered -= take;
      remaining -= take;
    }
    this.offset += length;
  }

  #take(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    const first = this.#chunks[0]!;
    if (first.length >= length) {
      if (first.length === length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(length);
      this.#buffered -= length;
      return first.subarray(0, length);
    }
    const parts: Buffer[] = [];
    let remaining = length;
    while (remaining > 0) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(remaining, chunk.length);
      parts.push(chunk.subarray(0, take));
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
      remaining -= take;
    }
    this.#buffered -= length;
    return Buffer.concat(parts, length);
  }

  /** Reads and drops whatever is left (padding after the end marker), so the whole stream is consumed. */
  async drain(): Promise<void> {
    this.#chunks = [];
    this.#buffered = 0;
    while (!this.#ended) {
      const next = await this.#iterator.next();
      if (next.done === true) this.#ended = true;
    }
  }

  async close(): Promise<void> {
    await this.#iterator.return?.();
  }
}

/** The members of a tar stream, in order; data not asked for is skipped without being copied. */
export async function* readTarEntries(source: AsyncIterable<Uint8Array>, options: TarReadOptions = {}): AsyncGenerator<TarEntry> {
  const queue = new ChunkQueue(source);
  let overrides: TarOverrides = {};
  try {
    for (;;) {
      const header = await queue.read(TAR_BLOCK);
      if (header === undefined) return;
      if (header.every((byte) => byte === 0)) {
        // The end marker; what follows is padding to the record size. Reading it to the end lets
        // a caller that hashes the stream see every byte.
        await queue.drain();
        return;
      }
      verifyChecksum(header);
      const { type, size } = headerTypeAndSize(header, overrides);
      if (isMetaType(type)) {
        if (size > MAX_META_BYTES) throw new TarFormatError(`a ${type} header of ${size} bytes is larger than any path needs`);
        const body = (await queue.read(size)) ?? Buffer.alloc(0);
        await queue.skip(paddingAfter(size));
        applyMetaHeader(overrides, type, body);
        continue;
      }
      const member = decodeMemberHeader(header, overrides);
      overrides = {};
      const kind = entryKind(type);
      // Hard links, symlinks and directories have no data even if a size is written.
      const dataSize = kind === 'file' || kind === 'other' ? size : 0;
      const dataOffset = queue.offset;
      const keep = kind === 'file' && options.keepContent?.(member) === true;
      const content = keep ? Buffer.from((await queue.read(dataSize)) ?? Buffer.alloc(0)) : undefined;
      if (!keep) await queue.skip(dataSize);
      await queue.skip(paddingAfter(dataSize));
      yield { ...member, size: dataSize, kind, dataOffset, ...(content === undefined ? {} : { content }) };
    }
  } finally {
    await queue.close();
  }
}

/**
 * The members of a tar file on disk, from their headers alone (positioned reads; the data is
 * never read), for archives whose members are read later by offset.
 */
export function indexTarFile(path: string): TarEntry[] {
  const fd = openSync(path, 'r');
  try {
    const total = fstatSync(fd).size;
    const entries: TarEntry[] = [];
    const header = Buffer.alloc(TAR_BLOCK);
    let offset = 0;
    let overrides: TarOverrides = {};
    const readExact = (buffer: Buffer, at: number) => {
      if (at + buffer.length > total) throw new TarFormatError(`${path}: the archive ends in the middle of a member: it is truncated`);
      let done = 0;
      while (done < buffer.length) done += readSync(fd, buffer, done, buffer.length - done, at + done);
    };
    while (offset < total) {
      readExact(header, offset);
      offset += TAR_BLOCK;
      if (header.every((byte) => byte === 0)) break;
      verifyChecksum(header);
      const { type, size } = headerTypeAndSize(header, overrides);
      if (isMetaType(type)) {
        if (size > MAX_META_BYTES) throw new TarFormatError(`a ${type} header of ${size} bytes is larger than any path needs`);
        const body = Buffer.alloc(size);
        readExact(body, offset);
        applyMetaHeader(overrides, type, body);
        offset += size + paddingAfter(size);
        continue;
      }
      const member = decodeMemberHeader(header, overrides);
      overrides = {};
      const kind = entryKind(type);
      const dataSize = kind === 'file' || kind === 'other' ? size : 0;
      if (offset + dataSize > total) throw new TarFormatError(`${path}: ${member.path} ends past the end of the archive: it is truncated`);
      entries.push({ ...member, size: dataSize, kind, dataOffset: offset });
      offset += dataSize + paddingAfter(dataSize);
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}
