import type { parseArgs } from 'node:util';
import { type BackupRepositoryLocation, parseRepositoryLocation } from '../backup/pg/backup-repository.js';
import type { WalRetention } from '../backup/pg/s3-wal-archive-store.js';
import type { Clock } from '../infra/clock.js';
import type { RepositoryKey } from '../backup/pg/repository-key.js';
import { resolve } from 'node:path';

/**
 * The options of `holdfast pg`, shared by every verb, and the small parsers that check them.
 * Kept apart from the verbs so that `wal-push --async` — run by PostgreSQL once per segment —
 * loads nothing but these and the spool.
 */

/** Where the command writes, what it reads, what time it is: the process's own by default. */
export interface PgCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  /** Whether stderr is a terminal (live progress in place) or a log (a line now and then). */
  readonly interactive?: boolean;
}

/** Files pushed at once by the asynchronous archiving worker. */
export const DEFAULT_PUSH_PARALLEL = 4;

/** A mistake in how the command was called: exit 2, with the usage text. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const PG_OPTIONS = {
  repo: { type: 'string' },
  endpoint: { type: 'string' },
  'retain-days': { type: 'string' },
  'pg-connection': { type: 'string' },
  'part-mib': { type: 'string' },
  async: { type: 'boolean' },
  spool: { type: 'string' },
  parallel: { type: 'string' },
  'async-timeout': { type: 'string' },
  'pg-wal': { type: 'string' },
  prefetch: { type: 'string' },
  'no-prefetch': { type: 'boolean' },
  after: { type: 'string' },
  'segment-bytes': { type: 'string' },
  into: { type: 'string' },
  backup: { type: 'string' },
  target: { type: 'string' },
  'target-time': { type: 'string' },
  'target-lsn': { type: 'string' },
  'target-name': { type: 'string' },
  'target-timeline': { type: 'string' },
  'target-action': { type: 'string' },
  'target-exclusive': { type: 'boolean' },
  'restore-command': { type: 'string' },
  'no-sync': { type: 'boolean' },
  quick: { type: 'boolean' },
  'encryption-key-file': { type: 'string' },
  out: { type: 'string' },
  probe: { type: 'string', multiple: true },
  scratch: { type: 'string' },
  'no-evidence': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type PgOptionValues = ReturnType<typeof parseArgs<{ options: typeof PG_OPTIONS; allowPositionals: true; strict: true }>>['values'];

/** What every verb gets: its options, checked location and endpoint, and the process's I/O. */
export interface PgVerbContext {
  readonly verb: string;
  readonly values: PgOptionValues;
  readonly positionals: readonly string[];
  readonly location: BackupRepositoryLocation;
  readonly endpoint: string;
  readonly retention: WalRetention | undefined;
  readonly json: boolean;
  readonly io: PgCommandIo;
}

/** Which options belong to which verbs; any other combination is a usage error naming the option. */
export const OPTION_VERBS: Readonly<Partial<Record<keyof typeof PG_OPTIONS, readonly string[]>>> = {
  'retain-days': ['wal-push', 'wal-push-worker', 'backup'],
  'pg-connection': ['backup'],
  'part-mib': ['backup'],
  async: ['wal-push'],
  spool: ['wal-push', 'wal-push-worker', 'wal-fetch', 'wal-fetch-worker', 'restore'],
  parallel: ['wal-push', 'wal-push-worker', 'wal-fetch', 'wal-fetch-worker'],
  prefetch: ['wal-fetch', 'wal-fetch-worker', 'restore'],
  'no-prefetch': ['restore'],
  after: ['wal-fetch-worker'],
  'segment-bytes': ['wal-fetch-worker'],
  'async-timeout': ['wal-push'],
  'pg-wal': ['wal-push-worker'],
  into: ['restore'],
  backup: ['restore', 'drill'],
  probe: ['drill'],
  scratch: ['drill'],
  'no-evidence': ['drill'],
  target: ['restore'],
  'target-time': ['restore'],
  'target-lsn': ['restore'],
  'target-name': ['restore'],
  'target-timeline': ['restore'],
  'target-action': ['restore'],
  'target-exclusive': ['restore'],
  'restore-command': ['restore'],
  'no-sync': ['restore'],
  quick: ['verify'],
  'encryption-key-file': ['wal-push', 'wal-push-worker', 'wal-fetch', 'wal-fetch-worker', 'backup', 'restore', 'verify', 'show', 'drill'],
  out: ['keygen'],
};

/**
 * The repository key of --encryption-key-file / HOLDFAST_ENCRYPTION_KEY_FILE /
 * HOLDFAST_ENCRYPTION_KEY, or undefined (loaded only by the verbs that use it).
 */
export async function repositoryKeyFor(context: PgVerbContext): Promise<RepositoryKey | undefined> {
  const { RepositoryKey: Key } = await import('../backup/pg/repository-key.js');
  return Key.fromOptions(context.values['encryption-key-file'], context.io.env);
}

/** Options that hand the key on to a worker or a restore_command: the file's path, never the key. */
export function keyFileArguments(context: PgVerbContext): string[] {
  const file = context.values['encryption-key-file'];
  return file === undefined ? [] : ['--encryption-key-file', resolve(file)];
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function repositoryFrom(flag: string | undefined, env: NodeJS.ProcessEnv): BackupRepositoryLocation {
  const text = flag ?? nonEmpty(env['HOLDFAST_REPO']);
  if (text === undefined) throw new UsageError('no repository: pass --repo s3://BUCKET/PREFIX or set HOLDFAST_REPO.');
  return parseRepositoryLocation(text);
}

export function retentionFrom(text: string | undefined, clock: Clock): WalRetention | undefined {
  if (text === undefined) return undefined;
  const days = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(days >= 1 && days <= 36500)) throw new UsageError(`--retain-days takes a whole number of days from 1 to 36500, not "${text}".`);
  return { mode: 'COMPLIANCE', retainDays: days, clock };
}

/** A whole number option within bounds, or undefined when not given. */
export function boundedInteger(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`--${name} takes a whole number from ${min} to ${max}, not "${text}".`);
  return value;
}
