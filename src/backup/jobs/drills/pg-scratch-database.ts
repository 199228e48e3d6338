import { pgConnection, pgToolEnv } from '../sources/pg-dump-source.js';
import { queryPsql, sqlLiteral } from '../psql-query.js';
import { checkScratchDatabaseName } from './scratch-database-name.js';

/** Where a pg-dump drill's scratch database lives: the job's server, as the drill's user. No secrets: the password is named by its variable. */
export interface PgScratchServer {
  /** libpq conninfo without dbname (undefined: the PG* environment alone). */
  readonly connection: string | undefined;
  readonly passwordEnv: string | undefined;
}

/** The conninfo with `user` set; a later keyword wins in libpq conninfo, so it overrides one already there. */
export function conninfoWithUser(connection: string | undefined, user: string): string {
  const quoted = `'${user.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return `${connection === undefined ? '' : `${connection} `}user=${quoted}`;
}

/**
 * Drops a drill's scratch database on PostgreSQL. Its connections are terminated first: a
 * probe or a pg_restore cut off by the budget or by a crash leaves a backend that goes on until
 * it notices its client is gone, and DROP DATABASE refuses while anyone is connected (PostgreSQL
 * docs, "DROP DATABASE"). A role may terminate its own backends without superuser
 * (pg_terminate_backend, "Server Signaling Functions"). Two statements, not one: DROP DATABASE
 * cannot run inside the transaction psql would wrap them in. Idempotent.
 */
export async function dropPgScratchDatabase(server: PgScratchServer, database: string, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  checkScratchDatabaseName(database);
  const maintenance = pgConnection(server.connection, 'postgres');
  const childEnv = pgToolEnv(env, server.passwordEnv);
  const terminate = `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ${sqlLiteral(database)} AND pid <> pg_backend_pid()`;
  await queryPsql(maintenance, terminate, childEnv);
  try {
    await queryPsql(maintenance, `DROP DATABASE IF EXISTS ${database}`, childEnv);
  } catch {
    // A backend still on its way out after the 5 s DROP DATABASE waits for it: once more.
    await queryPsql(maintenance, terminate, childEnv);
    await queryPsql(maintenance, `DROP DATABASE IF EXISTS ${database}`, childEnv);
  }
}

/**
 * `host=db port=5432 user=drill` → `db:5432 as drill`, for records and logs. Only these
 * keywords are shown (a conninfo may carry others); the last of each wins, as in libpq.
 */
export function describeConninfo(connection: string | undefined): string {
  const last = (key: string) => [...(connection ?? '').matchAll(new RegExp(`(?:^|\\s)${key}\\s*=\\s*('(?:[^'\\\\]|\\\\.)*'|\\S+)`, 'g'))].at(-1)?.[1]?.replace(/^'(.*)'$/, '$1');
  const user = last('user');
  return `${last('host') ?? 'the default host'}:${last('port') ?? '5432'}${user === undefined ? '' : ` as ${user}`}`;
}
