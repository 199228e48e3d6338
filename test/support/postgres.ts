import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { requireTool } from './tools.js';

/**
 * The real PostgreSQL the suite uses (127.0.0.1:5432, trust, as .ci/run starts it;
 * HOLDFAST_TEST_PG_URL points elsewhere). Tests create databases with random names and drop
 * them afterwards.
 */
export const PG_ADMIN_URL = process.env['HOLDFAST_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** libpq conninfo of the admin URL without dbname, as a job's `source.connection`. */
export function pgJobConnection(): string {
  const url = new URL(PG_ADMIN_URL);
  return `host=${url.hostname} port=${url.port || '5432'} user=${decodeURIComponent(url.username || 'postgres')}`;
}

/** Runs SQL in `database` as the admin user; the rows. */
export async function pgQuery<T>(database: string, text: string): Promise<T[]> {
  const url = new URL(PG_ADMIN_URL);
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
  try {
    await pgQuery('postgres', 'SELECT 1');
    return true;
  } catch (error) {
    const reason = `PostgreSQL at ${PG_ADMIN_URL} is unreachable (${(error as Error).message}); start it as .ci/run does`;
    if (process.env['CI'] === 'true') assert.fail(reason);
    t.skip(reason);
    return false;
  }
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
