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
 * A PostgreSQL schema serves one server at a time, held by an advisory lock for as long as the
 * server runs: what it stores (sealed access-key secrets, the audit chain's node id) belongs to
 * the keys in its own data directory, so a second server on the same schema would read secrets
 * it cannot unseal and sign a chain under another's name. It is refused at start-up instead.
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
    lease = await leaseSchema(url, schema, 'vault metadata', (e) => log.error(`the connection holding the PostgreSQL metadata schema "${schema}" broke; another server could now claim it`, e));
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
