import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomically } from '../../infra/fs/write-file-atomically.js';
import { SpoolWorkerLock } from './spool-worker-lock.js';

/**
 * The local spool of `wal-fetch --prefetch N --spool DIR`, as pgBackRest's archive-get queue:
 *
 *   DIR/archive-get/REPO/NAME          a verified segment, ready to be handed over
 *   DIR/archive-get/REPO/.NAME.*.tmp   a segment the worker is downloading right now
 *   DIR/archive-get/REPO/position      the segment recovery asked for last, when the spool missed it
 *   DIR/archive-get/REPO/NAME.absent   NAME was not in the archive when the worker last asked (mtime)
 *   DIR/archive-get/REPO/worker.lock   the running worker
 *
 * REPO is a digest of endpoint and repository: a spool reused for another archive never hands
 * over another archive's segment (the same name there would be different bytes).
 *
 * This module is on the path of every restore_command call, so it imports nothing but node's
 * file system and a hash: a segment already in the spool is handed over without loading an S3
 * client (see cli/pg-wal-fetch-command.ts).
 */
/**
 * How long the worker's "not in the archive" answer stands in for asking the archive. Recovery
 * asks for such files routinely: the next timeline's history file (at the start, and at
 * promotion, to choose the new timeline) and the segment past the end of the archive. An answer
 * at most this old is what PostgreSQL would have got by asking a few seconds earlier — the
 * archive can gain a file right after any answer — and spares a process that loads an S3 client
 * and opens a TLS connection for one request. The worker asks again every second.
 */
export const ABSENT_FRESH_MS = 5_000;

export class WalPrefetchSpool {
  readonly directory: string;
  readonly lock: SpoolWorkerLock;

  constructor(spoolDirectory: string, endpoint: string, repository: string) {
    const repoKey = createHash('sha256').update(`${endpoint}\n${repository}`).digest('hex').slice(0, 16);
    this.directory = join(spoolDirectory, 'archive-get', repoKey);
    this.lock = new SpoolWorkerLock(join(this.directory, 'worker.lock'));
  }

  async ensure(): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
  }

  pathOf(name: string): string {
    return join(this.directory, name);
  }

  /**
   * Moves a prefetched `name` to `destination`; the size of what was handed over, or undefined
   * when the spool does not have it (also when the worker removed it just now). A rename where
   * possible; across file systems a copy through a temporary file, then the spool copy goes.
   *
   * Neither the file nor the directory is fsynced after the rename: PostgreSQL reads the file at
   * once and asks again after a crash (pgBackRest's archive-get writes %p without a sync too). The
   * spool copy itself was fsynced when the worker stored it, so what is renamed is whole.
   */
  async take(name: string, destination: string): Promise<number | undefined> {
    const source = this.pathOf(name);
    const size = await stat(source).then(
      (stats) => stats.size,
      (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      },
    );
    if (size === undefined) return undefined;
    try {
      await rename(source, destination);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // The worker removed it between the two calls (recovery moved past it, or it went idle).
      if (code === 'ENOENT') return undefined;
      if (code !== 'EXDEV') throw error;
      await writeFileAtomically(destination, (out) => pipeline(createReadStream(source), out), { sync: false });
      await unlink(source);
    }
    return size;
  }

  /** Whether the worker is downloading `name` now (its temporary file exists). */
  async isDownloading(name: string): Promise<boolean> {
    const prefix = `.${name}.`;
    return (await this.entries()).some((entry) => entry.startsWith(prefix) && entry.endsWith('.tmp'));
  }

  async entries(): Promise<string[]> {
    return readdir(this.directory).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    });
  }

  /**
   * Tells a running worker where recovery is when the spool could not serve it — after a
   * timeline switch, or when recovery overtook the worker — so it fetches ahead of that segment
   * instead. Written whole (temporary file, rename): the worker never reads half a name.
   */
  async recordPosition(name: string): Promise<void> {
    const temporary = join(this.directory, `.position.${process.pid}.tmp`);
    await writeFile(temporary, `${name}\n`, { mode: 0o600 });
    await rename(temporary, join(this.directory, 'position'));
  }

  async readPosition(): Promise<string | undefined> {
    const text = await readFile(join(this.directory, 'position'), 'utf8').catch(() => undefined);
    const name = text?.trim();
    return name !== undefined && /^[0-9A-F]{24}$/.test(name) ? name : undefined;
  }

  /** Records that `name` is not in the archive, as of now. */
  async markAbsent(name: string): Promise<void> {
    const path = this.pathOf(`${name}.absent`);
    const now = new Date();
    await utimes(path, now, now).catch(() => writeFile(path, '', { mode: 0o600 }));
  }

  async clearAbsent(name: string): Promise<void> {
    await this.remove(`${name}.absent`);
  }

  /** Whether the worker found `name` missing from the archive within the last ABSENT_FRESH_MS. */
  async isKnownAbsent(name: string, nowMs: number): Promise<boolean> {
    const stats = await stat(this.pathOf(`${name}.absent`)).catch(() => undefined);
    return stats !== undefined && stats.mtimeMs <= nowMs + 1_000 && nowMs - stats.mtimeMs <= ABSENT_FRESH_MS;
  }

  async remove(entry: string): Promise<void> {
    await unlink(this.pathOf(entry)).catch(() => undefined);
  }
}
