import { ENCRYPTION_ALGORITHM } from './repository-key.js';

/**
 * What each archived WAL object says about itself, in S3 user metadata (`x-amz-meta-*`), so that
 * an object is understood without any catalog: how it is encoded, and the size and SHA-256 of the
 * file PostgreSQL handed over. The SHA-256 of the original — not of the compressed bytes — is what
 * identifies a segment: a re-push compares it, a fetch checks the restored file against it, and it
 * stays valid if the codec or its level changes.
 */

export type WalCompression = 'gzip' | 'none';

export interface WalObjectDescription {
  /** Lower-case hex SHA-256 of the original file. */
  readonly sha256: string;
  /** Bytes of the original file. */
  readonly size: number;
  readonly compression: WalCompression;
  /** The cluster that wrote the segment (segments and partial segments only). */
  readonly systemIdentifier: string | undefined;
  /**
   * Set when the stored bytes are sealed with a repository key (repository-key.ts): the id of
   * that key. `sha256` is then HMAC-SHA256 under the key, not a plain SHA-256.
   */
  readonly encryptionKeyId?: string | undefined;
}

/** Bumped if the meaning of the fields below ever changes. */
const FORMAT = '1';

const FIELDS = {
  format: 'holdfast-wal-format',
  sha256: 'holdfast-wal-sha256',
  size: 'holdfast-wal-size',
  compression: 'holdfast-wal-compression',
  systemIdentifier: 'holdfast-pg-system-id',
  encryption: 'holdfast-encryption',
  keyId: 'holdfast-encryption-key-id',
} as const;

export function walObjectMetadata(description: WalObjectDescription): Record<string, string> {
  return {
    [FIELDS.format]: FORMAT,
    [FIELDS.sha256]: description.sha256,
    [FIELDS.size]: String(description.size),
    [FIELDS.compression]: description.compression,
    ...(description.systemIdentifier === undefined ? {} : { [FIELDS.systemIdentifier]: description.systemIdentifier }),
    ...(description.encryptionKeyId === undefined ? {} : { [FIELDS.encryption]: ENCRYPTION_ALGORITHM, [FIELDS.keyId]: description.encryptionKeyId }),
  };
}

/** The description, or undefined if the object was not written by this format (another tool, a person). */
export function readWalObjectMetadata(metadata: Readonly<Record<string, string>>): WalObjectDescription | undefined {
  const sha256 = metadata[FIELDS.sha256];
  const size = Number(metadata[FIELDS.size]);
  const compression = metadata[FIELDS.compression];
  if (metadata[FIELDS.format] !== FORMAT || sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  if (!Number.isSafeInteger(size) || size < 0 || (compression !== 'gzip' && compression !== 'none')) return undefined;
  const encryption = metadata[FIELDS.encryption];
  if (encryption !== undefined && encryption !== ENCRYPTION_ALGORITHM) return undefined;
  const encryptionKeyId = encryption === undefined ? undefined : (metadata[FIELDS.keyId] ?? 'unknown');
  return Object.freeze({ sha256, size, compression, systemIdentifier: metadata[FIELDS.systemIdentifier], ...(encryptionKeyId === undefined ? {} : { encryptionKeyId }) });
}

/** What a WAL object's sealed bytes are bound to: its file name (not its key, so a copied repository still opens). */
export function walAssociatedData(name: string): string {
  return `holdfast-wal:${name}`;
}
