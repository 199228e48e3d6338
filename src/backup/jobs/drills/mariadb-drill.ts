import type { MariadbDumpSource } from '../job-config.js';
import type { DrillConfig } from '../drill-config.js';
import type { JobRunManifest } from '../job-run-manifest.js';
import { restoreMariadbRun } from '../job-restore.js';
import type { DrillCheck } from './drill-record.js';
import { type KindDrillContext, type KindDrillResult, message } from './kind-drill.js';
import { dropScratchDatabase, type MariadbConnection, queryMariadb } from './mariadb-query.js';
import { scratchDatabaseName } from './scratch-database-name.js';

/**
 * A drill of a single-database dump: a scratch database `holdfast_drill_<id>` on the same
 * MariaDB server, the run streamed into it through the verified restore (every part, the gzip
 * stream and the content checked against the manifest), then the checks — per-table row counts
 * equal to those the dump recorded at backup time, and the job's SQL probes — and the scratch
 * database dropped, whatever happened.
 */
export async function drillMariadbRun(source: MariadbDumpSource, drill: DrillConfig, bucket: string, manifest: JobRunManifest, context: KindDrillContext): Promise<KindDrillResult> {
  const database = scratchDatabaseName(context.id);
  const passwordEnv = drill.passwordEnv ?? (drill.user === undefined ? source.passwordEnv : undefined);
  const connection: MariadbConnection = {
    host: source.host,
    port: source.port,
    user: drill.user ?? source.user,
    password: passwordEnv === undefined ? undefined : context.env[passwordEnv],
    env: context.env,
  };
  const target = `MariaDB ${source.host}:${source.port}, scratch database ${database} as ${connection.user} (dropped afterwards)`;
  const checks: DrillCheck[] = [];
  let usableMs: number | undefined;
  await context.track({ kind: 'mariadb-database', host: connection.host, port: connection.port, user: connection.user, passwordEnv, database });
  const { signal } = context;
  try {
    context.onStep(`loading run ${manifest.runId} into ${database}`);
    try {
      const restored = await restoreMariadbRun(context.client, bucket, manifest, { host: connection.host, port: connection.port, user: connection.user, password: connection.password, database }, { ...context.env }, signal);
      usableMs = context.clock.nowMs();
      checks.push({ name: 'restore', outcome: 'passed', detail: `${manifest.parts.length} parts and ${restored.bytes} bytes of SQL verified against the manifest and loaded` });
    } catch (error) {
      checks.push({ name: 'restore', outcome: 'failed', detail: message(error) });
      return { checks, usableMs, newestRestorableMs: undefined, objects: [], target };
    }
    context.onStep('comparing row counts');
    checks.push(await rowCountCheck(connection, database, manifest, signal));
    for (const probe of drill.probes) {
      context.onStep(`probe ${probe.name}`);
      checks.push(await probeCheck(connection, database, probe, signal));
    }
  } finally {
    // Dropped even when the load failed half-way or the budget ran out: a drill must not leave data behind.
    context.onStep(`dropping ${database}`);
    await dropScratchDatabase(connection, database).catch(() => undefined);
  }
  return { checks, usableMs, newestRestorableMs: Date.parse(manifest.startedAt), objects: [], target };
}

async function rowCountCheck(connection: MariadbConnection, database: string, manifest: JobRunManifest, signal: AbortSignal): Promise<DrillCheck> {
  const recorded = manifest.recorded?.rowCounts;
  if (recorded === undefined) return { name: 'row counts', outcome: 'failed', detail: `run ${manifest.runId} recorded no row counts (it predates them); run the job again and drill the new run` };
  try {
    const tables = await queryMariadb(connection, `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database}' AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`, undefined, signal);
    const restored: Record<string, number> = {};
    for (const table of tables) {
      const [count] = await queryMariadb(connection, `SELECT COUNT(*) FROM \`${table.replaceAll('`', '``')}\``, database, signal);
      restored[table] = Number(count);
    }
    const problems: string[] = [];
    for (const [table, rows] of Object.entries(recorded)) {
      if (restored[table] === undefined) problems.push(`table ${table} is missing (${rows} rows recorded)`);
      else if (restored[table] !== rows) problems.push(`table ${table} has ${restored[table]} rows, the backup recorded ${rows}`);
    }
    for (const table of Object.keys(restored)) if (recorded[table] === undefined) problems.push(`table ${table} was not in the backup's record`);
    const total = Object.values(recorded).reduce((a, b) => a + b, 0);
    if (problems.length === 0) return { name: 'row counts', outcome: 'passed', detail: `${Object.keys(recorded).length} tables, ${total} rows, as recorded at backup time` };
    return { name: 'row counts', outcome: 'failed', detail: problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '') };
  } catch (error) {
    return { name: 'row counts', outcome: 'failed', detail: message(error) };
  }
}

async function probeCheck(connection: MariadbConnection, database: string, probe: { name: string; sql: string }, signal: AbortSignal): Promise<DrillCheck> {
  const name = `probe ${probe.name}`;
  try {
    const [first] = await queryMariadb(connection, probe.sql, database, signal);
    const value = first?.split('\t')[0];
    // Truthy as SQL sees it: not NULL, not 0, not the empty string.
    if (value !== undefined && value !== 'NULL' && value !== '' && !/^[-+]?0*(\.0*)?$/.test(value)) return { name, outcome: 'passed', detail: `returned ${value.slice(0, 100)}` };
    return { name, outcome: 'failed', detail: value === undefined ? 'returned no rows' : `returned ${value.slice(0, 100) || "''"}, not a true value` };
  } catch (error) {
    return { name, outcome: 'failed', detail: message(error) };
  }
}

