import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The PostgreSQL client programs a base backup runs (`pg_basebackup`, `psql`), found in the
 * Debian location of PostgreSQL 15 first and then on PATH; and the facts about the cluster the
 * backup needs, read with one `psql` query. The connection is libpq's: the standard PG*
 * environment variables, or a conninfo string (`--pg-connection`) given to both programs.
 */

export const DEBIAN_PG_BIN = '/usr/lib/postgresql/15/bin';

export class PgToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgToolError';
  }
}

/** The cluster could not be asked (down, refused, bad credentials): not a configuration error of holdfast. */
export class PgClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgClusterError';
  }
}

export function findPgTool(name: string, env: NodeJS.ProcessEnv): string {
  const dirs = [env['HOLDFAST_PG_BIN'], DEBIAN_PG_BIN, ...(env['PATH'] ?? '').split(delimiter)].filter((d): d is string => d !== undefined && d !== '');
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here; try the next directory
    }
  }
  throw new PgToolError(`${name} not found in ${DEBIAN_PG_BIN} or on PATH: install the PostgreSQL client programs (apt-get install postgresql-client-15) or set HOLDFAST_PG_BIN to their directory.`);
}

export interface ClusterFacts {
  readonly systemIdentifier: string;
  readonly pgVersion: string;
  readonly pgVersionNum: number;
  readonly walSegmentSize: number;
  readonly archiveMode: string;
  readonly inRecovery: boolean;
  /** The WAL segment being written when asked (primary only): the backup starts in it or later. */
  readonly currentWalFile: string | undefined;
}

export interface FinishedProcess {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_CAPTURED_CHARS = 64 * 1024;

/** Runs a program to its end, capturing (the tail of) its output; bounded by `timeoutMs`. */
export function runToEnd(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<FinishedProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString('utf8')).slice(-MAX_CAPTURED_CHARS)));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-MAX_CAPTURED_CHARS)));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** psql arguments: no psqlrc, unaligned tuples only, stop on the first error, never prompt. */
function psqlArgs(connection: string | undefined, sql: string): string[] {
  return ['-X', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-w', ...(connection === undefined ? [] : ['-d', connection]), '-c', sql];
}

export async function queryClusterFacts(psql: string, connection: string | undefined, env: NodeJS.ProcessEnv): Promise<ClusterFacts> {
  const sql =
    "SELECT system_identifier, current_setting('server_version'), current_setting('server_version_num'), " +
    "(SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'), current_setting('archive_mode'), pg_is_in_recovery(), " +
    "CASE WHEN pg_is_in_recovery() THEN '' ELSE pg_walfile_name(pg_current_wal_lsn()) END " +
    'FROM pg_control_system()';
  const result = await runToEnd(psql, psqlArgs(connection, sql), env, 30_000);
  if (result.code !== 0) throw new PgClusterError(`could not query the cluster with psql (exit ${result.code ?? result.signal}): ${result.stderr.trim()}`);
  const [systemIdentifier, pgVersion, versionNum, segmentSize, archiveMode, inRecovery, currentWalFile] = result.stdout.trim().split('|');
  if (systemIdentifier === undefined || pgVersion === undefined || inRecovery === undefined || !/^\d+$/.test(systemIdentifier)) {
    throw new PgClusterError(`unexpected answer from psql: ${JSON.stringify(result.stdout.slice(0, 200))}`);
  }
  return Object.freeze({
    systemIdentifier,
    pgVersion,
    pgVersionNum: Number(versionNum),
    walSegmentSize: Number(segmentSize),
    archiveMode: archiveMode ?? '',
    inRecovery: inRecovery === 't',
    currentWalFile: currentWalFile === undefined || currentWalFile === '' ? undefined : currentWalFile,
  });
}

/** Closes the current WAL segment so the archiver picks it up (primary only); failures are ignored. */
export async function switchWal(psql: string, connection: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  await runToEnd(psql, psqlArgs(connection, 'SELECT pg_switch_wal()'), env, 30_000).catch(() => undefined);
}
