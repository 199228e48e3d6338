import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { systemClock, type Clock } from '../../infra/clock.js';
import { walObjectKey } from './wal-archive-layout.js';
import { WalConflictError, WalFileNameError, WalIntegrityError } from './wal-archive-errors.js';
import type { StoredWalObject, WalArchiveStore } from './wal-archive-store.js';
import { DEFAULT_GZIP_LEVEL, encodeWal } from './wal-compression.js';
import { parseWalFileName } from './wal-file-name.js';
import { readWalObjectMetadata, walAssociatedData, type WalCompression, walObjectMetadata } from './wal-object-metadata.js';
import { readWalSegmentHeader } from './wal-segment-header.js';
import { contentDigest, type RepositoryKey } from './repository-key.js';

export interface WalPushResult {
  /** `archived`: stored now. `already-archived`: an identical copy was there (a retried push). */
  readonly outcome: 'archived' | 'already-archived';
  readonly name: string;
  readonly key: string;
  /** Bytes of the file. */
  readonly size: number;
  /** Bytes stored (after compression) — of the copy already there, for `already-archived`. */
  readonly storedSize: number;
  readonly sha256: string;
  readonly compression: WalCompression;
  /** The object's retention as the store reports it; undefined means the object is not locked. */
  readonly retainUntilMs: number | undefined;
  readonly durationMs: number;
}

export interface WalArchiverOptions {
  readonly gzipLevel?: number;
  readonly clock?: Clock;
  /** Seal every object with this key (client-side AES-256-GCM); see repository-key.ts. */
  readonly encryption?: RepositoryKey | undefined;
}

/**
 * `archive_command`'s side of continuous archiving: one WAL file into the repository, under a key
 * derived from its name (`walObjectKey`), never overwriting.
 *
 * PostgreSQL's contract (PostgreSQL 15 docs, 26.3.1 "Setting Up WAL Archiving"): the command
 * "should return zero exit status only if it succeeds", it must refuse to overwrite a
 * pre-existing archive file, and it may be called again for a file it already archived (after a
 * crash between the upload and PostgreSQL recording it). So `push` resolves only once the object
 * is stored and read back with the right checksum; when the key exists it succeeds only if the
 * archived file is byte-identical (same SHA-256 of the original), and otherwise throws
 * `WalConflictError`.
 *
 * Each push is independent of every other, so pushing several files at once (asynchronous
 * archiving ahead of PostgreSQL, as pgBackRest does) is a matter of calling `push` concurrently.
 */
export class WalArchiver {
  readonly #gzipLevel: number;
  readonly #clock: Clock;
  readonly #encryption: RepositoryKey | undefined;

  constructor(
    readonly store: WalArchiveStore,
    /** The repository prefix (`--repo s3://bucket/PREFIX`). */
    readonly prefix: string,
    options: WalArchiverOptions = {},
  ) {
    this.#gzipLevel = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
    this.#clock = options.clock ?? systemClock;
    this.#encryption = options.encryption;
  }

  async push(path: string): Promise<WalPushResult> {
    const started = this.#clock.nowMs();
    const name = basename(path);
    const file = parseWalFileName(name);
    if (file === undefined) throw new WalFileNameError(name);
    // PostgreSQL calls archive_command only for complete files, and a segment is at most
    // wal_segment_size (16 MiB by default, 1 GiB at most), so the file is read whole.
    const bytes = await readFile(path);
    const sha256 = contentDigest(this.#encryption).update(bytes).digest('hex');
    const systemIdentifier = file.kind === 'segment' || file.kind === 'partial' ? readWalSegmentHeader(bytes)?.systemIdentifier : undefined;
    const compressed = await encodeWal(bytes, this.#gzipLevel);
    const encoded = this.#encryption === undefined ? compressed : { ...compressed, body: this.#encryption.seal(compressed.body, walAssociatedData(name)) };
    const key = walObjectKey(this.prefix, file);
    const metadata = walObjectMetadata({ sha256, size: bytes.length, compression: encoded.compression, systemIdentifier, encryptionKeyId: this.#encryption?.keyId });
    const contentType = this.#encryption !== undefined ? 'application/octet-stream' : encoded.compression === 'gzip' ? 'application/gzip' : 'application/octet-stream';

    const created = await this.store.createObject(key, encoded.body, metadata, contentType);
    const stored = await this.store.headObject(key);
    if (stored === undefined) {
      throw new WalIntegrityError(`${name} was ${created === 'created' ? 'uploaded' : 'reported as present'} but ${this.store.description} does not return ${key}; it is not archived.`);
    }
    const archived = readWalObjectMetadata(stored.metadata);
    if (created === 'exists') {
      if (archived !== undefined && archived.encryptionKeyId !== this.#encryption?.keyId) {
        throw new WalConflictError(name, this.store.description, archived?.sha256, sha256, archived?.systemIdentifier, systemIdentifier, archived?.encryptionKeyId ?? 'none', this.#encryption?.keyId ?? 'none');
      }
      if (archived?.sha256 !== sha256 || archived.size !== bytes.length) {
        throw new WalConflictError(name, this.store.description, archived?.sha256, sha256, archived?.systemIdentifier, systemIdentifier);
      }
    } else {
      this.#verifyUpload(name, stored, encoded.body, sha256, archived?.sha256);
    }
    return Object.freeze({
      outcome: created === 'created' ? 'archived' : 'already-archived',
      name,
      key,
      size: bytes.length,
      storedSize: stored.storedSize,
      sha256,
      compression: archived?.compression ?? encoded.compression,
      retainUntilMs: stored.lock?.retainUntilMs,
      durationMs: this.#clock.nowMs() - started,
    });
  }

  /** The object just written reads back as exactly what was sent. */
  #verifyUpload(name: string, stored: StoredWalObject, body: Uint8Array, sha256: string, archivedSha256: string | undefined): void {
    const bodySha256 = createHash('sha256').update(body).digest('base64');
    const problems: string[] = [];
    if (stored.storedSize !== body.length) problems.push(`size ${stored.storedSize}, sent ${body.length}`);
    if (stored.storedSha256 !== undefined && stored.storedSha256 !== bodySha256) problems.push(`stored checksum ${stored.storedSha256}, sent ${bodySha256}`);
    if (archivedSha256 !== sha256) problems.push('the metadata written with it did not come back');
    if (problems.length > 0) {
      throw new WalIntegrityError(`${name} did not verify after upload to ${this.store.description} (${problems.join('; ')}); it is not archived.`);
    }
  }
}
