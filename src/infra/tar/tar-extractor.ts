import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, mkdir, open, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { Writable } from 'node:stream';
import { syncDirectory } from '../fs/sync-directory.js';
import { applyMetaHeader, decodeMemberHeader, headerTypeAndSize, isMetaType, MAX_META_BYTES, paddingAfter, TAR_BLOCK, TarFormatError, type TarOverrides, verifyChecksum } from './tar-header.js';

/**
 * A streaming tar reader that writes the members into an empty directory: what a restore needs
 * from a `pg_basebackup -F tar` stream, without a `tar` binary and without trusting the archive.
 *
 * Formats read (POSIX.1-2001 "pax" and the ustar/GNU forms before it, as GNU tar documents them):
 * ustar headers with the 155-byte prefix, base-256 numbers for sizes over 8 GiB (what
 * PostgreSQL's src/port/tar.c writes), pax extended headers (`x`: path, linkpath, size) and GNU
 * long names (`L`, `K`). Member types: regular files (`0`, `\0`, `7`), directories (`5`) and
 * symbolic links (`2`, for pg_tblspc). Anything else (devices, FIFOs, hard links) is refused.
 *
 * Safety: a member path that is absolute, climbs out with `..`, or goes through a symbolic link
 * the archive created is refused before anything is written for it; files are created with
 * O_EXCL (no member may replace another); every header's checksum is verified. Each file is
 * fsynced before it is closed and every directory at the end, so "extracted" means durable.
 */

export { TarFormatError } from './tar-header.js';

export interface TarExtractOptions {
  /** Mode bits kept from the archive (default 0o750: PostgreSQL allows group read, never other). */
  readonly modeMask?: number;
  /** fsync files and directories (default true). */
  readonly sync?: boolean;
  /**
   * Compute each regular file's SHA-256 as it is written (`fileDigests()`): a restore checks them
   * against the archive's own manifest without reading the files back.
   */
  readonly digestFiles?: boolean;
}

/** A regular file as it was written: its size and the hex SHA-256 of its contents. */
export interface TarFileDigest {
  readonly size: number;
  readonly sha256: string;
}

export interface TarExtractSummary {
  readonly files: number;
  readonly directories: number;
  readonly symlinks: number;
  /** Bytes of file contents written. */
  readonly bytes: number;
}

interface FileDigestInProgress {
  /** The member's path inside the archive, without `./` or a trailing `/`. */
  readonly path: string;
  readonly size: number;
  readonly hash: Hash;
}

const BLOCK = TAR_BLOCK;
/** File fsyncs in flight at once while extracting. */
const MAX_PENDING_SYNCS = 16;
/**
 * A file being written starts a background fdatasync every this many bytes. Linux begins
 * writeback only at dirty_background_ratio (10 % of RAM), so without this a 1 GiB relation file
 * sat in the page cache until its fsync at close and the restore then waited seconds for the
 * disk; with it the disk writes while the next parts download and inflate.
 */
const WRITEBACK_BYTES = 32 * 1024 * 1024;

type State =
  | { readonly kind: 'header' }
  | {
      readonly kind: 'file';
      readonly handle: FileHandle;
      remaining: number;
      padding: number;
      readonly digest: FileDigestInProgress | undefined;
      /** Bytes written since the last background writeback began. */
      unsynced: number;
      /** A background fdatasync of this file in flight (at most one). */
      writeback: Promise<void> | undefined;
    }
  | { readonly kind: 'skip'; remaining: number; padding: number; readonly collect: Buffer[] | undefined; readonly type: string }
  | { readonly kind: 'end' };

export class TarExtractor extends Writable {
  readonly #root: string;
  readonly #modeMask: number;
  readonly #sync: boolean;
  #buffer: Buffer = Buffer.alloc(0);
  #state: State = { kind: 'header' };
  #overrides: TarOverrides = {};
  #zeroBlocks = 0;
  readonly #directories = new Set<string>();
  readonly #symlinks = new Set<string>();
  readonly #pendingSyncs = new Set<Promise<void>>();
  #syncError: Error | undefined;
  #files = 0;
  #symlinkCount = 0;
  #bytes = 0;
  readonly #digestFiles: boolean;
  readonly #digests = new Map<string, TarFileDigest>();

  /** `root` must exist and be empty; the caller checks that (and creates it with the right mode). */
  constructor(root: string, options: TarExtractOptions = {}) {
    super();
    this.#root = normalize(root);
    this.#modeMask = options.modeMask ?? 0o750;
    this.#sync = options.sync ?? true;
    this.#digestFiles = options.digestFiles ?? false;
    this.#directories.add(this.#root);
  }

