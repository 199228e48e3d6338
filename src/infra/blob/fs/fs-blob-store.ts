import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, opendir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore, BlobWriteResult } from '../../../domain/ports.js';
import { syncDirectory } from '../../fs/sync-directory.js';

/** Bytes gathered before one write call: fewer syscalls and thread-pool round trips than per-socket-chunk writes. */
const WRITE_BATCH_BYTES = 1024 * 1024;
const BLOB_ID = /^[0-9a-f]{32}$/;

/**
 * Blobs as files under `<root>/<first two hex chars>/<id>`. Ids are random, never derived from
 * object keys, so no key can name a path: traversal is impossible by construction.
 *
 * Durable write (restic's recipe): exclusive create, write, fsync the file, close, fsync the
 * directory so the entry itself survives power loss. The blob is unreachable until its id is
 * committed to metadata; a crash mid-write leaves only an unreferenced file.
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string;
  readonly #knownDirs = new Set<string>();

  constructor(root: string) {
    this.#root = root;
  }

  async write(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<BlobWriteResult> {
    const blobId = randomBytes(16).toString('hex');
    const dir = await this.#ensureDir(blobId.slice(0, 2));
    const path = join(dir, blobId);
    const file = await open(path, 'wx', 0o640);
    let size = 0;
    try {
      let batch: Uint8Array[] = [];
      let batchBytes = 0;
      let inFlight: Promise<void> = Promise.resolve();
      const writeAll = async (chunks: Uint8Array[]) => {
        // writev may write fewer bytes than asked on some filesystems; loop until done.
        let buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        while (buffer.length > 0) {
          const { bytesWritten } = await file.write(buffer, 0, buffer.length, null);
          buffer = buffer.subarray(bytesWritten);
        }
      };
      for await (const chunk of source) {
        size += chunk.length;
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= WRITE_BATCH_BYTES) {
          await inFlight;
          const chunks = batch;
          batch = [];
          batchBytes = 0;
          // Keep one write in flight while the next batch arrives from the socket.
          inFlight = writeAll(chunks);
          inFlight.catch(() => undefined);
        }
      }
      await inFlight;
      if (batch.length > 0) await writeAll(batch);
      await file.sync();
    } catch (error) {
      await file.close().catch(() => undefined);
      await rm(path, { force: true });
      throw error;
    }
    await file.close();
    await syncDirectory(dir);
    return { blobId, size };
  }

  read(blobId: string, range?: { readonly start: number; readonly end: number }): Readable {
    return createReadStream(this.#path(blobId), {
      start: range?.start,
      end: range?.end,
      highWaterMark: 256 * 1024,
    });
  }

  async modifiedMs(blobId: string): Promise<number | undefined> {
    try {
      return (await stat(this.#path(blobId))).mtimeMs;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async protect(blobId: string): Promise<void> {
    await chmod(this.#path(blobId), 0o440);
  }

  async delete(blobId: string): Promise<void> {
    await rm(this.#path(blobId), { force: true });
  }

  async *list(): AsyncIterable<string> {
    let shards: string[];
    try {
      shards = await readdir(this.#root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const shard of shards) {
      for await (const entry of await opendir(join(this.#root, shard))) {
        if (BLOB_ID.test(entry.name)) yield entry.name;
      }
    }
  }

  #path(blobId: string): string {
    // Ids come from our own metadata, but a corrupted row must still never name another path.
    if (!BLOB_ID.test(blobId)) throw new Error(`invalid blob id ${JSON.stringify(blobId)}`);
    return join(this.#root, blobId.slice(0, 2), blobId);
  }

  async #ensureDir(shard: string): Promise<string> {
    const dir = join(this.#root, shard);
    if (!this.#knownDirs.has(shard)) {
      const created = await mkdir(dir, { recursive: true, mode: 0o750 });
      // A new shard directory's own entry must be durable too.
      if (created !== undefined) await syncDirectory(this.#root);
      this.#knownDirs.add(shard);
    }
    return dir;
  }
}
