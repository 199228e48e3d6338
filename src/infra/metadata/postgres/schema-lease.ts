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
 * How a process holds a schema: `exclusive`, the one server of it; `shared`, one of several
 * cluster nodes. Both are the same advisory lock taken in exclusive or shared mode, so cluster
 * nodes admit each other while a single server and a cluster refuse each other, both ways.
 */
export type SchemaLeaseMode = 'exclusive' | 'shared';

/**
 * Claims a PostgreSQL schema for this process: a session-level advisory lock (PostgreSQL docs,
 * "Advisory Locks") on a connection of its own, held until `release` or until the connection
 * ends — so a process that dies frees the schema with its session, and no stale lock survives it.
 * Refuses at once, rather than waiting, when another session holds it in a conflicting mode.
 */
export async function leaseSchema(
  connection: string,
  schema: string,
  what: string,
  onLost: (error: Error) => void,
  mode: SchemaLeaseMode = 'exclusive',
): Promise<SchemaLease> {
  const client = new pg.Client({ connectionString: connection });
  await client.connect();
  let released = false;
  client.on('error', (error) => {
    if (!released) onLost(error);
  });
  try {
    const lock = mode === 'shared' ? 'pg_try_advisory_lock_shared' : 'pg_try_advisory_lock';
    const { rows } = await client.query<{ locked: boolean }>(`SELECT ${lock}(hashtextextended($1, 0)) AS locked`, [`holdfast:${what}:${schema}`]);
    if (rows[0]?.locked !== true) {
      throw new SchemaInUseError(
        mode === 'shared'
          ? `A single (non-cluster) server holds the PostgreSQL schema "${schema}" for ${what}; cluster nodes cannot join it. Fix: stop the other server and restart it as a cluster node (clusterNode), or give this one another schema.`
          : `Another process holds the PostgreSQL schema "${schema}" for ${what}; each server needs a schema of its own unless all are cluster nodes. Fix: stop the other server, give this one another schema, or set clusterNode on every node sharing it.`,
      );
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
