import { spawn } from 'node:child_process';
import { checkScratchDatabaseName } from './scratch-database-name.js';

export interface MariadbConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs SQL with the `mariadb` client; the rows as tab-separated lines. The password travels as
 * MYSQL_PWD, never on the command line. `signal` kills the client (a drill over its budget).
 */
export function queryMariadb(connection: MariadbConnection, sql: string, database?: string, signal?: AbortSignal): Promise<string[]> {
  const args = ['--no-defaults', `--host=${connection.host}`, `--port=${connection.port}`, `--user=${connection.user}`, '--protocol=TCP', '--default-character-set=utf8mb4', '-N', '-B', ...(database === undefined ? [] : [database])];
  const env: NodeJS.ProcessEnv = { PATH: connection.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...(connection.password === undefined ? {} : { MYSQL_PWD: connection.password }) };
  return new Promise((resolve, reject) => {
    const child = spawn('mariadb', args, { env, stdio: ['pipe', 'pipe', 'pipe'], ...(signal === undefined ? {} : { signal, killSignal: 'SIGKILL' }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
    child.stdin.on('error', () => undefined);
    child.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'ENOENT' ? 'mariadb is not installed (apt-get install mariadb-client)' : e.name === 'AbortError' ? 'stopped: the drill ran over its time budget' : e.message)));
    child.once('close', (code) => (code === 0 ? resolve(stdout.split('\n').filter((l) => l !== '')) : reject(new Error(`mariadb failed (exit ${code}): ${stderr.trim().split('\n').slice(-2).join(' | ')}`))));
    child.stdin.end(sql);
  });
}

/**
 * Drops a drill's scratch database. Its own connections still in it (a probe or a load cut off
 * by the budget or by a crash: the server keeps a statement running after its client died) are
 * killed first, else DROP DATABASE would wait on their metadata locks. A user sees and may kill
 * its own connections without the PROCESS privilege.
 */
export async function dropScratchDatabase(connection: MariadbConnection, database: string): Promise<void> {
  checkScratchDatabaseName(database);
  const ids = await queryMariadb(connection, `SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '${database}' AND ID <> CONNECTION_ID()`);
  for (const id of ids) await queryMariadb(connection, `KILL ${Number(id)}`).catch(() => undefined);
  await queryMariadb(connection, `DROP DATABASE IF EXISTS \`${database}\``);
}
