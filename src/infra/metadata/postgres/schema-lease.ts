import pg from 'pg';

/** Another process holds the schema; the message names it and what to do. */
export class SchemaInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaInUseError';
  }
}

export interface SchemaLease {
  /** Ends the session, which releases the lock. */
  release(): Promise<void>;
}

/**
 * Claims a PostgreSQL schema for this process: a session-level advisory lock (PostgreSQL docs,
 * "Advisory Locks") on a connection of its own, held until `release` or until the connection
 * ends — so a process that dies frees the schema with its session, and no stale lock survives it.
 * Refuses at once, rather than waiting, when another session holds it.
 */
export async function leaseSchema(connection: string, schema: string, what: string, onLost: (error: Error) => void): Promise<SchemaLease> {
  const client = new pg.Client({ connectionString: connection });
  await client.connect();
  let released = false;
  client.on('error', (error) => {
    if (!released) onLost(error);
  });
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [`holdfast:${what}:${schema}`]);
    if (rows[0]?.locked !== true) {
      throw new SchemaInUseError(`Another process holds the PostgreSQL schema "${schema}" for ${what}; each server needs a schema of its own. Fix: stop the other server, or give this one another schema.`);
    }
  } catch (error) {
    released = true;
    await client.end();
    throw error;
  }
  return {
    release: async () => {
      released = true;
      await client.end();
    },
  };
}
