import type { DrillConfig } from '../drill-config.js';
import type { PgDumpSource } from '../job-config.js';
import { restorePgDumpRun } from '../job-restore.js';
import type { JobRunManifest } from '../job-run-manifest.js';
import { queryPsql, sqlIdentifier } from '../psql-query.js';
import { pgConnection, pgToolEnv } from '../sources/pg-dump-source.js';
import type { DrillCheck } from './drill-record.js';
import { type KindDrillContext, type KindDrillResult, message } from './kind-drill.js';
import { conninfoWithUser, describeConninfo, dropPgScratchDatabase, type PgScratchServer } from './pg-scratch-database.js';
import { scratchDatabaseName } from './scratch-database-name.js';

/**
 * A drill of a pg-dump job: a scratch database `holdfast_drill_<id>` on the job's PostgreSQL
 * server (created empty from template0 by the drill's user, who owns it), the run streamed
 * through the verified restore into `pg_restore --single-transaction --exit-on-error --no-owner`
 * (every part, the gzip stream and the archive checked against the manifest; pg_restore's exit
 * status and stderr decide), then the checks — every table's row count equal to the rows the
 * archive held at backup time (counted from the COPY data as the dump streamed, see
 * pg-archive-row-counter.ts), no table the archive did not have, and the job's SQL probes in the
 * scratch database — and the database dropped, whatever happened.
 *
 * RPO is the age of the dump's snapshot: pg_dump takes it as it starts, so the run's start.
 */
export async function drillPgDumpRun(source: PgDumpSource, drill: DrillConfig, bucket: string, manifest: JobRunManifest, context: KindDrillContext): Promise<KindDrillResult> {
  const database = scratchDatabaseName(context.id);
  const server: PgScratchServer = {
    connection: drill.user === undefined ? source.connection : conninfoWithUser(source.connection, drill.user),
    passwordEnv: drill.passwordEnv ?? (drill.user === undefined ? source.passwordEnv : undefined),
  };
  const target = `PostgreSQL ${describeConninfo(server.connection)}, scratch database ${database} (dropped afterwards)`;
  const checks: DrillCheck[] = [];
  let usableMs: number | undefined;
  const { signal } = context;
  await context.track({ kind: 'pg-database', connection: server.connection, passwordEnv: server.passwordEnv, database });
  const query = (sql: string) => queryPsql(pgConnection(server.connection, database), sql, pgToolEnv(context.env, server.passwordEnv), signal);
  try {
    context.onStep(`restoring run ${manifest.runId} into ${database} with pg_restore`);
    try {
      const restored = await restorePgDumpRun(context.client, bucket, manifest, { connection: server.connection, passwordEnv: server.passwordEnv, database }, { ...context.env }, signal);
      usableMs = context.clock.nowMs();
      checks.push({ name: 'restore', outcome: 'passed', detail: `${manifest.parts.length} parts and ${restored.bytes} bytes of archive verified against the manifest; pg_restore exited cleanly` });
    } catch (error) {
      checks.push({ name: 'restore', outcome: 'failed', detail: message(error) });
      return { checks, usableMs, newestRestorableMs: undefined, objects: [], target };
    }
    context.onStep('comparing row counts');
    checks.push(await rowCountCheck(query, manifest));
    for (const probe of drill.probes) {
      context.onStep(`probe ${probe.name}`);
      checks.push(await probeCheck(query, probe));
    }
  } finally {
    // Dropped even when the restore failed half-way or the budget ran out: a drill must not leave data behind.
    context.onStep(`dropping ${database}`);
    await dropPgScratchDatabase(server, database, context.env).catch(() => undefined);
  }
  return { checks, usableMs, newestRestorableMs: Date.parse(manifest.startedAt), objects: [], target };
}

type Query = (sql: string) => Promise<string[]>;

/**
 * Ordinary tables of the restored database (`relkind 'r'`: partitions hold the rows, their
 * partitioned parent none), names hex-encoded so that no character in them can break the
 * output; tables that belong to an extension are marked, for CREATE EXTENSION makes them, not
 * the archive.
 */
const RESTORED_TABLES = `
  SELECT encode(convert_to(n.nspname, 'UTF8'), 'hex'), encode(convert_to(c.relname, 'UTF8'), 'hex'),
         EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  ORDER BY 1, 2`;

async function rowCountCheck(query: Query, manifest: JobRunManifest): Promise<DrillCheck> {
  const recorded = manifest.recorded?.rowCounts;
  if (recorded === undefined) {
    const why = manifest.recorded?.rowCountsProblem;
    return { name: 'row counts', outcome: 'failed', detail: why === undefined ? `run ${manifest.runId} recorded no row counts (it predates them); run the job again and drill the new run` : `run ${manifest.runId} recorded no row counts: ${why}` };
  }
  try {
    const tables = (await query(RESTORED_TABLES)).map((line) => {
      const [schema, table, extension] = line.split('\t');
      const text = (hex: string | undefined) => Buffer.from(hex ?? '', 'hex').toString('utf8');
      return { schema: text(schema), table: text(table), extension: extension === 't' };
    });
    const restored = new Map<string, { rows: number; extension: boolean }>();
    if (tables.length > 0) {
      // One statement for all tables; `FROM ONLY`: an inheritance parent's own rows, as the archive holds them.
      const counts = await query(tables.map((t, i) => `SELECT ${i}, count(*) FROM ONLY ${sqlIdentifier(t.schema)}.${sqlIdentifier(t.table)}`).join(' UNION ALL '));
      for (const line of counts) {
        const [index, rows] = line.split('\t');
        const t = tables[Number(index)]!;
        restored.set(`${t.schema}.${t.table}`, { rows: Number(rows), extension: t.extension });
      }
    }
    const problems: string[] = [];
    for (const [table, rows] of Object.entries(recorded)) {
      const found = restored.get(table);
      if (found === undefined) problems.push(`table ${table} is missing (${rows} rows recorded)`);
      else if (found.rows !== rows) problems.push(`table ${table} has ${found.rows} rows, the backup recorded ${rows}`);
    }
    for (const [table, found] of restored) if (recorded[table] === undefined && !found.extension) problems.push(`table ${table} was not in the backup's record`);
    const total = Object.values(recorded).reduce((a, b) => a + b, 0);
    if (problems.length === 0) return { name: 'row counts', outcome: 'passed', detail: `${Object.keys(recorded).length} tables, ${total} rows, as recorded at backup time` };
    return { name: 'row counts', outcome: 'failed', detail: problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '') };
  } catch (error) {
    return { name: 'row counts', outcome: 'failed', detail: message(error) };
  }
}

/** The first column of the first row must be true (`t`), as for pg-base-backup probes. */
async function probeCheck(query: Query, probe: { name: string; sql: string }): Promise<DrillCheck> {
  const name = `probe ${probe.name}`;
  try {
    const [first] = await query(probe.sql);
    const value = first?.split('\t')[0];
    if (value === 't') return { name, outcome: 'passed', detail: 'returned true' };
    return { name, outcome: 'failed', detail: value === undefined ? 'returned no rows' : `returned ${JSON.stringify(value.slice(0, 100))}, not true` };
  } catch (error) {
    return { name, outcome: 'failed', detail: message(error) };
  }
}
