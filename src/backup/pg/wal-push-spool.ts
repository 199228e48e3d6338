import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomically } from '../../infra/fs/write-file-atomically.js';
import { SpoolWorkerLock } from './spool-worker-lock.js';

/**
 * The spool of asynchronous archiving (`wal-push --async --spool DIR`): where the background
 * worker leaves one status file per WAL file it handled, and where `archive_command` looks for
 * it — pgBackRest's archive-push-queue design, which lets PostgreSQL's single archiver process
 * run one quick command per segment while the uploads happen in parallel ahead of it.
 *
 *   DIR/archive-push/NAME.ok      pushed and verified; holds the SHA-256 of the file pushed
 *   DIR/archive-push/NAME.error   the push failed; holds the message
 *   DIR/archive-push/worker.lock  the running worker's pid (O_EXCL; stale when the pid is gone)
 *   DIR/archive-push/worker.log   the worker's output
 *
 * A `.ok` counts only if its SHA-256 matches the file PostgreSQL is asking about now, so a
 * status left by another cluster or an earlier life of this one can never acknowledge different
 * bytes. Status files are written atomically (temporary file, fsync, rename).
 */

export type PushStatus = { readonly kind: 'ok'; readonly sha256: string } | { readonly kind: 'error'; readonly message: string } | { readonly kind: 'none' };

export class WalPushSpool {
  readonly directory: string;

  constructor(spoolDirectory: string) {
    this.directory = join(spoolDirectory, 'archive-push');
    this.lock = new SpoolWorkerLock(join(this.directory, 'worker.lock'));
  }

  readonly lock: SpoolWorkerLock;

  get logPath(): string {
    return join(this.directory, 'worker.log');
  }

  async ensure(): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
  }

  async status(name: string): Promise<PushStatus> {
    const ok = await readFile(join(this.directory, `${name}.ok`), 'utf8').catch(missingAsUndefined);
    if (ok !== undefined) return { kind: 'ok', sha256: ok.trim() };
    const error = await readFile(join(this.directory, `${name}.error`), 'utf8').catch(missingAsUndefined);
    if (error !== undefined) return { kind: 'error', message: error.trim() };
    return { kind: 'none' };
  }

  async markOk(name: string, sha256: string): Promise<void> {
    await this.#write(`${name}.ok`, `${sha256}\n`);
    await unlink(join(this.directory, `${name}.error`)).catch(() => undefined);
  }

  async markError(name: string, message: string): Promise<void> {
    await this.#write(`${name}.error`, `${message}\n`);
  }

  /** Removes a status (an `.error` once reported to PostgreSQL, which will call again). */
  async clear(name: string, kind: 'ok' | 'error'): Promise<void> {
    await unlink(join(this.directory, `${name}.${kind}`)).catch(() => undefined);
  }

  /** Names with any status file. */
  async statusNames(): Promise<{ readonly ok: ReadonlySet<string>; readonly error: ReadonlySet<string> }> {
    const ok = new Set<string>();
    const error = new Set<string>();
    for (const entry of await readdir(this.directory).catch(() => [] as string[])) {
      if (entry.endsWith('.ok')) ok.add(entry.slice(0, -3));
      else if (entry.endsWith('.error')) error.add(entry.slice(0, -6));
    }
    return { ok, error };
  }

  async #write(file: string, text: string): Promise<void> {
    await writeFileAtomically(join(this.directory, file), (out) => pipeline(Readable.from([Buffer.from(text, 'utf8')]), out));
  }
}

export async function sha256OfFile(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

function missingAsUndefined(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw error;
}
