import { isBackupId } from './backup-id.js';
import { ENCRYPTION_ALGORITHM, SEAL_OVERHEAD_BYTES } from './repository-key.js';
import { parseWalFileName } from './wal-file-name.js';
import { isWalSegmentSize, parseLsn } from './wal-position.js';

/**
 * `PREFIX/backups/<id>/manifest.json`: what one complete base backup is and where its bytes are.
 * It is written last, create-only, after the stop segment is in the archive, so its existence is
 * what makes a backup complete (pgBackRest's archive-check, done before the commit rather than
 * trusted afterwards). Everything a restore and `verify` need is here: the WAL range to replay
 * (start/stop LSN and segment, timeline), the cluster it belongs to (system identifier, version),
 * and each stored object with its size and SHA-256. Per-file checksums of the data directory are
 * inside the tar itself, in PostgreSQL's own `backup_manifest` (pg_basebackup
 * --manifest-checksums=SHA256), which `pg_verifybackup` reads after extraction.
 */

export const BACKUP_MANIFEST_FORMAT = 'holdfast-pg-base-backup';
export const BACKUP_MANIFEST_VERSION = 1;
/** A manifest is small (a few hundred bytes plus ~150 per part); anything larger is not one. */
export const MAX_BACKUP_MANIFEST_BYTES = 1024 * 1024;

export interface BackupPart {
  readonly key: string;
  /** Bytes of this stored object (a slice of the gzip stream). */
  readonly size: number;
  /** Lower-case hex SHA-256 of the object's bytes. */
  readonly sha256: string;
  /**
   * Bytes of tar this part inflates to. Present (on every part) when each part is a complete gzip
   * member of its own, which a restore may inflate in parallel; absent in backups written before
   * that (one gzip stream cut into parts), which inflate as one stream.
   */
  readonly tarBytes?: number;
}

/** Whether every part is its own gzip member (the manifest gives each part's tar bytes). */
export function hasIndependentParts(manifest: BackupManifest): manifest is BackupManifest & { readonly parts: readonly (BackupPart & { readonly tarBytes: number })[] } {
  return manifest.parts.every((part) => part.tarBytes !== undefined);
}

export interface BackupManifest {
  readonly format: typeof BACKUP_MANIFEST_FORMAT;
  readonly version: typeof BACKUP_MANIFEST_VERSION;
  readonly id: string;
  /** pg_basebackup's `-l` label, also in the backup history file and backup_label. */
  readonly label: string;
  readonly systemIdentifier: string;
  /** `server_version` (e.g. "15.8 (Debian 15.8-1)") and `server_version_num` (150008). */
  readonly pgVersion: string;
  readonly pgVersionNum: number;
  readonly walSegmentSize: number;
  readonly timeline: number;
  readonly startLsn: string;
  readonly stopLsn: string;
  readonly startWalSegment: string;
  readonly stopWalSegment: string;
  readonly backupHistoryFile: string;
  /** ISO-8601 UTC, by the backing-up host's clock: before pg_basebackup started and after it ended. */
  readonly startTime: string;
  readonly stopTime: string;
  readonly compression: 'gzip';
  /** Bytes and hex SHA-256 of the tar pg_basebackup wrote (before compression). */
  readonly tarBytes: number;
  readonly tarSha256: string;
  /** Bytes and hex SHA-256 of the whole gzip stream: the parts concatenated. */
  readonly compressedBytes: number;
  readonly compressedSha256: string;
  readonly parts: readonly BackupPart[];
  /**
   * Present when the parts are sealed with a repository key (repository-key.ts). `tarSha256` and
   * `compressedSha256` are then HMAC-SHA256 under that key; parts' `sha256` stays the plain
   * SHA-256 of the stored (sealed) bytes, so they verify without the key.
   */
  readonly encryption?: { readonly algorithm: typeof ENCRYPTION_ALGORITHM; readonly keyId: string };
}

/** What a sealed part is bound to: its backup and its place in it. */
export function backupPartAssociatedData(backupId: string, partNumber: number): string {
  return `holdfast-backup:${backupId}:part-${partNumber}`;
}

export class BackupManifestError extends Error {
  constructor(where: string, problem: string) {
    super(`the backup manifest ${where} is not valid: ${problem}`);
    this.name = 'BackupManifestError';
  }
}

