import pg from 'pg';
import type { ConfigItem } from '../config-item.js';
import { attributeRecord, sha256Hex } from '../attribute-values.js';

/**
 * A PostgreSQL server's security-relevant configuration, read over a real connection with the
 * privileges the connection has:
 *
 * - settings from `pg_settings` (https://www.postgresql.org/docs/current/view-pg-settings.html):
 *   TLS, password hashing, connection logging, where it listens, WAL archiving; `archive_command`
 *   only as set / not set and a fingerprint, since it may carry a credential;
 * - the client authentication rules from `pg_hba_file_rules`
 *   (https://www.postgresql.org/docs/current/view-pg-hba-file-rules.html; superusers only unless
 *   EXECUTE on pg_hba_file_rules() is granted), in file order, since the first matching line decides;
 * - the roles that are superusers, and those that may create roles.
 *
 * What the connection may not read is recorded as `{ readable: false, reason }` instead of failing
 * the collection.
 */
export const POSTGRES_SETTINGS = [
  'ssl',
  'ssl_min_protocol_version',
  'password_encryption',
  'log_connections',
  'log_disconnections',
  'log_statement',
  'listen_addresses',
  'port',
  'archive_mode',
  'wal_level',
  'row_security',
  'shared_preload_libraries',
  'server_version_num',
] as const;

export class PostgresCollectError extends Error {
  override readonly name = 'PostgresCollectError';
}

/** host:port/database of a connection string, for ids and messages: never the user or password. */
export function describeConnection(connectionString: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (connectionString !== undefined && /^postgres(?:ql)?:\/\//.test(connectionString)) {
    try {
      const url = new URL(connectionString);
      const host = url.hostname || url.searchParams.get('host') || env.PGHOST || 'localhost';
      return `${host}:${url.port || env.PGPORT || '5432'}${url.pathname.length > 1 ? url.pathname : `/${env.PGDATABASE ?? ''}`}`;
    } catch {
      return '(unparsable connection string)';
    }
  }
  const keywords = new Map((connectionString ?? '').split(/\s+/).filter((part) => part.includes('=')).map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)]));
  return `${keywords.get('host') ?? env.PGHOST ?? 'localhost'}:${keywords.get('port') ?? env.PGPORT ?? '5432'}/${keywords.get('dbname') ?? env.PGDATABASE ?? ''}`;
}

function setting(name: string, value: unknown, serverName: string, source: string): ConfigItem {
  return Object.freeze({ component: 'database' as const, resourceId: `postgresql:${serverName}/${name}`, kind: 'postgresql_setting', source, attributes: attributeRecord({ name, value }) });
}

async function readable<T>(what: () => Promise<T>): Promise<{ readable: true; value: T } | { readable: false; reason: string }> {
  try {
    return { readable: true, value: await what() };
  } catch (error) {
    const code = (error as { code?: string }).code;
    // 42501 insufficient_privilege: the connection's role may not read it; anything else is a failure.
    if (code === '42501') return { readable: false, reason: (error as Error).message };
    throw error;
  }
}

/**
 * Items of the server `connectionString` names (libpq URL or key=value; PG* environment variables
 * fill the rest, as libpq does). `serverName` prefixes resource ids; by default host:port.
 */
export async function postgresItems(connectionString: string | undefined, serverName?: string, connectTimeoutMs = 10_000): Promise<{ items: ConfigItem[]; location: string }> {
  const location = describeConnection(connectionString);
  const name = serverName ?? location.replace(/\/.*$/, '');
  const source = `postgresql://${location}`;
  const client = new pg.Client({ ...(connectionString === undefined ? {} : { connectionString }), connectionTimeoutMillis: connectTimeoutMs });
  try {
    await client.connect();
  } catch (error) {
    throw new PostgresCollectError(`cannot connect to PostgreSQL at ${location}: ${(error as Error).message}. Check the host, port and user (the password comes from PGPASSWORD or ~/.pgpass, not the command line).`);
  }
  try {
    const items: ConfigItem[] = [];
    const settings = await client.query<{ name: string; setting: string }>('SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name', [[...POSTGRES_SETTINGS, 'archive_command']]);
    for (const row of settings.rows) {
      if (row.name === 'archive_command') {
        const set = row.setting !== '' && row.setting !== '(disabled)';
        items.push(setting('archive_command', { set, sha256: set ? `sha256:${sha256Hex(row.setting)}` : null }, name, source));
      } else items.push(setting(row.name, row.setting, name, source));
    }
    const hba = await readable(async () => (await client.query<Record<string, unknown>>('SELECT line_number, type, database, user_name, address, netmask, auth_method, options, error FROM pg_hba_file_rules ORDER BY line_number')).rows);
    items.push(
      Object.freeze({
        component: 'database' as const,
        resourceId: `postgresql:${name}/hba`,
        kind: 'postgresql_hba',
        source,
        attributes: attributeRecord(
          hba.readable
            ? {
                readable: true,
                // Line numbers are left out: moving a comment is not a change; the order is kept.
                rules: hba.value.map((rule) => ({ type: rule.type, database: rule.database, user: rule.user_name, address: rule.address ?? null, netmask: rule.netmask ?? null, method: rule.auth_method, options: rule.options ?? null, error: rule.error ?? null })),
              }
            : { readable: false, reason: hba.reason },
        ),
      }),
    );
    const roles = await client.query<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean }>("SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE (rolsuper OR rolcreaterole) AND rolname NOT LIKE 'pg\\_%' ORDER BY rolname");
    items.push(
      Object.freeze({
        component: 'database' as const,
        resourceId: `postgresql:${name}/roles`,
        kind: 'postgresql_roles',
        source,
        attributes: attributeRecord({ superusers: roles.rows.filter((row) => row.rolsuper).map((row) => row.rolname), createRole: roles.rows.filter((row) => row.rolcreaterole && !row.rolsuper).map((row) => row.rolname) }),
      }),
    );
    return { items, location: source };
  } finally {
    await client.end();
  }
}
