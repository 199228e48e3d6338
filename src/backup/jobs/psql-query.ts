import { spawn } from 'node:child_process';

/** psql failed or could not start; the message says which and why. */
export class PsqlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PsqlError';
  }
}

/**
 * Runs SQL with `psql` (no psqlrc, never a password prompt, stopping at the first error) against
 * a libpq conninfo that names the database; resolves with the rows, one line each, the columns
 * separated by a tab. The password travels as PGPASSWORD in `env` (pg-dump-source.ts pgToolEnv),
 * never on the command line. `signal` kills psql (a drill over its budget); the statement it
 * started may go on in the server until its backend notices, which is why a drill's scratch
 * database is dropped only after its connections are terminated.
 */
export function queryPsql(connection: string, sql: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<string[]> {
  const args = ['--no-psqlrc', '--no-password', '--tuples-only', '--no-align', '--field-separator=\t', '--set=ON_ERROR_STOP=1', '--quiet', `--dbname=${connection}`, '--command', sql];
  return new Promise((resolve, reject) => {
    const child = spawn('psql', args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...(signal === undefined ? {} : { signal, killSignal: 'SIGKILL' }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new PsqlError(e.code === 'ENOENT' ? 'psql is not installed (apt-get install postgresql-client)' : e.name === 'AbortError' ? 'stopped: the drill was stopped' : e.message)),
    );
    child.once('close', (code) => (code === 0 ? resolve(stdout.split('\n').filter((l) => l !== '')) : reject(new PsqlError(`psql failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

/** A string literal for SQL (standard_conforming_strings: only quotes are doubled). */
export function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier. */
export function sqlIdentifier(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}