  #streamBytes = 0;
  /** The `#drain` of the write in progress, settled (never rejects). */
  #draining: Promise<unknown> = Promise.resolve();

  summary(): TarExtractSummary {
    return { files: this.#files, directories: this.#directories.size - 1, symlinks: this.#symlinkCount, bytes: this.#bytes };
  }

  /** Each regular file's size and SHA-256 by member path (`./` and trailing `/` removed); empty unless `digestFiles`. */
  fileDigests(): ReadonlyMap<string, TarFileDigest> {
    return this.#digests;
  }

  /** Bytes of the tar stream received so far. */
  get streamBytes(): number {
    return this.#streamBytes;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#streamBytes += chunk.length;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const drained = this.#drain();
    this.#draining = drained.catch(() => undefined);
    drained.then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finish().then(() => callback(), callback);
  }

  /**
   * Waits for the write in progress (it stops at its next step) and every background sync
   * before closing: whoever destroyed the stream may remove what was extracted as soon as it is
   * closed, and no file may be created after that (a large chunk holds many members).
   */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#draining
      .then(() => {
        const state = this.#state;
        this.#state = { kind: 'end' };
        const closing = state.kind === 'file' ? [(state.writeback ?? Promise.resolve()).catch(() => undefined).then(() => state.handle.close())] : [];
        return Promise.allSettled([...this.#pendingSyncs, ...closing]);
      })
      .then(() => callback(error), () => callback(error));
  }

  /**
   * fsync and close a finished file while the next ones are written: a data directory is
   * thousands of files, and one fsync at a time made the restore wait on the disk per file. At
   * most `MAX_PENDING_SYNCS` are in flight; every one has completed before the extraction ends.
   */
  async #syncInBackground(handle: FileHandle, writeback: Promise<void> | undefined): Promise<void> {
    // The file's last background writeback, if still running, finishes before the fsync and the close.
    const done = (writeback ?? Promise.resolve()).then(() => handle.sync()).finally(() => handle.close());
    const tracked: Promise<void> = done.then(
      () => {
        this.#pendingSyncs.delete(tracked);
      },
      (error: unknown) => {
        this.#pendingSyncs.delete(tracked);
        this.#syncError ??= error as Error;
      },
    );
    this.#pendingSyncs.add(tracked);
    if (this.#pendingSyncs.size >= MAX_PENDING_SYNCS) await Promise.race(this.#pendingSyncs);
    if (this.#syncError !== undefined) throw this.#syncError;
  }

  /** Starts an fdatasync of the file being written, not waited for; its failure fails the extraction. */
  #startWriteback(state: Extract<State, { kind: 'file' }>): void {
    state.unsynced = 0;
    const started: Promise<void> = state.handle.datasync().then(
      () => {
        if (state.writeback === started) state.writeback = undefined;
      },
      (error: unknown) => {
        this.#syncError ??= error as Error;
        if (state.writeback === started) state.writeback = undefined;
      },
    );
    state.writeback = started;
  }

  async #finish(): Promise<void> {
    if (this.#state.kind === 'file' || this.#state.kind === 'skip') throw new TarFormatError('the archive ends in the middle of a member: it is truncated');
    if (this.#state.kind !== 'end') throw new TarFormatError('the archive has no end-of-archive marker (two zero blocks): it is truncated');
    await Promise.all(this.#pendingSyncs);
    if (this.#syncError !== undefined) throw this.#syncError;
    if (this.#sync) {
      // Deepest first, so that each directory is synced after the entries inside it.
      for (const dir of [...this.#directories].sort((a, b) => b.length - a.length)) await syncDirectory(dir);
    }
  }

  async #drain(): Promise<void> {
    for (;;) {
      if (this.destroyed) return;
      const state = this.#state;
      if (state.kind === 'end') {
        // Anything after the end marker is padding to the record size; it must be zeros.
        if (this.#buffer.some((byte) => byte !== 0)) throw new TarFormatError('data after the end-of-archive marker');
        this.#buffer = Buffer.alloc(0);
        return;
      }
      if (state.kind === 'file' || state.kind === 'skip') {
        if (state.remaining > 0) {
          if (this.#buffer.length === 0) return;
          const take = Math.min(state.remaining, this.#buffer.length);
          const piece = this.#buffer.subarray(0, take);
          this.#buffer = this.#buffer.subarray(take);
          state.remaining -= take;
          if (state.kind === 'file') {
            state.digest?.hash.update(piece);
            await writeAll(state.handle, piece);
            this.#bytes += take;
            state.unsynced += take;
            if (this.#sync && state.unsynced >= WRITEBACK_BYTES && state.writeback === undefined) this.#startWriteback(state);
          } else {
            state.collect?.push(Buffer.from(piece));
          }
          continue;
        }
        if (this.#buffer.length < state.padding) return;
        this.#buffer = this.#buffer.subarray(state.padding);
        this.#state = { kind: 'header' };
        if (state.kind === 'file') {
          if (state.digest !== undefined) this.#digests.set(state.digest.path, { size: state.digest.size, sha256: state.digest.hash.digest('hex') });
          if (this.#sync) await this.#syncInBackground(state.handle, state.writeback);
          else await state.handle.close();
        } else if (state.collect !== undefined) {
          applyMetaHeader(this.#overrides, state.type, Buffer.concat(state.collect));
        }
        continue;
      }
      if (this.#buffer.length < BLOCK) return;
      const header = this.#buffer.subarray(0, BLOCK);
      this.#buffer = this.#buffer.subarray(BLOCK);
      if (header.every((byte) => byte === 0)) {
        this.#zeroBlocks += 1;
        if (this.#zeroBlocks === 2) this.#state = { kind: 'end' };
        continue;
      }
      if (this.#zeroBlocks > 0) throw new TarFormatError('a zero block in the middle of the archive');
      await this.#startMember(header);
    }
  }

  async #startMember(header: Buffer): Promise<void> {
    verifyChecksum(header);
    const overrides = this.#overrides;
    const { type, size } = headerTypeAndSize(header, overrides);
    const padding = paddingAfter(size);
    if (isMetaType(type)) {
      if (size > MAX_META_BYTES) throw new TarFormatError(`a ${type} header of ${size} bytes is larger than any path needs`);
      // `g` (global pax headers) carry nothing a restore uses; read and drop.
      this.#state = { kind: 'skip', remaining: size, padding, collect: type === 'g' ? undefined : [], type };
      return;
    }
    this.#overrides = {};
    const member = decodeMemberHeader(header, overrides);
    const name = member.path;
    const target = this.#resolveMember(name);
    const mode = member.mode & this.#modeMask;
    if (type === '5') {
      await this.#makeDirectory(target, mode | 0o700);
      this.#state = { kind: 'skip', remaining: size, padding, collect: undefined, type };
      return;
    }
    await this.#makeDirectory(dirname(target), 0o700);
    if (type === '2') {
      const linkTarget = member.linkpath;
      if (linkTarget === '') throw new TarFormatError(`the symbolic link ${name} has no target`);
      await symlink(linkTarget, target);
      this.#symlinks.add(target);
      this.#symlinkCount += 1;
      this.#state = { kind: 'skip', remaining: size, padding, collect: undefined, type };
      return;
    }
    if (type !== '0' && type !== '\0' && type !== '7') throw new TarFormatError(`${name} is a tar member of type "${type}", which a data directory never holds`);
    // 'wx': O_CREAT | O_EXCL — a second member with the same path is an error, not a replacement.
    const handle = await open(target, 'wx', mode | 0o600);
    this.#files += 1;
    const digest = this.#digestFiles ? { path: memberPath(name), size, hash: createHash('sha256') } : undefined;
    this.#state = { kind: 'file', handle, remaining: size, padding, digest, unsynced: 0, writeback: undefined };
  }

  /** The absolute path of a member, refused if it would land outside the root or under a symlink. */
  #resolveMember(name: string): string {
    const cleaned = memberPath(name);
    if (cleaned === '' || cleaned === '.') return this.#root;
    if (isAbsolute(cleaned) || cleaned.split('/').includes('..') || cleaned.includes('\0')) {
      throw new TarFormatError(`the member "${name}" would be written outside the target directory`);
    }
    const target = normalize(join(this.#root, cleaned));
    if (!target.startsWith(this.#root + sep)) throw new TarFormatError(`the member "${name}" would be written outside the target directory`);
    for (let dir = dirname(target); dir.length > this.#root.length; dir = dirname(dir)) {
      if (this.#symlinks.has(dir)) throw new TarFormatError(`the member "${name}" goes through a symbolic link the archive created`);
    }
    return target;
  }

  async #makeDirectory(path: string, mode: number): Promise<void> {
    if (this.#directories.has(path)) return;
    await mkdir(path, { recursive: true, mode });
    for (let dir = path; dir.length > this.#root.length && !this.#directories.has(dir); dir = dirname(dir)) this.#directories.add(dir);
  }
}

/** A member's name as a relative path: without a leading `./` or trailing `/`. */
function memberPath(name: string): string {
  return name.replace(/^\.\//, '').replace(/\/+$/, '');
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}