export function serializeBackupManifest(manifest: BackupManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/**
 * Parses and checks a manifest. `where` names it in errors (its key). Fields are checked one by
 * one and the whole for consistency (LSN order, segment names matching the LSNs' timeline, part
 * sizes adding up), so a restore never starts from a manifest it would misread.
 */
export function parseBackupManifest(text: string, where: string): BackupManifest {
  const fail = (problem: string): never => {
    throw new BackupManifestError(where, problem);
  };
  if (text.length > MAX_BACKUP_MANIFEST_BYTES) fail(`larger than ${MAX_BACKUP_MANIFEST_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(`not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not a JSON object');
  const o = value as Record<string, unknown>;
  const string = (name: string, pattern?: RegExp): string => {
    const v = o[name];
    if (typeof v !== 'string' || v === '' || (pattern !== undefined && !pattern.test(v))) fail(`"${name}" is missing or malformed`);
    return v as string;
  };
  const count = (name: string, min = 0): number => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`"${name}" is not a whole number ≥ ${min}`);
    return v as number;
  };
  if (o['format'] !== BACKUP_MANIFEST_FORMAT) fail(`"format" is not "${BACKUP_MANIFEST_FORMAT}"`);
  if (o['version'] !== BACKUP_MANIFEST_VERSION) fail(`"version" ${JSON.stringify(o['version'])} is not supported (this holdfast reads version ${BACKUP_MANIFEST_VERSION})`);
  const id = string('id');
  if (!isBackupId(id)) fail(`"id" ${JSON.stringify(id)} is not a backup id`);
  const walSegmentSize = count('walSegmentSize');
  if (!isWalSegmentSize(walSegmentSize)) fail(`"walSegmentSize" ${walSegmentSize} is not a WAL segment size`);
  const timeline = count('timeline', 1);
  const startLsn = string('startLsn');
  const stopLsn = string('stopLsn');
  const start = parseLsn(startLsn);
  const stop = parseLsn(stopLsn);
  if (start === undefined || stop === undefined) return fail('"startLsn" or "stopLsn" is not an LSN (X/Y)');
  if (stop < start) fail(`"stopLsn" ${stopLsn} is before "startLsn" ${startLsn}`);
  const timelineHex = timeline.toString(16).toUpperCase().padStart(8, '0');
  const segment = (name: string, kind: 'segment' | 'backup-history'): string => {
    const text = string(name);
    const parsed = parseWalFileName(text);
    if (parsed?.kind !== kind || parsed.timeline !== timelineHex) fail(`"${name}" ${JSON.stringify(text)} is not a ${kind} name on timeline ${timelineHex}`);
    return text;
  };
  const startWalSegment = segment('startWalSegment', 'segment');
  const stopWalSegment = segment('stopWalSegment', 'segment');
  if (stopWalSegment < startWalSegment) fail('"stopWalSegment" sorts before "startWalSegment"');
  const backupHistoryFile = segment('backupHistoryFile', 'backup-history');
  const startTime = string('startTime', ISO_UTC);
  const stopTime = string('stopTime', ISO_UTC);
  if (stopTime < startTime) fail('"stopTime" is before "startTime"');
  if (o['compression'] !== 'gzip') fail('"compression" is not "gzip"');
  const compressedBytes = count('compressedBytes');
  const rawParts = o['parts'];
  if (!Array.isArray(rawParts) || rawParts.length === 0) return fail('"parts" is not a non-empty array');
  const parts = rawParts.map((raw: unknown, index): BackupPart => {
    const p = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const { key, size, sha256, tarBytes } = p;
    if (typeof key !== 'string' || key === '' || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
      return fail(`part ${index + 1} needs a key, a size and a hex SHA-256`);
    }
    if (tarBytes === undefined) return Object.freeze({ key, size, sha256 });
    if (typeof tarBytes !== 'number' || !Number.isSafeInteger(tarBytes) || tarBytes < 1) return fail(`part ${index + 1}: "tarBytes" is not a whole number ≥ 1`);
    return Object.freeze({ key, size, sha256, tarBytes });
  });
  const withTarBytes = parts.filter((part) => part.tarBytes !== undefined);
  if (withTarBytes.length !== 0 && withTarBytes.length !== parts.length) fail(`"tarBytes" is given for ${withTarBytes.length} of ${parts.length} parts: all or none`);
  if (withTarBytes.length !== 0) {
    const sum = withTarBytes.reduce((total, part) => total + part.tarBytes!, 0);
    if (sum !== o['tarBytes']) fail(`the parts' "tarBytes" add up to ${sum}, "tarBytes" says ${JSON.stringify(o['tarBytes'])}`);
  }
  const rawEncryption = o['encryption'];
  let encryption: BackupManifest['encryption'];
  if (rawEncryption !== undefined) {
    const e = (typeof rawEncryption === 'object' && rawEncryption !== null ? rawEncryption : {}) as Record<string, unknown>;
    if (e['algorithm'] !== ENCRYPTION_ALGORITHM || typeof e['keyId'] !== 'string' || !/^[0-9a-f]{16}$/.test(e['keyId'])) fail(`"encryption" must name ${ENCRYPTION_ALGORITHM} and a key id`);
    encryption = Object.freeze({ algorithm: ENCRYPTION_ALGORITHM, keyId: e['keyId'] as string });
  }
  const total = parts.reduce((sum, p) => sum + p.size, 0);
  // Sealed parts each carry the seal's header, nonce and tag on top of their share of the gzip stream.
  const expected = compressedBytes + (encryption === undefined ? 0 : parts.length * SEAL_OVERHEAD_BYTES);
  if (total !== expected) fail(`the parts hold ${total} bytes, "compressedBytes" says ${compressedBytes}${encryption === undefined ? '' : ' (plus the seals)'}`);
  return Object.freeze({
    format: BACKUP_MANIFEST_FORMAT,
    version: BACKUP_MANIFEST_VERSION,
    id,
    label: string('label'),
    systemIdentifier: string('systemIdentifier', /^\d{1,20}$/),
    pgVersion: string('pgVersion'),
    pgVersionNum: count('pgVersionNum', 90000),
    walSegmentSize,
    timeline,
    startLsn,
    stopLsn,
    startWalSegment,
    stopWalSegment,
    backupHistoryFile,
    startTime,
    stopTime,
    compression: 'gzip',
    tarBytes: count('tarBytes'),
    tarSha256: string('tarSha256', SHA256_HEX),
    compressedBytes,
    compressedSha256: string('compressedSha256', SHA256_HEX),
    parts: Object.freeze(parts),
    ...(encryption === undefined ? {} : { encryption }),
  });
}
