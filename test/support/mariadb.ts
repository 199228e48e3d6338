import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { requireTool, runCommand } from './tools.js';

/**
 * The real MariaDB the suite uses (127.0.0.1:3306, root without a password, as .ci/run sets it
 * up; MARIADB_TEST_HOST / MARIADB_TEST_PORT point elsewhere). Tests create their own databases
 * and users with random names and drop them afterwards.
 */
export const MARIADB_HOST = process.env.MARIADB_TEST_HOST ?? '127.0.0.1';
export const MARIADB_PORT = Number(process.env.MARIADB_TEST_PORT ?? 3306);

export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** false when the test was skipped (locally only: under CI a missing MariaDB fails). */
export async function requireMariadb(t: TestContext): Promise<boolean> {
  if (!(await requireTool(t, 'mariadb-dump', ['--version'], 'mariadb-client'))) return false;
  if (!(await requireTool(t, 'mariadb', ['--no-defaults', `--host=${MARIADB_HOST}`, `--port=${MARIADB_PORT}`, '--user=root', '--protocol=TCP', '-e', 'SELECT 1'], 'mariadb-server'))) return false;
  return true;
}

/** Runs SQL as root; returns the rows as tab-separated lines (no header). */
export async function sql(statements: string, database?: string): Promise<string[]> {
  const args = ['--no-defaults', `--host=${MARIADB_HOST}`, `--port=${MARIADB_PORT}`, '--user=root', '--protocol=TCP', '--default-character-set=utf8mb4', '-N', '-B', ...(database === undefined ? [] : [database])];
  const result = await runCommand('mariadb', args, { input: statements, timeoutMs: 120_000 });
  return result.stdout.split('\n').filter((line) => line !== '');
}

/**
 * A session that holds `LOCK TABLES table WRITE` until released: a dump of that table blocks
 * on it, which is how tests make a job run long without waiting for a large database.
 */
export async function holdWriteLock(database: string, table: string): Promise<{ release(): Promise<void> }> {
  const child: ChildProcess = spawn('mariadb', ['--no-defaults', `--host=${MARIADB_HOST}`, `--port=${MARIADB_PORT}`, '--user=root', '--protocol=TCP', '--unbuffered', '-N', '-B', database], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const locked = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes('locked')) resolve();
    });
    void exited.then(() => reject(new Error('the locking session ended before it held the lock')));
  });
  child.stdin!.write(`LOCK TABLES \`${table}\` WRITE; SELECT 'locked'; SELECT SLEEP(600);\n`);
  await locked;
  return {
    async release() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Row count and CHECKSUM TABLE of each table, for comparing a restore with its source. */
export async function tableFingerprints(database: string, tables: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of tables) {
    const [count] = await sql(`SELECT COUNT(*) FROM \`${table}\``, database);
    const [checksum] = await sql(`CHECKSUM TABLE \`${table}\` EXTENDED`, database);
    out[table] = `${count} rows, checksum ${checksum!.split('\t')[1]}`;
  }
  return out;
}
