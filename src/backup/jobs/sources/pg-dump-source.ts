import { pipeline } from 'node:stream';
import type { PgDumpSource } from '../job-config.js';
import { PgArchiveRowCounter } from './pg-archive-row-counter.js';
import { type SourceProcess, spawnSourceTool } from './source-process.js';

/**
 * `pg_dump --format=custom`: one database as a consistent snapshot (pg_dump runs in one
 * REPEATABLE READ / serializable-snapshot transaction; PostgreSQL docs, "pg_dump": "consistent
 * backups even if the database is being used concurrently"), in the archive format pg_restore
 * reads — selective, reorderable restores, large objects included. `--compress=0`: the runner
 * gzips the stream itself (and hashes both forms), compressing twice would only cost CPU.
 *
 * The connection is libpq conninfo from the job plus `dbname`; the password travels as
 * PGPASSWORD in the tool's environment, never on its command line. Other PG* variables of the
 * holdfast process (PGHOST, PGSSLMODE, …) are passed on, as for pg-base-backup jobs.
 */
export function pgDumpArguments(source: PgDumpSource): string[] {
  return ['--format=custom', '--compress=0', '--no-password', `--dbname=${pgConnection(source.connection, source.database)}`];
}

/** A conninfo string for one database; values quoted as libpq wants (`'…'`, `\\` and `\'` escaped). */
export function pgConnection(connection: string | undefined, database: string): string {
  const quoted = `'${database.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return `${connection === undefined ? '' : `${connection} `}dbname=${quoted}`;
}

/** PATH, a UTF-8 locale, the PG* variables of this process and the job's password. */
export function pgToolEnv(env: Readonly<Record<string, string | undefined>>, passwordEnv: string | undefined): NodeJS.ProcessEnv {
  const childEnv: NodeJS.ProcessEnv = { PATH: env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
  for (const [name, value] of Object.entries(env)) if (name.startsWith('PG') && value !== undefined) childEnv[name] = value;
  delete childEnv['PGPASSWORD'];
  if (passwordEnv !== undefined) childEnv['PGPASSWORD'] = env[passwordEnv] ?? '';
  return childEnv;
}

export function startPgDump(source: PgDumpSource, env: Readonly<Record<string, string | undefined>>): SourceProcess {
  const tool = spawnSourceTool('pg_dump', pgDumpArguments(source), pgToolEnv(env, source.passwordEnv), 'apt-get install postgresql-client');
  // Rows per table, counted from the archive as it passes (pg-archive-row-counter.ts), for drills.
  const counter = new PgArchiveRowCounter();
  pipeline(tool.output, counter, () => undefined);
  return {
    ...tool,
    output: counter,
    recorded: () => {
      const counts = counter.counts();
      return counts === undefined ? { rowCountsProblem: counter.problem() ?? 'the archive could not be counted' } : { rowCounts: counts };
    },
  };
}

export function describePgDumpSource(source: PgDumpSource): Record<string, string | number | readonly string[]> {
  return { kind: source.kind, connection: source.connection ?? '', database: source.database };
}
