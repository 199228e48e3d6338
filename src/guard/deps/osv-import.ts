import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ZipReader } from '../../infra/zip/zip-reader.js';
import { OsvFormatError, parseOsvRecord, type OsvVulnerability } from './osv-record.js';
import type { ImportOutcome, VulnerabilityDatabase } from './vulnerability-database.js';

/** One OSV record is a few KiB; anything above this is not a record and is not parsed. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export interface RejectedRecord {
  readonly name: string;
  readonly reason: string;
}

export interface ImportReport extends ImportOutcome {
  readonly source: string;
  readonly read: number;
  readonly rejected: readonly RejectedRecord[];
  readonly durationMs: number;
}

interface RawRecord {
  readonly name: string;
  readonly read: () => Buffer;
  readonly size: number;
}

function* zipRecords(path: string): Generator<RawRecord> {
  const reader = ZipReader.open(path);
  try {
    for (const entry of reader.entries()) {
      if (!entry.name.endsWith('.json')) continue;
      yield { name: entry.name, size: entry.uncompressedSize, read: () => reader.read(entry, MAX_RECORD_BYTES) };
    }
  } finally {
    reader.close();
  }
}

function* directoryRecords(root: string, dir = root): Generator<RawRecord> {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* directoryRecords(root, path);
    else if (entry.isFile() && entry.name.endsWith('.json')) yield { name: relative(root, path).split(sep).join('/'), size: statSync(path).size, read: () => readFileSync(path) };
  }
}

/**
 * Imports an OSV export — the `all.zip` OSV publishes per ecosystem, or a directory of OSV JSON
 * files — into the database. A record that cannot be read is listed and skipped; the rest import.
 */
export function importOsvExport(database: VulnerabilityDatabase, source: string, importedAt: string): ImportReport {
  const started = performance.now();
  const rejected: RejectedRecord[] = [];
  let read = 0;
  const raw = statSync(source).isDirectory() ? directoryRecords(source) : zipRecords(source);
  function* parsed(): Generator<OsvVulnerability> {
    for (const record of raw) {
      read++;
      if (record.size > MAX_RECORD_BYTES) {
        rejected.push({ name: record.name, reason: `${record.size} bytes, above the ${MAX_RECORD_BYTES}-byte limit for one record` });
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(record.read().toString('utf8'));
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        rejected.push({ name: record.name, reason: `not JSON (${error.message})` });
        continue;
      }
      try {
        yield parseOsvRecord(json, record.name);
      } catch (error) {
        if (!(error instanceof OsvFormatError)) throw error;
        rejected.push({ name: record.name, reason: error.message });
      }
    }
  }
  const outcome = database.importRecords(parsed(), source, importedAt);
  return { source, read, rejected, ...outcome, durationMs: performance.now() - started };
}
