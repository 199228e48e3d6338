import type { ObjectVersionRecord } from './model.js';

/**
 * S3 listing with prefix and delimiter over an ordered scan of keys. Keys that share a prefix up
 * to the next delimiter roll up into one common prefix, which counts once against max-keys; the
 * scan then jumps past every key under that prefix instead of reading them all.
 */
export interface ListPage {
  readonly contents: readonly ObjectVersionRecord[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  /** The last key or common prefix returned; where the next page starts (exclusive). */
  readonly nextMarker: string | undefined;
}

export interface ListRequest {
  readonly prefix: string;
  readonly delimiter: string;
  /** Exclusive: list keys after this one. */
  readonly after: string;
  readonly maxKeys: number;
}

export type KeyScan = (after: string, limit: number) => Promise<readonly ObjectVersionRecord[]>;

/** A string greater than every key that starts with `prefix` (keys are valid UTF-8). */
export function pastPrefix(prefix: string): string {
  return prefix + '\u{10FFFF}';
}

export async function listPage(scan: KeyScan, request: ListRequest): Promise<ListPage> {
  const contents: ObjectVersionRecord[] = [];
  const commonPrefixes: string[] = [];
  let entries = 0;
  let truncated = false;
  let nextMarker: string | undefined;
  let after = request.after;
  // A marker that is itself a common prefix means "that whole group was already returned".
  if (request.delimiter !== '' && after.startsWith(request.prefix) && after.endsWith(request.delimiter)) {
    const index = after.indexOf(request.delimiter, request.prefix.length);
    if (index + request.delimiter.length === after.length) after = pastPrefix(after);
  }
  if (request.maxKeys === 0) return { contents, commonPrefixes, isTruncated: false, nextMarker: undefined };

  scanning: while (true) {
    const batch = await scan(after, Math.min(1000, request.maxKeys - entries + 1));
    if (batch.length === 0) break;
    for (const record of batch) {
      let entry: string = record.key;
      let isPrefix = false;
      if (request.delimiter !== '') {
        const index = record.key.indexOf(request.delimiter, request.prefix.length);
        if (index >= 0) {
          entry = record.key.slice(0, index + request.delimiter.length);
          isPrefix = true;
        }
      }
      if (entries === request.maxKeys) {
        truncated = true;
        break scanning;
      }
      entries++;
      nextMarker = entry;
      if (isPrefix) {
        commonPrefixes.push(entry);
        after = pastPrefix(entry);
        continue scanning;
      }
      contents.push(record);
      after = record.key;
    }
  }
  return { contents, commonPrefixes, isTruncated: truncated, nextMarker: truncated ? nextMarker : undefined };
}

/** ListObjectVersions: every version and delete marker, rolled up by delimiter like a listing. */
export interface VersionListRequest {
  readonly prefix: string;
  readonly delimiter: string;
  readonly keyMarker: string;
  readonly versionIdMarker: string | undefined;
  readonly maxKeys: number;
}

export interface VersionListPage {
  /** Versions and delete markers in S3 order: keys ascending, newest first within a key. */
  readonly versions: readonly ObjectVersionRecord[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker: string | undefined;
  readonly nextVersionIdMarker: string | undefined;
}

export type VersionScan = (afterKey: string, afterVersionId: string | undefined, limit: number) => Promise<readonly ObjectVersionRecord[]>;

export async function listVersionsPage(scan: VersionScan, request: VersionListRequest): Promise<VersionListPage> {
  const versions: ObjectVersionRecord[] = [];
  const commonPrefixes: string[] = [];
  let entries = 0;
  let truncated = false;
  let next: { key: string; versionId: string | undefined } | undefined;
  let afterKey = request.keyMarker;
  let afterVersionId = request.keyMarker === '' ? undefined : request.versionIdMarker;
  if (request.delimiter !== '' && afterVersionId === undefined && afterKey.startsWith(request.prefix) && afterKey.endsWith(request.delimiter)) {
    const index = afterKey.indexOf(request.delimiter, request.prefix.length);
    if (index + request.delimiter.length === afterKey.length) afterKey = pastPrefix(afterKey);
  }
  if (request.maxKeys === 0) return { versions, commonPrefixes, isTruncated: false, nextKeyMarker: undefined, nextVersionIdMarker: undefined };

  scanning: while (true) {
    const batch = await scan(afterKey, afterVersionId, Math.min(1000, request.maxKeys - entries + 1));
    if (batch.length === 0) break;
    for (const record of batch) {
      let prefix: string | undefined;
      if (request.delimiter !== '') {
        const index = record.key.indexOf(request.delimiter, request.prefix.length);
        if (index >= 0) prefix = record.key.slice(0, index + request.delimiter.length);
      }
      if (entries === request.maxKeys) {
        truncated = true;
        break scanning;
      }
      entries++;
      if (prefix !== undefined) {
        commonPrefixes.push(prefix);
        next = { key: prefix, versionId: undefined };
        afterKey = pastPrefix(prefix);
        afterVersionId = undefined;
        continue scanning;
      }
      versions.push(record);
      next = { key: record.key, versionId: record.versionId };
      afterKey = record.key;
      afterVersionId = record.versionId;
    }
  }
  return {
    versions,
    commonPrefixes,
    isTruncated: truncated,
    nextKeyMarker: truncated ? next?.key : undefined,
    nextVersionIdMarker: truncated ? next?.versionId : undefined,
  };
}
