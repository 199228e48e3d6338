import { createHash } from 'node:crypto';
import { createGzip } from 'node:zlib';
import type { Clock } from '../../infra/clock.js';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { JOB_RUN_MANIFEST_FORMAT, JOB_RUN_MANIFEST_VERSION, type JobRunManifest, type JobRunPart, runFileListKey, runManifestKey, runPartKey, serializeJobRunManifest } from './job-run-manifest.js';
import type { SourceProcess } from './sources/source-process.js';

export const DEFAULT_RUN_PART_BYTES = 64 * 1024 * 1024;

export interface StreamedRunInput {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly job: string;
  readonly runId: string;
  readonly source: SourceProcess;
  readonly sourceDescription: JobRunManifest['source'];
  /** `dump.sql`, `tree.tar`. */
  readonly contentName: string;
  readonly clock: Clock;
  readonly startedMs: number;
  /** Bytes of gzip output per stored object (default 64 MiB): the memory a run holds at once. */
  readonly partBytes?: number;
  /** Called after each stored object. */
  readonly onStored?: (progress: { readonly bytes: number; readonly objects: number }) => void;
}

export interface StoredRun {
  readonly manifestKey: string;
  readonly manifest: JobRunManifest;
  /** Stored bytes (parts and manifest). */
  readonly bytes: number;
  readonly objects: number;
  /** Whether every object came back with Object Lock retention (false: deletable; the run says so). */
  readonly retained: boolean;
  /** Every object written, in order, the manifest last: for the run's evidence record. */
  readonly stored: readonly StoredObject[];
}

export interface StoredObject {
  readonly key: string;
  readonly versionId: string | undefined;
  readonly size: number;
  readonly sha256: string;
}

/**
 * Stores a source's output as one run:
 *
 *   source stdout  →  SHA-256  →  gzip  →  SHA-256  →  parts of `partBytes`, each a create-only PUT
 *
 * the same shape as a PostgreSQL base backup (base-backup.ts): nothing staged on disk, one part
 * in memory, the source paused by backpressure while a part uploads, each part its own object
 * with its SHA-256 (verified by the server) — and the manifest written last, only after the
 * source tool exited 0. A run that fails anywhere leaves parts without a manifest: an unfinished
 * run that restores ignore.
 */
export async function storeStreamedRun(input: StreamedRunInput): Promise<StoredRun> {
  const { client, bucket, prefix, runId, source } = input;
  const partBytes = input.partBytes ?? DEFAULT_RUN_PART_BYTES;
  const contentHash = createHash('sha256');
  const gzipHash = createHash('sha256');
  let contentBytes = 0;
  let compressedBytes = 0;
  let storedBytes = 0;
  let retained = true;
  const parts: JobRunPart[] = [];
  const written: StoredObject[] = [];

  const put = async (key: string, bytes: Buffer, contentType: string) => {
    const stored = await client.putObject({ bucket, key, body: { kind: 'bytes', bytes }, createOnly: true, contentType, metadata: { 'holdfast-job': input.job, 'holdfast-run': runId } });
    const head = await client.headObject({ bucket, key });
    if (head.objectLock === undefined) retained = false;
    storedBytes += stored.size;
    written.push({ key, versionId: stored.versionId, size: stored.size, sha256: Buffer.from(stored.checksumSha256, 'base64').toString('hex') });
    return stored;
  };

  try {
    const gzip = createGzip();
    source.output.on('data', (chunk: Buffer) => {
      contentHash.update(chunk);
      contentBytes += chunk.length;
    });
    source.output.once('error', (error) => gzip.destroy(error));
    source.output.pipe(gzip);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const upload = async (bytes: Buffer) => {
      const key = runPartKey(prefix, runId, input.contentName, parts.length + 1);
      const stored = await put(key, bytes, 'application/gzip');
      parts.push(Object.freeze({ key, size: stored.size, sha256: Buffer.from(stored.checksumSha256, 'base64').toString('hex') }));
      input.onStored?.({ bytes: storedBytes, objects: parts.length });
    };
    for await (const chunk of gzip as AsyncIterable<Buffer>) {
      gzipHash.update(chunk);
      compressedBytes += chunk.length;
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= partBytes) {
        const all = Buffer.concat(pending, pendingBytes);
        pending = [all.subarray(partBytes)];
        pendingBytes = all.length - partBytes;
        await upload(all.subarray(0, partBytes));
      }
    }
    // The tool's exit decides: a dump cut short by a failure must not get a manifest.
    await source.finished;
    if (pendingBytes > 0 || parts.length === 0) await upload(Buffer.concat(pending, pendingBytes));
  } catch (error) {
    source.stop();
    throw error;
  }

  // What the source saw, for drills: row counts go into the manifest, a file list beside it.
  const seen = source.recorded?.();
  let fileList: NonNullable<JobRunManifest['recorded']>['fileList'];
  if (seen?.files !== undefined) {
    const key = runFileListKey(prefix, runId);
    const lines = Buffer.from(seen.files.map((f) => `${JSON.stringify({ path: f.path, size: f.size, sha256: f.sha256 })}\n`).join(''), 'utf8');
    const stored = await put(key, lines, 'application/x-ndjson');
    fileList = { key, size: stored.size, sha256: Buffer.from(stored.checksumSha256, 'base64').toString('hex'), files: seen.files.length };
  }
  const recorded = seen === undefined ? undefined : { ...(seen.rowCounts === undefined ? {} : { rowCounts: seen.rowCounts }), ...(seen.rowCountsProblem === undefined ? {} : { rowCountsProblem: seen.rowCountsProblem }), ...(fileList === undefined ? {} : { fileList }) };
  const manifest: JobRunManifest = Object.freeze({
    format: JOB_RUN_MANIFEST_FORMAT,
    version: JOB_RUN_MANIFEST_VERSION,
    job: input.job,
    runId,
    source: input.sourceDescription,
    startedAt: new Date(input.startedMs).toISOString(),
    finishedAt: new Date(input.clock.nowMs()).toISOString(),
    content: { name: input.contentName, bytes: contentBytes, sha256: contentHash.digest('hex') },
    compressed: { encoding: 'gzip' as const, bytes: compressedBytes, sha256: gzipHash.digest('hex') },
    parts,
    ...(recorded === undefined ? {} : { recorded }),
  });
  const manifestKey = runManifestKey(prefix, runId);
  await put(manifestKey, serializeJobRunManifest(manifest), 'application/json');
  return { manifestKey, manifest, bytes: storedBytes, objects: written.length, retained, stored: written };
}
