import { createHash } from 'node:crypto';
import type { TarFileDigest } from '../../infra/tar/tar-extractor.js';

/**
 * PostgreSQL's own `backup_manifest` (PostgreSQL docs, "Backup Manifest Format"), which
 * pg_basebackup appends to the tar it streams: every file of the backup with its size and, with
 * `--manifest-checksums=SHA256` (what `holdfast pg backup` asks for), its SHA-256, and a checksum
 * of the manifest itself. A restore checks the files it unpacked against it — the check
 * `pg_verifybackup --no-parse-wal` makes — from digests computed while the files were written,
 * instead of reading a gigabyte back after unpacking it.
 */

export interface PostgresManifestFile {
  readonly path: string;
  readonly size: number;
  /** `SHA256`, `CRC32C`, … or undefined when the backup was taken with `--manifest-checksums=NONE`. */
  readonly checksumAlgorithm: string | undefined;
  readonly checksum: string | undefined;
}

export interface PostgresBackupManifest {
  readonly version: number;
  readonly files: readonly PostgresManifestFile[];
}

export class PostgresManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresManifestError';
  }
}

/**
 * Files a restore may hold that the manifest does not list, as pg_verifybackup ignores them by
 * default: the manifest itself, the WAL directory, and the files recovery configuration writes.
 */
const NOT_IN_MANIFEST = new Set(['backup_manifest', 'postgresql.auto.conf', 'recovery.signal', 'standby.signal']);

/**
 * Parses the manifest and checks its own checksum: the SHA-256 of every byte up to and including
 * the newline before the `"Manifest-Checksum"` line (the file ends with that line and a newline).
 */
export function parsePostgresBackupManifest(bytes: Buffer): PostgresBackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new PostgresManifestError(`backup_manifest is not JSON (${(error as Error).message})`);
  }
  const o = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const version = o['PostgreSQL-Backup-Manifest-Version'];
  if (version !== 1 && version !== 2) throw new PostgresManifestError(`backup_manifest has version ${JSON.stringify(version)}; this holdfast reads versions 1 and 2`);
  const claimed = o['Manifest-Checksum'];
  if (typeof claimed !== 'string') throw new PostgresManifestError('backup_manifest has no "Manifest-Checksum"');
  let end = bytes.length - 1;
  while (end >= 0 && bytes[end] === 0x0a) end--;
  const lastNewline = bytes.lastIndexOf(0x0a, end);
  const actual = createHash('sha256').update(bytes.subarray(0, lastNewline + 1)).digest('hex');
  if (actual !== claimed.toLowerCase()) throw new PostgresManifestError(`backup_manifest's own checksum is ${actual}, its "Manifest-Checksum" says ${claimed}: the manifest was changed`);
  const rawFiles = o['Files'];
  if (!Array.isArray(rawFiles)) throw new PostgresManifestError('backup_manifest has no "Files" list');
  const files = rawFiles.map((raw: unknown, index): PostgresManifestFile => {
    const f = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const path = typeof f['Path'] === 'string' ? f['Path'] : typeof f['Encoded-Path'] === 'string' && /^([0-9a-fA-F]{2})+$/.test(f['Encoded-Path']) ? Buffer.from(f['Encoded-Path'], 'hex').toString('utf8') : undefined;
    const size = f['Size'];
    if (path === undefined || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new PostgresManifestError(`backup_manifest's file ${index + 1} has no path or size`);
    const algorithm = f['Checksum-Algorithm'];
    const checksum = f['Checksum'];
    return { path, size, checksumAlgorithm: typeof algorithm === 'string' ? algorithm : undefined, checksum: typeof checksum === 'string' ? checksum.toLowerCase() : undefined };
  });
  return { version, files };
}

/** Whether every file's checksum is a SHA-256, which the digests taken while unpacking can check. */
export function checkableWithSha256(manifest: PostgresBackupManifest): boolean {
  return manifest.files.every((file) => file.checksumAlgorithm === 'SHA256' && file.checksum !== undefined);
}

/**
 * The files unpacked against the manifest, as pg_verifybackup compares them: each listed file
 * present with its size and checksum, and no file unpacked that the manifest does not list
 * (outside `pg_wal/` and the files recovery writes). Returns the problems, at most `limit`, each
 * naming the file; empty when everything matches.
 */
export function compareWithManifest(manifest: PostgresBackupManifest, digests: ReadonlyMap<string, TarFileDigest>, limit = 20): string[] {
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const file of manifest.files) {
    listed.add(file.path);
    const found = digests.get(file.path);
    if (found === undefined) problems.push(`${file.path} is in backup_manifest but was not in the backup`);
    else if (found.size !== file.size) problems.push(`${file.path} is ${found.size} bytes, backup_manifest says ${file.size}`);
    else if (found.sha256 !== file.checksum) problems.push(`${file.path} has SHA-256 ${found.sha256}, backup_manifest says ${file.checksum}`);
  }
  for (const path of digests.keys()) {
    if (!listed.has(path) && !NOT_IN_MANIFEST.has(path) && !path.startsWith('pg_wal/')) problems.push(`${path} was in the backup but is not in backup_manifest`);
  }
  return problems.slice(0, limit);
}
