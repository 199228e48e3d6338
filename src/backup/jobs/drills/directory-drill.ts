import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '../../../infra/s3-client/s3-client.js';
import { readWriteOnceObject } from '../../pg/write-once-object.js';
import type { DrillConfig } from '../drill-config.js';
import type { JobRunManifest } from '../job-run-manifest.js';
import { restoreDirectoryRun } from '../job-restore.js';
import type { ArchivedFile } from '../sources/source-process.js';
import type { DrillCheck } from './drill-record.js';
import { type KindDrillContext, type KindDrillResult, message } from './kind-drill.js';

/**
 * A drill of a directory archive: the run extracted into a new temporary directory through the
 * verified restore, then every regular file there hashed and compared with the file list the
 * run recorded at backup time (path, size, SHA-256): a missing, extra or different file fails
 * the drill. The temporary directory is removed, whatever happened.
 */
export async function drillDirectoryRun(drill: DrillConfig, bucket: string, manifest: JobRunManifest, context: KindDrillContext): Promise<KindDrillResult> {
  // Named after the drill (ids are unique) rather than mkdtemp's random name, so it is journaled before it exists.
  const scratch = join(drill.scratchDirectory ?? tmpdir(), `holdfast-drill-${context.id}`);
  await context.track({ kind: 'directory', path: scratch });
  await mkdir(scratch, { mode: 0o700 });
  const target = `temporary directory ${scratch} (removed afterwards)`;
  const checks: DrillCheck[] = [];
  let usableMs: number | undefined;
  try {
    context.onStep(`extracting run ${manifest.runId}`);
    const tree = join(scratch, 'tree');
    try {
      const restored = await restoreDirectoryRun(context.client, bucket, manifest, tree, context.signal);
      usableMs = context.clock.nowMs();
      checks.push({ name: 'restore', outcome: 'passed', detail: `${manifest.parts.length} parts verified against the manifest; ${restored.files} files, ${restored.bytes} bytes of tar extracted` });
    } catch (error) {
      checks.push({ name: 'restore', outcome: 'failed', detail: message(error) });
      return { checks, usableMs, newestRestorableMs: undefined, objects: [], target };
    }
    context.onStep('comparing every file with its recorded SHA-256');
    checks.push(await fileCheck(context.client, bucket, manifest, tree, context.signal));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return {
    checks,
    usableMs,
    // Files were read from the run's start to its end; the start is the safe bound.
    newestRestorableMs: Date.parse(manifest.startedAt),
    objects: manifest.recorded?.fileList === undefined ? [] : [{ key: manifest.recorded.fileList.key, sha256: manifest.recorded.fileList.sha256, size: manifest.recorded.fileList.size }],
    target,
  };
}

async function fileCheck(client: S3Client, bucket: string, manifest: JobRunManifest, tree: string, signal: AbortSignal): Promise<DrillCheck> {
  const name = 'file checksums';
  const list = manifest.recorded?.fileList;
  if (list === undefined) return { name, outcome: 'failed', detail: `run ${manifest.runId} recorded no file list (it predates them); run the job again and drill the new run` };
  try {
    const expected = await readFileList(client, bucket, list);
    const problems: string[] = [];
    const found = new Map<string, string>();
    await hashTree(tree, '', found, signal);
    for (const file of expected) {
      const digest = found.get(file.path);
      if (digest === undefined) problems.push(`${file.path} is missing`);
      else if (digest !== `${file.size}:${file.sha256}`) problems.push(`${file.path} differs from its recorded SHA-256 ${file.sha256.slice(0, 12)}…`);
      found.delete(file.path);
    }
    for (const path of found.keys()) problems.push(`${path} was not in the backup's file list`);
    if (problems.length === 0) return { name, outcome: 'passed', detail: `${expected.length} files, each with the size and SHA-256 recorded at backup time` };
    return { name, outcome: 'failed', detail: problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '') };
  } catch (error) {
    return { name, outcome: 'failed', detail: message(error) };
  }
}

async function readFileList(client: S3Client, bucket: string, list: { key: string; size: number; sha256: string }): Promise<ArchivedFile[]> {
  const read = await readWriteOnceObject(client, bucket, list.key);
  if (read === undefined) throw new Error(`the file list ${list.key} is missing from s3://${bucket}`);
  const chunks: Buffer[] = [];
  for await (const chunk of read.body as AsyncIterable<Buffer>) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== list.size || digest !== list.sha256) throw new Error(`the file list ${list.key} is ${bytes.length} bytes with SHA-256 ${digest}; the manifest says ${list.size} bytes, ${list.sha256}`);
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ArchivedFile);
}

/** `path → "size:sha256"` of every regular file under `root`. */
async function hashTree(root: string, relative: string, out: Map<string, string>, signal: AbortSignal): Promise<void> {
  for (const name of (await readdir(relative === '' ? root : join(root, relative))).sort()) {
    const path = relative === '' ? name : `${relative}/${name}`;
    const stats = await lstat(join(root, path));
    if (stats.isDirectory()) await hashTree(root, path, out, signal);
    else if (stats.isFile()) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(join(root, path), { signal })) hash.update(chunk as Buffer);
      out.set(path, `${stats.size}:${hash.digest('hex')}`);
    }
  }
}
