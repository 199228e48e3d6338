import { join } from 'node:path';
import { ConfigError, type ServerConfig } from '../config/server-config.js';
import type { MetadataStore } from '../domain/ports.js';
import { PostgresMetadataStore } from '../infra/metadata/postgres/postgres-metadata-store.js';
import { leaseSchema, SchemaInUseError } from '../infra/metadata/postgres/schema-lease.js';
import { SqliteMetadataStore } from '../infra/metadata/sqlite/sqlite-metadata-store.js';

/**
 * The vault's metadata store: DATA/metadata/vault.sqlite, or PostgreSQL when metadataPostgresUrl
 * is set. Either way the rest of the server sees one MetadataStore.
 *
 * A PostgreSQL schema serves one server, or any number of cluster nodes (clusterNode), held by
 * an advisory lock for as long as the server runs (exclusive for the one server, shared for
 * cluster nodes). A single server keeps its sealing key in its own data directory, so a second
 * server on the same schema would read secrets it cannot unseal; cluster nodes are configured to
 * share that key (and everything else, see checkClusterNode). Mixing the two is refused both ways
 * at start-up, so a mistaken second single server never joins a schema it cannot serve.
 */
export async function openVaultMetadata(config: ServerConfig, log: { error(message: string, error?: unknown): void }): Promise<{ readonly store: MetadataStore; readonly close: () => Promise<void> }> {
  const url = config.metadataPostgresUrl;
  if (url === undefined) {
    const store = new SqliteMetadataStore(join(config.dataDir, 'metadata', 'vault.sqlite'));
    return { store, close: () => store.close() };
  }
  const schema = config.metadataPostgresSchema;
  let lease;
  try {
    lease = await leaseSchema(
      url,
      schema,
      'vault metadata',
      (e) => log.error(`the connection holding the PostgreSQL metadata schema "${schema}" broke; another server could now claim it`, e),
      config.clusterNode ? 'shared' : 'exclusive',
    );
  } catch (error) {
    if (error instanceof SchemaInUseError) throw new ConfigError(`Invalid configuration: metadataPostgresSchema: ${error.message}`);
    // The URL is not repeated: it may carry a password.
    throw new Error(`Cannot reach the PostgreSQL metadata store (metadataPostgresUrl): ${(error as Error).message}. Fix: check that the server is up and the URL's host, port, user and database.`, { cause: error });
  }
  try {
    const store = await PostgresMetadataStore.open(url, { schema });
    return {
      store,
      close: async () => {
        await store.close();
        await lease.release();
      },
    };
  } catch (error) {
    await lease.release();
    throw error;
  }
}
