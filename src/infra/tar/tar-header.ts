/**
 * The parts of a tar header every reader here shares (POSIX.1-2001 pax and the ustar/GNU forms
 * before it, as GNU tar's manual documents them): the 512-byte block, its checksum, octal and
 * base-256 numbers, the ustar name prefix, pax extended records and GNU long names. The extractor
 * (tar-extractor.ts, writes to disk) and the reader (tar-reader.ts, iterates in memory) build on it.
 */

export const TAR_BLOCK = 512;

export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

/** What pax (`x`) and GNU (`L`, `K`) headers say about the next member. */
export interface TarOverrides {
  path?: string;
  linkpath?: string;
  size?: number;
}

/** Member type flags that only describe the next member (or the archive, `g`). */
export function isMetaType(type: string): boolean {
  return type === 'x' || type === 'L' || type === 'K' || type === 'g';
}

/** Meta headers hold a path or a few records; anything larger is not a tar we should trust. */
export const MAX_META_BYTES = 1024 * 1024;

export interface TarMemberHeader {
  /** The type flag: '0' file, '1' hard link, '2' symlink, '5' directory, … */
  readonly type: string;
  readonly path: string;
  readonly linkpath: string;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export function verifyChecksum(header: Buffer): void {
  const stored = readNumber(header, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  if (sum !== stored) throw new TarFormatError(`a tar header's checksum does not match (stored ${stored}, computed ${sum}): the archive is damaged`);
}

export function readString(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** An octal number, or base-256 when the field's first byte has its high bit set (GNU, star). */
export function readNumber(header: Buffer, offset: number, length: number, what: string): number {
  const field = header.subarray(offset, offset + length);
  if ((field[0]! & 0x80) !== 0) {
    let value = BigInt(field[0]! & 0x7f);
    for (let i = 1; i < length; i++) value = (value << 8n) | BigInt(field[i]!);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError(`the ${what} field is too large`);
    return Number(value);
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`the ${what} field of a tar header is not an octal number: the archive is damaged or not a tar`);
  return parseInt(text, 8);
}

export function joinUstarName(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}/${name}`;
}

/** The type flag and size of a header whose checksum was verified (size before pax overrides). */
export function headerTypeAndSize(header: Buffer, overrides: TarOverrides): { type: string; size: number } {
  return { type: String.fromCharCode(header[156]!), size: overrides.size ?? readNumber(header, 124, 12, 'size') };
}

/** A member's header with the pending pax / GNU overrides applied. */
export function decodeMemberHeader(header: Buffer, overrides: TarOverrides): TarMemberHeader {
  const { type, size } = headerTypeAndSize(header, overrides);
  return {
    type,
    path: overrides.path ?? joinUstarName(readString(header, 345, 155), readString(header, 0, 100)),
    linkpath: overrides.linkpath ?? readString(header, 157, 100),
    size,
    mode: readNumber(header, 100, 8, 'mode'),
    uid: readNumber(header, 108, 8, 'uid'),
    gid: readNumber(header, 116, 8, 'gid'),
  };
}

/** Padding after a member's data up to the next 512-byte block. */
export function paddingAfter(size: number): number {
  return (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
}

/** Applies a meta header's body to the overrides for the next member. */
export function applyMetaHeader(overrides: TarOverrides, type: string, body: Buffer): void {
  if (type === 'L') overrides.path = body.toString('utf8').replace(/\0+$/, '');
  else if (type === 'K') overrides.linkpath = body.toString('utf8').replace(/\0+$/, '');
  else if (type === 'x') Object.assign(overrides, parsePaxRecords(body));
  // `g` (global pax headers) carry nothing these readers use.
}

/** pax records: "LENGTH KEY=VALUE\n", LENGTH counting the whole record in bytes. */
export function parsePaxRecords(body: Buffer): TarOverrides {
  const out: TarOverrides = {};
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number(body.subarray(offset, space).toString('latin1'));
    if (!Number.isSafeInteger(length) || length <= space - offset || offset + length > body.length) throw new TarFormatError('a pax extended header is malformed');
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === 'path') out.path = value;
    else if (key === 'linkpath') out.linkpath = value;
    else if (key === 'size') {
      if (!/^\d+$/.test(value)) throw new TarFormatError('a pax size is not a number');
      out.size = Number(value);
    }
    offset += length;
  }
  return out;
}
