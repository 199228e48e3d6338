import type { Readable } from 'node:stream';
import type { Clock } from '../../infra/clock.js';
import type { ObjectHead } from '../../infra/s3-client/object-head.js';
import type { ObjectLockRequest, S3Client } from '../../infra/s3-client/s3-client.js';
import { isAlreadyExists, isNoSuchKey, isRetryable } from '../../infra/s3-client/s3-client-errors.js';
import { type BackupRepositoryLocation, formatRepositoryLocation } from './backup-repository.js';
import type { StoredWalObject, WalArchiveStore } from './wal-archive-store.js';
import { readWriteOnceObject } from './write-once-object.js';

/**
 * Explicit retention for every object written, in addition to (and overriding) the bucket's
 * default: `retainDays` from the moment of the write.
 */
export interface WalRetention {
  readonly mode: 'COMPLIANCE' | 'GOVERNANCE';
  readonly retainDays: number;
  readonly clock: Clock;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * The WAL archive in an S3 bucket: create-only PUTs (`If-None-Match: *`), each carrying its
 * SHA-256 (signed payload hash and `x-amz-checksum-sha256`, both verified by the server), reads
 * verified against the stored checksum. S3 error codes are translated here and nowhere else.
 */
export class S3WalArchiveStore implements WalArchiveStore {
  readonly description: string;

  constructor(
    readonly client: S3Client,
    readonly location: BackupRepositoryLocation,
    readonly retention?: WalRetention,
  ) {
    this.description = formatRepositoryLocation(location);
  }

  async createObject(key: string, body: Uint8Array, metadata: Readonly<Record<string, string>>, contentType: string): Promise<'created' | 'exists'> {
    try {
      await this.client.putObject({
        bucket: this.location.bucket,
        key,
        body: { kind: 'bytes', bytes: body },
        createOnly: true,
        contentType,
        metadata,
        ...(this.retention === undefined ? {} : { objectLock: this.#lock(this.retention) }),
      });
      return 'created';
    } catch (error) {
      if (isAlreadyExists(error)) return 'exists';
      throw error;
    }
  }

  async headObject(key: string): Promise<StoredWalObject | undefined> {
    try {
      return storedObject(key, await this.client.headObject({ bucket: this.location.bucket, key }, { checksumMode: true }));
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw error;
    }
  }

  async readObject(key: string): Promise<{ object: StoredWalObject; body: Readable; laterVersions: number } | undefined> {
    try {
      const read = await readWriteOnceObject(this.client, this.location.bucket, key);
      return read === undefined ? undefined : { object: storedObject(key, read.head), body: read.body, laterVersions: read.laterVersions };
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw error;
    }
  }

  isTransientFailure(error: unknown): boolean {
    return isRetryable(error);
  }

  #lock(retention: WalRetention): ObjectLockRequest {
    return { mode: retention.mode, retainUntilMs: retention.clock.nowMs() + retention.retainDays * DAY_MS };
  }
}

function storedObject(key: string, head: ObjectHead): StoredWalObject {
  return Object.freeze({
    key,
    storedSize: head.contentLength,
    storedSha256: head.checksum?.algorithm === 'SHA256' && head.checksum.type === 'FULL_OBJECT' ? head.checksum.value : undefined,
    metadata: head.metadata,
    lock: head.objectLock,
  });
}
