import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { syncDirectory } from './sync-directory.js';

export interface AtomicWriteOptions {
  /** Runs after every byte is written and synced, before the file takes its name; throw to abandon it. */
  readonly beforeCommit?: () => void;
  readonly mode?: number;
  /**
   * fsync the file and its directory (default true). False only for files whose reader does
   * not need them to survive a crash — restore_command's %p: PostgreSQL reads it at once and
   * asks again after a crash. The rename still makes the file appear whole or not at all.
   */
  readonly sync?: boolean;
}

/**
 * Writes a file so that `destination` either does not exist or holds the complete, verified
 * bytes: a temporary file beside it (same directory, so the rename cannot cross file systems),
 * fsync, rename, fsync of the directory (restic's durable write). A failure at any point removes
 * the temporary file and leaves `destination` untouched. PostgreSQL's `restore_command` needs
 * exactly this: recovery must never read a half-written segment at `%p`.
 */
export async function writeFileAtomically(destination: string, write: (out: Writable) => Promise<void>, options: AtomicWriteOptions = {}): Promise<void> {
  const directory = dirname(destination);
  const temporary = join(directory, `.${basename(destination)}.${randomBytes(6).toString('hex')}.tmp`);
  let committed = false;
  try {
    // 'wx': a leftover of the same random name is never reused. `flush`: fsync before close,
    // and the stream is closed by the time the pipeline inside `write` resolves.
    const sync = options.sync ?? true;
    await write(createWriteStream(temporary, { flags: 'wx', mode: options.mode ?? 0o600, flush: sync }));
    options.beforeCommit?.();
    await rename(temporary, destination);
    committed = true;
    if (sync) await syncDirectory(directory);
  } finally {
    if (!committed) await unlink(temporary).catch(() => undefined);
  }
}
