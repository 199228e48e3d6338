import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { MONGODB_TOOLS_INSTALL_HINT } from '../sources/mongodb-tools.js';
import { checkScratchDatabaseName } from './scratch-database-name.js';

/**
 * The MongoDB side of a mongodump drill: the tools it needs, and dropping its scratch database.
 * NOT exercised on the build machine (it has no MongoDB); what is tested is that a drill without
 * the tools fails with what to install.
 */

/** mongorestore loads the archive; mongosh drops the scratch database afterwards (the legacy `mongo` shell cannot read the password from the environment). */
export const MONGO_DRILL_TOOLS = ['mongorestore', 'mongosh'] as const;

/** Resolves when every tool a mongodump drill needs is on PATH; otherwise rejects naming the missing ones and where to get them. */
export async function requireMongoDrillTools(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const dirs = (env['PATH'] ?? '/usr/bin:/bin').split(':').filter((d) => d !== '');
  const missing: string[] = [];
  for (const tool of MONGO_DRILL_TOOLS) {
    const found = await Promise.any(dirs.map((dir) => access(join(dir, tool), constants.X_OK))).then(
      () => true,
      () => false,
    );
    if (!found) missing.push(tool);
  }
  if (missing.length > 0) {
    const shell = missing.includes('mongosh') ? ' mongosh: apt-get install mongodb-mongosh from the same repository.' : '';
    throw new Error(`a mongodump drill needs ${missing.join(' and ')}, not found on PATH: ${MONGODB_TOOLS_INSTALL_HINT}.${shell}`);
  }
}

/**
 * Drops a mongodump drill's scratch database with mongosh. The URI with its password goes to
 * mongosh in its environment, read by the script (mongosh exposes process.env), never on the
 * command line.
 */
export function dropMongoScratchDatabase(uri: string, password: string | undefined, database: string, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  checkScratchDatabaseName(database);
  const withPassword = new URL(uri);
  if (password !== undefined) withPassword.password = password;
  const script = 'const m = new Mongo(process.env.HOLDFAST_MONGO_URI); m.getDB(process.env.HOLDFAST_MONGO_DATABASE).dropDatabase();';
  return new Promise((resolve, reject) => {
    const child = spawn('mongosh', ['--nodb', '--quiet', '--norc', '--eval', script], {
      env: { PATH: env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOLDFAST_MONGO_URI: withPassword.toString(), HOLDFAST_MONGO_DATABASE: database },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-2000)));
    child.once('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code === 'ENOENT' ? `mongosh is not installed: ${MONGODB_TOOLS_INSTALL_HINT}` : e.message)));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`mongosh failed (exit ${code}): ${stderr.trim().split('\n').slice(-2).join(' | ')}`))));
  });
}
