import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the vulnerability database lives: `--db FILE`, else `HOLDFAST_VULNDB`, else a per-user
 * data directory — `$XDG_DATA_HOME/holdfast/vulndb.sqlite` (XDG Base Directory spec; default
 * `~/.local/share`) on Linux and macOS, `%LOCALAPPDATA%\holdfast\vulndb.sqlite` on Windows.
 */
export function vulnDbPath(flag: string | undefined, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env.HOLDFAST_VULNDB;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'holdfast', 'vulndb.sqlite');
  const dataHome = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(home, '.local', 'share');
  return join(dataHome, 'holdfast', 'vulndb.sqlite');
}

export function parseDays(value: string | undefined, flag: string, fallback: number): number | string {
  if (value === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(value)) return `${flag} takes a number of days (e.g. 7), not "${value}".`;
  return Number(value);
}
