/**
 * Where a streamed job run's objects go and what its manifest says. Under the job's
 * destination prefix:
 *
 *   PREFIX/runs/20261126T030000Z-3f9a1c/dump.sql.gz.part-00001   the gzip stream, cut into parts
 *   PREFIX/runs/20261126T030000Z-3f9a1c/manifest.json            written last: the commit point
 *
 * A folder without a manifest is a run that did not finish; restores never use it.
 */

export const JOB_RUN_MANIFEST_FORMAT = 'holdfast-job-run';
export const JOB_RUN_MANIFEST_VERSION = 1;

export function runFolder(prefix: string, runId: string): string {
  return `${prefix === '' ? '' : `${prefix}/`}runs/${runId}/`;
}

export function runPartKey(prefix: string, runId: string, contentName: string, part: number): string {
  return `${runFolder(prefix, runId)}${contentName}.gz.part-${String(part).padStart(5, '0')}`;
}

/** Every archived file with its size and SHA-256, one JSON object per line (directory runs). */
export function runFileListKey(prefix: string, runId: string): string {
  return `${runFolder(prefix, runId)}files.jsonl`;
}

export function runManifestKey(prefix: string, runId: string): string {
  return `${runFolder(prefix, runId)}manifest.json`;
}

export interface JobRunPart {
  readonly key: string;
  readonly size: number;
  /** Hex SHA-256 of the stored bytes (verified by the server on PUT). */
  readonly sha256: string;
}

export interface JobRunManifest {
  readonly format: typeof JOB_RUN_MANIFEST_FORMAT;
  readonly version: typeof JOB_RUN_MANIFEST_VERSION;
  readonly job: string;
  readonly runId: string;
  readonly source: Readonly<Record<string, string | number | readonly string[]>> & { readonly kind: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The uncompressed stream: `dump.sql` (mariadb-dump output) or `tree.tar`. */
  readonly content: { readonly name: string; readonly bytes: number; readonly sha256: string };
  readonly compressed: { readonly encoding: 'gzip'; readonly bytes: number; readonly sha256: string };
  readonly parts: readonly JobRunPart[];
  /** What the source reported at backup time, for restore drills (runs stored before drills existed have none). */
  readonly recorded?: {
    /** Rows per table as the dump holds them (mariadb-dump; pg-dump as `schema.table`). */
    readonly rowCounts?: Readonly<Record<string, number>>;
    /** Why the dump's rows could not be counted (pg-dump: an archive the counter does not read). */
    readonly rowCountsProblem?: string;
    /** The file list object (directory): `{"path","size","sha256"}` per line. */
    readonly fileList?: JobRunPart & { readonly files: number };
  };
}

export class JobRunManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobRunManifestError';
  }
}

/** Checks a manifest read back from storage; never trusts its shape. */
export function parseJobRunManifest(text: string, key: string): JobRunManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new JobRunManifestError(`${key} is not JSON: ${(error as Error).message}`);
  }
  const m = value as Partial<JobRunManifest> | null;
  const hex = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (m === null || typeof m !== 'object' || m.format !== JOB_RUN_MANIFEST_FORMAT || m.version !== JOB_RUN_MANIFEST_VERSION) {
    throw new JobRunManifestError(`${key} is not a ${JOB_RUN_MANIFEST_FORMAT} manifest of version ${JOB_RUN_MANIFEST_VERSION}`);
  }
  const ok =
    typeof m.job === 'string' &&
    typeof m.runId === 'string' &&
    typeof m.source?.kind === 'string' &&
    typeof m.content?.name === 'string' &&
    count(m.content.bytes) &&
    hex(m.content.sha256) &&
    m.compressed?.encoding === 'gzip' &&
    count(m.compressed.bytes) &&
    hex(m.compressed.sha256) &&
    Array.isArray(m.parts) &&
    m.parts.length > 0 &&
    (m.parts as unknown[]).every((value) => {
      const p = value as Partial<JobRunPart> | null;
      return p !== null && typeof p === 'object' && typeof p.key === 'string' && p.key.startsWith(key.slice(0, key.length - 'manifest.json'.length)) && count(p.size) && hex(p.sha256);
    });
  const recorded = m.recorded;
  const recordedOk =
    recorded === undefined ||
    (typeof recorded === 'object' &&
      recorded !== null &&
      (recorded.rowCountsProblem === undefined || typeof recorded.rowCountsProblem === 'string') &&
      (recorded.rowCounts === undefined || (typeof recorded.rowCounts === 'object' && recorded.rowCounts !== null && Object.values(recorded.rowCounts).every(count))) &&
      (recorded.fileList === undefined || (typeof recorded.fileList.key === 'string' && count(recorded.fileList.size) && hex(recorded.fileList.sha256) && count(recorded.fileList.files))));
  if (!ok || !recordedOk) throw new JobRunManifestError(`${key} is missing fields or has invalid ones`);
  return m as JobRunManifest;
}

export function serializeJobRunManifest(manifest: JobRunManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}
