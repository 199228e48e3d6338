import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { systemClock, type Clock } from '../../infra/clock.js';
import { walObjectKey } from './wal-archive-layout.js';
import { WalFileNameError, WalIntegrityError } from './wal-archive-errors.js';
import type { WalArchiveStore } from './wal-archive-store.js';
import { walDecoder } from './wal-compression.js';
import { checkKeyFor, contentDigest, type RepositoryKey } from './repository-key.js';
import { parseWalFileName } from './wal-file-name.js';
import { readWalObjectMetadata, walAssociatedData } from './wal-object-metadata.js';
import { DigestingStream } from '../../infra/streams/digesting-stream.js';
import { writeFileAtomically } from '../../infra/fs/write-file-atomically.js';

export type WalFetchResult =
  | {
      readonly outcome: 'restored';
      readonly name: string;
      readonly key: string;
      readonly size: number;
      readonly sha256: string;
      readonly durationMs: number;
      /** Versions someone wrote over the archived (first) one; it is what was restored. */
      readonly laterVersions?: number;
    }
  | { readonly outcome: 'missing'; readonly name: string; readonly key: string; readonly durationMs: number };

export interface WalFetcherOptions {
  /** Downloads tried in all when one fails on the way (network, 5xx). Default 3. */
  readonly attempts?: number;
  readonly clock?: Clock;
  /** The repository key, for encrypted objects (see repository-key.ts). */
  readonly encryption?: RepositoryKey | undefined;
}

/**
 * `restore_command`'s side: one archived WAL file back to the path PostgreSQL names. "missing"
 * is an ordinary answer — recovery asks for files past the end of the archive and for timeline
 * history files that may not exist (PostgreSQL 15 docs, 26.3.4 "Recovering Using a Continuous
 * Archive Backup") — and is told apart from failures, which throw.
 *
 * The bytes are checked twice: the stored object against its stored SHA-256 as it streams, and
 * the decoded file against the SHA-256 and size of the original recorded when it was pushed. The
 * file appears at the destination only after both match (`writeFileAtomically`).
 *
 * Fetching ahead (prefetch of the next segments into a local spool) builds on `fetch`: same
 * key, same checks, a different destination.
 */
export class WalFetcher {
  readonly #attempts: number;
  readonly #clock: Clock;
  readonly #encryption: RepositoryKey | undefined;

  constructor(
    readonly store: WalArchiveStore,
    readonly prefix: string,
    options: WalFetcherOptions = {},
  ) {
    this.#attempts = options.attempts ?? 3;
    this.#clock = options.clock ?? systemClock;
    this.#encryption = options.encryption;
  }

  /**
   * `sync: false` skips the fsyncs for a destination that need not survive a crash: restore_command's
   * %p, which PostgreSQL reads at once and asks for again after a crash (pgBackRest's archive-get
   * does not sync it either). A prefetch spool keeps the default: it hands files over later.
   */
  async fetch(name: string, destination: string, options: { readonly sync?: boolean } = {}): Promise<WalFetchResult> {
    const started = this.#clock.nowMs();
    const file = parseWalFileName(name);
    if (file === undefined) throw new WalFileNameError(name);
    const key = walObjectKey(this.prefix, file);
    for (let attempt = 1; ; attempt++) {
      try {
        const restored = await this.#download(name, key, destination, options.sync ?? true);
        const durationMs = this.#clock.nowMs() - started;
        return restored === undefined ? { outcome: 'missing', name, key, durationMs } : { outcome: 'restored', name, key, ...restored, durationMs };
      } catch (error) {
        if (attempt >= this.#attempts || !this.store.isTransientFailure(error)) throw error;
      }
    }
  }

  async #download(name: string, key: string, destination: string, sync: boolean): Promise<{ size: number; sha256: string; laterVersions?: number } | undefined> {
    const read = await this.store.readObject(key);
    if (read === undefined) return undefined;
    const description = readWalObjectMetadata(read.object.metadata);
    if (description === undefined) {
      read.body.destroy();
      throw new WalIntegrityError(`${key} in ${this.store.description} has no holdfast WAL metadata (size, SHA-256, compression); it was not written by holdfast pg wal-push and is not restored.`);
    }
    let source: Readable = read.body;
    let repositoryKey: RepositoryKey | undefined;
    if (description.encryptionKeyId !== undefined) {
      try {
        repositoryKey = checkKeyFor(`${name} in ${this.store.description}`, description.encryptionKeyId, this.#encryption);
      } catch (error) {
        read.body.destroy();
        throw error;
      }
      // Sealed objects are opened whole: GCM authenticates the object only at its end, and
      // nothing unauthenticated may reach the destination. A segment is at most 1 GiB.
      const chunks: Buffer[] = [];
      for await (const chunk of read.body as AsyncIterable<Buffer>) chunks.push(chunk);
      source = Readable.from([repositoryKey.open(Buffer.concat(chunks), walAssociatedData(name), `${name} in ${this.store.description}`)]);
    }
    const digest = new DigestingStream(contentDigest(repositoryKey));
    const decoder = walDecoder(description.compression);
    await writeFileAtomically(
      destination,
      (out) => (decoder === undefined ? pipeline(source, digest, out) : pipeline(source, decoder, digest, out)),
      {
        sync,
        beforeCommit: () => {
          const sha256 = digest.sha256();
          if (digest.size !== description.size || sha256 !== description.sha256) {
            throw new WalIntegrityError(
              `${name} from ${this.store.description} does not match what was archived: ` +
                `expected ${description.size} bytes with sha256 ${description.sha256}, got ${digest.size} bytes with sha256 ${sha256}. Nothing was written to ${destination}.`,
            );
          }
        },
      },
    );
    return { size: digest.size, sha256: description.sha256, ...(read.laterVersions > 0 ? { laterVersions: read.laterVersions } : {}) };
  }
}

/** Passes bytes through, counting them and computing their SHA-256. */
