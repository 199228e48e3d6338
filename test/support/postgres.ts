import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { requireTool } from './tools.js';

/** The PostgreSQL server the suite uses (.ci/run starts one at 127.0.0.1:5432, trust auth). */
export const POSTGRES_TEST_URL = process.env['HOLDFAST_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Why PostgreSQL cannot be used, or undefined when it answers. */
export async function postgresUnreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL is not reachable at ${POSTGRES_TEST_URL} (${error instanceof Error ? error.message : String(error)}); start it as .ci/run does, or point HOLDFAST_TEST_PG_URL at a server`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh schema name for one test; `drop` removes it and all it holds. */
export function scratchSchema(prefix: string): { readonly schema: string; query<T extends pg.QueryResultRow>(sql: string): Promise<T[]>; drop(): Promise<void> } {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const run = async <T extends pg.QueryResultRow>(sql: string): Promise<T[]> => {
    const client = new pg.Client({ connectionString: POSTGRES_TEST_URL });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    schema,
    query: run,
    drop: async () => {
      await run(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    },
  };
}

/** libpq conninfo of the test server without dbname, as a job's `source.connection`. */
export function pgJobConnection(): string {
  const url = new URL(POSTGRES_TEST_URL);
  return `host=${url.hostname} port=${url.port || '5432'} user=${decodeURIComponent(url.username || 'postgres')}`;
}

/** Runs SQL in `database` as the test server's user; the rows. */
export async function pgQuery<T>(database: string, text: string): Promise<T[]> {
  const url = new URL(POSTGRES_TEST_URL);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** false when the test was skipped (locally only: under CI an unreachable server or a missing client tool fails). */
export async function requirePostgres(t: TestContext, tools: readonly string[] = ['pg_dump', 'pg_restore', 'psql']): Promise<boolean> {
  for (const tool of tools) if (!(await requireTool(t, tool, ['--version'], 'postgresql-client'))) return false;
  const unreachable = await postgresUnreachable();
  if (unreachable === undefined) return true;
  if (process.env['CI'] === 'true') assert.fail(unreachable);
  t.skip(unreachable);
  return false;
}

/** A new empty database with a random name; `drop()` removes it, its connections included. */
export async function createPgDatabase(prefix: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await pgQuery('postgres', `CREATE DATABASE ${name}`);
  return { name, drop: () => pgQuery('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined) };
}

/** The databases whose names start with `prefix`. */
export async function pgDatabasesLike(prefix: string): Promise<string[]> {
  const rows = await pgQuery<{ datname: string }>('postgres', `SELECT datname FROM pg_database WHERE starts_with(datname, '${prefix.replaceAll("'", "''")}') ORDER BY datname`);
  return rows.map((r) => r.datname);
}
