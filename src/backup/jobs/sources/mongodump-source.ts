import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MongodumpSource } from '../job-config.js';
import { MONGODB_TOOLS_INSTALL_HINT } from './mongodb-tools.js';
import { type SourceProcess, spawnSourceTool } from './source-process.js';

/**
 * `mongodump --archive`: the whole deployment or one database as one archive stream on stdout
 * (MongoDB Database Tools docs, "mongodump --archive": "writes the output to the standard
 * output" when given without a file). No `--gzip`: the runner gzips the stream itself.
 *
 * The connection is a MongoDB URI without a password; the password, when `passwordEnv` names
 * one, goes into a `--config` YAML file (0600, in a private temporary directory removed when
 * the tool exits) — the tools read credentials from it, and the command line stays free of them.
 */
export function mongodumpArguments(source: MongodumpSource, configFile: string | undefined): string[] {
  return ['--archive', `--uri=${source.uri}`, ...(source.database === undefined ? [] : [`--db=${source.database}`]), ...(configFile === undefined ? [] : [`--config=${configFile}`])];
}

/** A private directory holding the password file for one tool run; undefined without a password. */
export function mongoPasswordFile(password: string | undefined): { file: string; remove(): void } | undefined {
  if (password === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-mongo-'));
  const file = join(dir, 'credentials.yaml');
  // YAML double-quoted scalar: backslash and quote escaped, so any password survives.
  writeFileSync(file, `password: "${password.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"\n`, { mode: 0o600 });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function startMongodump(source: MongodumpSource, env: Readonly<Record<string, string | undefined>>): SourceProcess {
  const credentials = mongoPasswordFile(source.passwordEnv === undefined ? undefined : (env[source.passwordEnv] ?? ''));
  const childEnv: NodeJS.ProcessEnv = { PATH: env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
  try {
    const dump = spawnSourceTool('mongodump', mongodumpArguments(source, credentials?.file), childEnv, MONGODB_TOOLS_INSTALL_HINT);
    void dump.finished.catch(() => undefined).finally(() => credentials?.remove());
    return dump;
  } catch (error) {
    credentials?.remove();
    throw error;
  }
}

export function describeMongodumpSource(source: MongodumpSource): Record<string, string | number | readonly string[]> {
  return { kind: source.kind, uri: source.uri, database: source.database ?? 'all' };
}
