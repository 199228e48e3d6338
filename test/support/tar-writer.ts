/**
 * A small tar writer for tests (POSIX.1-2001: ustar headers, a pax `x` header before members
 * whose path or link target does not fit the ustar fields), so tests build the image layers and
 * `docker save` tarballs they read without a `tar` binary or a Docker engine.
 */
export interface TarInput {
  readonly path: string;
  /** 'file' by default. */
  readonly type?: 'file' | 'directory' | 'symlink' | 'hardlink';
  readonly content?: Buffer | string;
  /** Default 0o644 for files, 0o755 for directories, 0o777 for links. */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly linkpath?: string;
}

const TYPE_FLAG = { file: '0', hardlink: '1', symlink: '2', directory: '5' } as const;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, type: string, size: number, mode: number, uid: number, gid: number, linkpath: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(mode, 8), 100, 'latin1');
  block.write(octal(uid, 8), 108, 'latin1');
  block.write(octal(gid, 8), 116, 'latin1');
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(1_700_000_000, 12), 136, 'latin1');
  block.write(type, 156, 'latin1');
  block.write(linkpath, 157, 100, 'utf8');
  block.write('ustar\0' + '00', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

function padded(body: Buffer): Buffer[] {
  return [body, Buffer.alloc((512 - (body.length % 512)) % 512)];
}

/** A pax record "LENGTH key=value\n", LENGTH counting itself. */
function paxRecord(key: string, value: string): string {
  const tail = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(tail) + 1;
  while (String(length).length + Buffer.byteLength(tail) !== length) length++;
  return `${length}${tail}`;
}

export function buildTar(inputs: readonly TarInput[], options: { endMarker?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const input of inputs) {
    const type = input.type ?? 'file';
    const body = type === 'file' ? Buffer.from(input.content ?? '') : Buffer.alloc(0);
    const mode = input.mode ?? (type === 'file' ? 0o644 : type === 'directory' ? 0o755 : 0o777);
    const linkpath = input.linkpath ?? '';
    let name = type === 'directory' && !input.path.endsWith('/') ? `${input.path}/` : input.path;
    const records: string[] = [];
    if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', name));
    if (Buffer.byteLength(linkpath) > 100) records.push(paxRecord('linkpath', linkpath));
    if (records.length > 0) {
      const pax = Buffer.from(records.join(''));
      parts.push(header(`PaxHeaders/${name.slice(0, 80)}`, 'x', pax.length, 0o644, 0, 0, ''), ...padded(pax));
      name = name.slice(0, 100);
    }
    parts.push(header(name, TYPE_FLAG[type], body.length, mode, input.uid ?? 0, input.gid ?? 0, linkpath.slice(0, 100)), ...padded(body));
  }
  if (options.endMarker !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
