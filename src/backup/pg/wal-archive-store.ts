import type { Readable } from 'node:stream';

/**
 * The storage the WAL archiver and fetcher need, and nothing more. The S3 implementation is
 * `S3WalArchiveStore`; the contract is what any implementation MUST do.
 */

export interface StoredWalObject {
  readonly key: string;
  /** Bytes stored (after compression). */
  readonly storedSize: number;
  /** Base64 SHA-256 of the stored bytes, as the store verified and kept it; undefined if it keeps none. */
  readonly storedSha256: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  /** Object Lock retention, if the object has any. */
  readonly lock: { readonly mode: string; readonly retainUntilMs: number } | undefined;
}

export interface WalArchiveStore {
  /** `s3://bucket/prefix`, for messages. */
  readonly description: string;
  /**
   * Stores `body` under `key` unless an object already exists there. MUST NOT replace or add a
   * version to an existing key ("exists"); MUST resolve "created" only once the store has verified
   * the bytes against their SHA-256 and made them durable; MUST apply the store's retention.
   */
  createObject(key: string, body: Uint8Array, metadata: Readonly<Record<string, string>>, contentType: string): Promise<'created' | 'exists'>;
  /** The object's description, or undefined if there is none. */
  headObject(key: string): Promise<StoredWalObject | undefined>;
  /**
   * The object and its bytes, or undefined if there is none. The body MUST fail (error at its end)
   * if the bytes do not match `storedSha256` or `storedSize`. Where the store keeps versions, this
   * MUST be the first version written under the key, with the number of later ones.
   */
  readObject(key: string): Promise<{ readonly object: StoredWalObject; readonly body: Readable; readonly laterVersions: number } | undefined>;
  /** Whether a failure may pass if the same operation is tried again (network, 5xx). */
  isTransientFailure(error: unknown): boolean;
}
