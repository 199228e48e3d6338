import type { IncomingHttpHeaders } from 'node:http';
import { type ChecksumAlgorithm, checksumAlgorithms, checksumHeaderName } from '../checksum/checksum.js';

/** An object's integrity checksum as S3 returns it with `x-amz-checksum-mode: ENABLED`. */
export interface StoredObjectChecksum {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64 of the big-endian digest; a COMPOSITE value ends in `-N` (N parts). */
  readonly value: string;
  /** FULL_OBJECT: a checksum of the bytes a GET returns. COMPOSITE: a checksum of part checksums. */
  readonly type: 'FULL_OBJECT' | 'COMPOSITE';
}

export interface ObjectLockState {
  readonly mode: string;
  readonly retainUntilMs: number;
}

/** What HeadObject (and the headers of GetObject) say about one object version. */
export interface ObjectHead {
  readonly contentLength: number;
  readonly etag: string;
  readonly lastModifiedMs: number | undefined;
  readonly contentType: string | undefined;
  readonly versionId: string | undefined;
  /** User metadata (`x-amz-meta-NAME`), by lower-case NAME. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Present when the request asked for it and the object has one. */
  readonly checksum: StoredObjectChecksum | undefined;
  readonly objectLock: ObjectLockState | undefined;
  readonly legalHold: boolean;
}

const METADATA_PREFIX = 'x-amz-meta-';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

export function objectHeadFrom(headers: IncomingHttpHeaders): ObjectHead {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(METADATA_PREFIX) && value !== undefined) metadata[name.slice(METADATA_PREFIX.length)] = single(value)!;
  }
  const lastModified = single(headers['last-modified']);
  const lastModifiedMs = lastModified === undefined ? undefined : Date.parse(lastModified);
  const lockMode = single(headers['x-amz-object-lock-mode']);
  const retainUntil = single(headers['x-amz-object-lock-retain-until-date']);
  const retainUntilMs = retainUntil === undefined ? NaN : Date.parse(retainUntil);
  const versionId = single(headers['x-amz-version-id']);
  return Object.freeze({
    contentLength: Number(single(headers['content-length']) ?? NaN),
    etag: single(headers['etag']) ?? '',
    lastModifiedMs: lastModifiedMs !== undefined && Number.isFinite(lastModifiedMs) ? lastModifiedMs : undefined,
    contentType: single(headers['content-type']),
    versionId: versionId === undefined || versionId === 'null' ? undefined : versionId,
    metadata: Object.freeze(metadata),
    checksum: storedChecksumFrom(headers),
    objectLock: lockMode !== undefined && Number.isFinite(retainUntilMs) ? Object.freeze({ mode: lockMode, retainUntilMs }) : undefined,
    legalHold: single(headers['x-amz-object-lock-legal-hold'])?.toUpperCase() === 'ON',
  });
}

/** The first `x-amz-checksum-<algorithm>` header of the answer, with its type. */
export function storedChecksumFrom(headers: IncomingHttpHeaders): StoredObjectChecksum | undefined {
  for (const algorithm of checksumAlgorithms) {
    const value = single(headers[checksumHeaderName(algorithm)]);
    if (value === undefined) continue;
    const declared = single(headers['x-amz-checksum-type'])?.toUpperCase();
    const type = declared === 'COMPOSITE' || (declared === undefined && value.includes('-')) ? 'COMPOSITE' : 'FULL_OBJECT';
    return Object.freeze({ algorithm, value, type });
  }
  return undefined;
}
