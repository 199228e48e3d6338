import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';

/**
 * A small reader for ZIP archives (PKWARE APPNOTE.TXT 6.3.10), enough for the OSV database exports
 * (`<ecosystem>/all.zip`): the central directory is read from the end, then each entry is read by
 * its offset and inflated with node:zlib. Supports stored (0) and deflated (8) entries, ZIP64
 * (§4.3.14–4.3.15, §4.5.3: the npm export has more than 65,535 entries) and data descriptors
 * (sizes come from the central directory, never the local header). Refuses encryption, other
 * methods, multi-disk archives, and entries whose size or CRC-32 disagree with the directory.
 */
export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

export class ZipFormatError extends Error {}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const ZIP64_EXTRA_ID = 0x0001;

function uint64(buffer: Buffer, offset: number, what: string): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`${what} ${value} is beyond what this reader handles.`);
  return Number(value);
}

export class ZipReader {
  readonly #fd: number;
  readonly #path: string;
  readonly #size: number;

  private constructor(path: string) {
    this.#path = path;
    this.#fd = openSync(path, 'r');
    this.#size = fstatSync(this.#fd).size;
  }

  static open(path: string): ZipReader {
    return new ZipReader(path);
  }

  close(): void {
    closeSync(this.#fd);
  }

  #read(position: number, length: number): Buffer {
    if (position < 0 || position + length > this.#size) throw new ZipFormatError(`${this.#path}: a record at byte ${position} runs past the end of the file; the archive is truncated or not a zip.`);
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.#fd, buffer, done, length - done, position + done);
      if (n === 0) throw new ZipFormatError(`${this.#path}: unexpected end of file at byte ${position + done}.`);
      done += n;
    }
    return buffer;
  }

  /** The central directory's location and entry count, from the (ZIP64) end-of-central-directory record. */
  #directory(): { offset: number; size: number; entries: number } {
    const tailLength = Math.min(this.#size, EOCD_SIZE + MAX_COMMENT);
    const tail = this.#read(this.#size - tailLength, tailLength);
    let at = -1;
    for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tail.length) {
        at = i;
        break;
      }
    }
    if (at === -1) throw new ZipFormatError(`${this.#path} is not a zip archive (no end-of-central-directory record).`);
    const disk = tail.readUInt16LE(at + 4);
    const directoryDisk = tail.readUInt16LE(at + 6);
    let entries = tail.readUInt16LE(at + 10);
    let size = tail.readUInt32LE(at + 12);
    let offset = tail.readUInt32LE(at + 16);
    const eocdPosition = this.#size - tailLength + at;
    if (entries === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
      const locator = eocdPosition >= 20 ? this.#read(eocdPosition - 20, 20) : undefined;
      if (locator === undefined || locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIGNATURE) throw new ZipFormatError(`${this.#path}: the end record points to ZIP64 but there is no ZIP64 locator.`);
      const record = this.#read(uint64(locator, 8, 'ZIP64 record offset'), 56);
      if (record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) throw new ZipFormatError(`${this.#path}: no ZIP64 end-of-central-directory record where the locator points.`);
      entries = uint64(record, 32, 'entry count');
      size = uint64(record, 40, 'central directory size');
      offset = uint64(record, 48, 'central directory offset');
    } else if (disk !== 0 || directoryDisk !== 0) {
      throw new ZipFormatError(`${this.#path} is part of a multi-disk (split) archive; join it into one file first.`);
    }
    return { offset, size, entries };
  }

  /** Every entry in central-directory order. */
  *entries(): Generator<ZipEntry> {
    const { offset, size, entries } = this.#directory();
    const directory = this.#read(offset, size);
    let at = 0;
    for (let index = 0; index < entries; index++) {
      if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new ZipFormatError(`${this.#path}: central directory entry ${index} is damaged.`);
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      let compressedSize = directory.readUInt32LE(at + 20);
      let uncompressedSize = directory.readUInt32LE(at + 24);
      let localHeaderOffset = directory.readUInt32LE(at + 42);
      const name = directory.toString('utf8', at + 46, at + 46 + nameLength);
      // §4.5.3: the ZIP64 extra field holds, in this order, only the values saturated above.
      let extra = at + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = directory.readUInt16LE(extra);
        const length = directory.readUInt16LE(extra + 2);
        if (id === ZIP64_EXTRA_ID) {
          let field = extra + 4;
          if (uncompressedSize === 0xffffffff) {
            uncompressedSize = uint64(directory, field, 'entry size');
            field += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = uint64(directory, field, 'entry size');
            field += 8;
          }
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = uint64(directory, field, 'entry offset');
        }
        extra += 4 + length;
      }
      yield { name, method: directory.readUInt16LE(at + 10), flags: directory.readUInt16LE(at + 8), crc32: directory.readUInt32LE(at + 16), compressedSize, uncompressedSize, localHeaderOffset };
      at = extraEnd + commentLength;
    }
  }

  /** The entry's bytes, inflated and checked against its size and CRC-32; refused above `maxBytes`. */
  read(entry: ZipEntry, maxBytes: number): Buffer {
    if ((entry.flags & 0x1) !== 0) throw new ZipFormatError(`${this.#path}: ${entry.name} is encrypted; this reader does not decrypt.`);
    if (entry.uncompressedSize > maxBytes) throw new ZipFormatError(`${this.#path}: ${entry.name} is ${entry.uncompressedSize} bytes, above the ${maxBytes}-byte limit per entry.`);
    const header = this.#read(entry.localHeaderOffset, 30);
    if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new ZipFormatError(`${this.#path}: no local header for ${entry.name} at byte ${entry.localHeaderOffset}.`);
    const dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const stored = this.#read(dataStart, entry.compressedSize);
    let data: Buffer;
    if (entry.method === 0) data = stored;
    else if (entry.method === 8) {
      try {
        data = inflateRawSync(stored, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
      } catch (error) {
        throw new ZipFormatError(`${this.#path}: ${entry.name} does not inflate (${(error as Error).message}).`);
      }
    } else throw new ZipFormatError(`${this.#path}: ${entry.name} uses compression method ${entry.method}; only stored (0) and deflate (8) are supported.`);
    if (data.length !== entry.uncompressedSize || crc32(data) !== entry.crc32) throw new ZipFormatError(`${this.#path}: ${entry.name} does not match its size or CRC-32; the archive is damaged.`);
    return data;
  }
}
