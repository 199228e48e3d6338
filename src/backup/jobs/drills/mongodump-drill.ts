import type { MongodumpSource } from '../job-config.js';
import { restoreMongodumpRun } from '../job-restore.js';
import type { JobRunManifest } from '../job-run-manifest.js';
import type { DrillCheck } from './drill-record.js';
import { type KindDrillContext, type KindDrillResult, message } from './kind-drill.js';
import { dropMongoScratchDatabase } from './mongo-scratch-database.js';
import { scratchDatabaseName } from './scratch-database-name.js';

/**
 * A drill of a one-database mongodump job: the archive streamed through the verified restore
 * into `mongorestore --archive --nsFrom 'DB.*' --nsTo 'holdfast_drill_<id>.*'` on the job's own
 * deployment, its exit status checked, and the scratch database dropped with mongosh. The
 * checks stop at "mongorestore loaded it cleanly": no document counts are recorded at backup
 * time (the archive format is not read here) and probes are SQL. Untested on the build machine,
 * which has no MongoDB (see mongo-scratch-database.ts); job-drill.ts checks the tools first.
 */
export async function drillMongodumpRun(source: MongodumpSource, bucket: string, manifest: JobRunManifest, context: KindDrillContext): Promise<KindDrillResult> {
  const database = scratchDatabaseName(context.id);
  const password = source.passwordEnv === undefined ? undefined : (context.env[source.passwordEnv] ?? '');
  const target = `MongoDB ${new URL(source.uri).host}, scratch database ${database} (dropped afterwards)`;
  const checks: DrillCheck[] = [];
  let usableMs: number | undefined;
  await context.track({ kind: 'mongo-database', uri: source.uri, passwordEnv: source.passwordEnv, database });
  try {
    context.onStep(`restoring run ${manifest.runId} into ${database} with mongorestore`);
    const restored = await restoreMongodumpRun(context.client, bucket, manifest, { uri: source.uri, password, database }, { ...context.env }, context.signal);
    usableMs = context.clock.nowMs();
    checks.push({ name: 'restore', outcome: 'passed', detail: `${manifest.parts.length} parts and ${restored.bytes} bytes of archive verified against the manifest; mongorestore exited cleanly` });
  } catch (error) {
    checks.push({ name: 'restore', outcome: 'failed', detail: message(error) });
  } finally {
    context.onStep(`dropping ${database}`);
    await dropMongoScratchDatabase(source.uri, password, database, context.env).catch(() => undefined);
  }
  return { checks, usableMs, newestRestorableMs: usableMs === undefined ? undefined : Date.parse(manifest.startedAt), objects: [], target };
}
