import { runBaseBackup } from '../pg/base-backup.js';
import type { Clock } from '../../infra/clock.js';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import type { BackupJob } from './job-config.js';
import { describeMariadbSource, startMariadbDump } from './sources/mariadb-dump-source.js';
import { startDirectoryTar } from './sources/directory-source.js';
import { describePgDumpSource, startPgDump } from './sources/pg-dump-source.js';
import { describeMongodumpSource, startMongodump } from './sources/mongodump-source.js';
import type { SourceProcess } from './sources/source-process.js';
import { type StoredObject, storeStreamedRun } from './store-streamed-run.js';

export interface ExecutionContext {
  readonly client: S3Client;
  readonly runId: string;
  readonly startedMs: number;
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal;
  readonly partBytes?: number | undefined;
  readonly onStored: (progress: { readonly bytes: number; readonly objects: number }) => void;
}

export interface ExecutionResult {
  readonly bytes: number;
  readonly objects: number;
  readonly manifestKey: string;
  readonly retained: boolean;
  readonly logExcerpt: string;
  /** The objects the run wrote (key, version, SHA-256), for its evidence record. */
  readonly stored: readonly StoredObject[];
}

/** What a run does for each source kind. The runner around it handles budget, history and alerts. */
export async function executeJob(job: BackupJob, context: ExecutionContext): Promise<ExecutionResult> {
  const source = job.source;
  switch (source.kind) {
    case 'mariadb-dump':
      return streamed(job, context, startMariadbDump(source, context.env), 'dump.sql', describeMariadbSource(source));
    case 'directory':
      return streamed(job, context, startDirectoryTar(source), 'tree.tar', { kind: source.kind, path: source.path });
    case 'pg-dump':
      return streamed(job, context, startPgDump(source, context.env), 'database.pgdump', describePgDumpSource(source));
    case 'mongodump':
      return streamed(job, context, startMongodump(source, context.env), 'dump.mongoarchive', describeMongodumpSource(source));
    case 'pg-base-backup': {
      const env: NodeJS.ProcessEnv = { ...context.env };
      if (source.passwordEnv !== undefined) env['PGPASSWORD'] = context.env[source.passwordEnv];
      const result = await runBaseBackup({
        client: context.client,
        location: { bucket: job.destination.bucket, prefix: job.destination.prefix },
        connection: source.connection,
        env,
        signal: context.signal,
      });
      const bytes = result.manifest.parts.reduce((sum, p) => sum + p.size, 0);
      const stored = result.manifest.parts.map((p) => ({ key: p.key, versionId: undefined, size: p.size, sha256: p.sha256 }));
      return {
        bytes,
        objects: result.manifest.parts.length + 1,
        manifestKey: result.manifestKey,
        retained: result.retained,
        logExcerpt: `base backup ${result.manifest.id}, WAL ${result.manifest.startWalSegment}..${result.manifest.stopWalSegment}`,
        stored,
      };
    }
  }
}

async function streamed(job: BackupJob, context: ExecutionContext, source: SourceProcess, contentName: string, description: Record<string, string | number | readonly string[]>): Promise<ExecutionResult> {
  const stop = () => source.stop();
  context.signal.addEventListener('abort', stop, { once: true });
  if (context.signal.aborted) source.stop();
  try {
    const stored = await storeStreamedRun({
      client: context.client,
      bucket: job.destination.bucket,
      prefix: job.destination.prefix,
      job: job.name,
      runId: context.runId,
      source,
      sourceDescription: { ...description, kind: job.source.kind },
      contentName,
      clock: context.clock,
      startedMs: context.startedMs,
      partBytes: context.partBytes,
      onStored: context.onStored,
    });
    return { bytes: stored.bytes, objects: stored.objects, manifestKey: stored.manifestKey, retained: stored.retained, logExcerpt: source.logExcerpt(), stored: stored.stored };
  } catch (error) {
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), { logExcerpt: source.logExcerpt() });
  } finally {
    context.signal.removeEventListener('abort', stop);
  }
}

/** Jobs on the same source wait for each other: one dump of a database server at a time. */
export function concurrencyKey(job: BackupJob): string {
  const s = job.source;
  switch (s.kind) {
    case 'mariadb-dump':
      return `mariadb://${s.host}:${s.port}`;
    case 'directory':
      return `directory://${s.path}`;
    case 'mongodump':
      return `mongodb://${s.uri.replace(/^mongodb(\+srv)?:\/\/([^/@]*@)?/, '').split('/')[0]}`;
    case 'pg-base-backup':
    case 'pg-dump':
      // One cluster: a dump and a base backup of it queue behind each other too.
      return `postgresql://${s.connection ?? 'PG* environment'}`;
  }
}
