import type { MariadbDumpSource } from '../job-config.js';
import { pipeline } from 'node:stream';
import { DumpRowCounter } from './dump-row-counter.js';
import { type SourceProcess, spawnSourceTool } from './source-process.js';

/**
 * `mariadb-dump --single-transaction`: a consistent snapshot of InnoDB tables without locking
 * them (MariaDB docs, "mariadb-dump": --single-transaction starts a REPEATABLE READ transaction
 * and dumps from it), with stored routines, triggers and events. One database is dumped
 * without --databases, so the dump has no CREATE DATABASE / USE and restores under any name;
 * several (or all) are dumped with their CREATE DATABASE statements.
 *
 * `--no-defaults`: host, port and user come from the job, not from a my.cnf on this host.
 * The password travels in the tool's environment (MYSQL_PWD, which the MariaDB client reads),
 * never on its command line, where `ps` would show it.
 */
export function dumpArguments(source: MariadbDumpSource): string[] {
  const args = [
    // First, or it has no effect: option files on this host must not change what is dumped.
    '--no-defaults',
    `--host=${source.host}`,
    `--port=${source.port}`,
    `--user=${source.user}`,
    '--protocol=TCP',
    '--single-transaction',
    '--routines',
    '--triggers',
    '--events',
    '--hex-blob',
    '--default-character-set=utf8mb4',
  ];
  if (source.databases === 'all') args.push('--all-databases');
  else if (source.databases.length === 1) args.push(source.databases[0]!);
  else args.push('--databases', ...source.databases);
  return args;
}

export function startMariadbDump(source: MariadbDumpSource, env: Readonly<Record<string, string | undefined>>): SourceProcess {
  const childEnv: NodeJS.ProcessEnv = { PATH: env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
  if (source.passwordEnv !== undefined) childEnv['MYSQL_PWD'] = env[source.passwordEnv] ?? '';
  const tool = spawnSourceTool('mariadb-dump', dumpArguments(source), childEnv, 'apt-get install mariadb-client');
  // Rows per table, counted from the dump as it passes (see dump-row-counter.ts), for drills.
  const counter = new DumpRowCounter();
  pipeline(tool.output, counter, () => undefined);
  return { ...tool, output: counter, recorded: () => ({ rowCounts: counter.counts() }) };
}

export function describeMariadbSource(source: MariadbDumpSource): Record<string, string | number | readonly string[]> {
  return { kind: source.kind, host: source.host, port: source.port, user: source.user, databases: source.databases === 'all' ? 'all' : source.databases };
}
