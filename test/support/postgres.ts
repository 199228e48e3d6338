import { randomBytes } from 'node:crypto';
import pg from 'pg';

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
