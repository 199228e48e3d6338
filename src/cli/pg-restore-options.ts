import type { RecoveryTargetAction } from '../backup/pg/recovery-settings.js';
import { shellWord } from '../backup/pg/recovery-settings.js';
import type { RecoveryTarget } from '../backup/pg/recovery-wal-plan.js';
import { ABSENT_FRESH_MS, WalPrefetchSpool } from '../backup/pg/wal-prefetch-spool.js';
import { parseLsn } from '../backup/pg/wal-position.js';

/**
 * The restore command's target options, checked before anything is read: exactly one of
 * --target-time, --target-lsn, --target-name or --target immediate|latest (default latest), as
 * PostgreSQL allows one recovery_target_* setting at a time (PostgreSQL 15 docs, 20.5.6).
 */

export class RestoreOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreOptionError';
  }
}

export interface RestoreTargetFlags {
  readonly target?: string | undefined;
  readonly targetTime?: string | undefined;
  readonly targetLsn?: string | undefined;
  readonly targetName?: string | undefined;
  readonly targetTimeline?: string | undefined;
  readonly targetAction?: string | undefined;
  readonly targetExclusive?: boolean | undefined;
}

export interface RestoreTargetChoice {
  readonly target: RecoveryTarget;
  readonly targetTimeline: 'latest' | 'current' | number;
  readonly targetAction: RecoveryTargetAction;
  readonly targetInclusive: boolean;
}

/**
 * A timestamp with an explicit zone: `2026-11-26 10:15:00+00`, `2026-11-26T10:15:00.123456Z`,
 * `…+05:30`. Without a zone PostgreSQL would read it in the restored server's TimeZone, which is
 * how restores land an hour off.
 */
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,6})?(Z|[+-]\d{2}(?::?\d{2})?)$/;

export function parseTargetTime(text: string): { readonly text: string; readonly atMs: number } {
  const match = TIMESTAMP.exec(text.trim());
  const fail = (): never => {
    throw new RestoreOptionError(`--target-time "${text}" is not a timestamp with a time zone; write it like 2026-11-26 10:15:00+00 or 2026-11-26T10:15:00.250Z.`);
  };
  if (match === null) return fail();
  const [, date, time, fraction = '', zone] = match;
  const isoZone = zone === 'Z' ? 'Z' : /^[+-]\d{2}$/.test(zone!) ? `${zone}:00` : zone!.includes(':') ? zone! : `${zone!.slice(0, 3)}:${zone!.slice(3)}`;
  const atMs = Date.parse(`${date}T${time}${fraction.slice(0, 4)}${isoZone}`);
  if (!Number.isFinite(atMs)) return fail();
  // Sub-millisecond digits matter to PostgreSQL (microsecond timestamps); the exact text is passed on.
  return { text: `${date} ${time}${fraction}${zone === 'Z' ? '+00' : zone}`, atMs: atMs + (fraction.length > 4 ? 1 : 0) };
}

export function parseRestoreTarget(flags: RestoreTargetFlags): RestoreTargetChoice {
  const given = [
    flags.targetTime === undefined ? undefined : '--target-time',
    flags.targetLsn === undefined ? undefined : '--target-lsn',
    flags.targetName === undefined ? undefined : '--target-name',
    flags.target === undefined ? undefined : '--target',
  ].filter((flag): flag is string => flag !== undefined);
  if (given.length > 1) throw new RestoreOptionError(`${given.join(' and ')} cannot be combined: a recovery has one target.`);

  let target: RecoveryTarget = { kind: 'latest' };
  if (flags.targetTime !== undefined) target = { kind: 'time', ...parseTargetTime(flags.targetTime) };
  if (flags.targetLsn !== undefined) {
    const lsn = parseLsn(flags.targetLsn.trim());
    if (lsn === undefined) throw new RestoreOptionError(`--target-lsn "${flags.targetLsn}" is not an LSN; write it as PostgreSQL prints one, e.g. 0/3000060 (SELECT pg_current_wal_lsn()).`);
    target = { kind: 'lsn', text: flags.targetLsn.trim().toUpperCase(), lsn };
  }
  if (flags.targetName !== undefined) {
    if (flags.targetName === '' || flags.targetName.length > 63) throw new RestoreOptionError('--target-name takes the name given to pg_create_restore_point(), 1 to 63 characters.');
    target = { kind: 'name', name: flags.targetName };
  }
  if (flags.target !== undefined) {
    if (flags.target !== 'immediate' && flags.target !== 'latest') throw new RestoreOptionError(`--target takes "immediate" (the end of the backup) or "latest" (the newest archived WAL), not "${flags.target}".`);
    target = { kind: flags.target };
  }

  let targetTimeline: RestoreTargetChoice['targetTimeline'] = 'latest';
  if (flags.targetTimeline !== undefined) {
    const text = flags.targetTimeline;
    if (text === 'latest' || text === 'current') targetTimeline = text;
    else if (/^[1-9]\d{0,9}$/.test(text) && Number(text) <= 0xffffffff) targetTimeline = Number(text);
    else throw new RestoreOptionError(`--target-timeline takes latest, current or a timeline number (e.g. 2), not "${text}".`);
  }

  const action = flags.targetAction ?? 'pause';
  if (action !== 'pause' && action !== 'promote' && action !== 'shutdown') throw new RestoreOptionError(`--target-action takes pause, promote or shutdown, not "${action}".`);
  if (target.kind === 'latest' && (flags.targetAction !== undefined || flags.targetExclusive === true)) {
    throw new RestoreOptionError('--target-action and --target-exclusive need a target (--target-time, --target-lsn, --target-name or --target immediate); a recovery to the newest WAL always ends by promoting.');
  }
  return { target, targetTimeline, targetAction: action, targetInclusive: flags.targetExclusive !== true };
}

/** Segments the default restore_command keeps prefetched ahead of recovery. */
export const DEFAULT_RESTORE_PREFETCH = 8;

/**
 * The default prefetch spool, relative on purpose: PostgreSQL runs restore_command in the data
 * directory (%p is relative to it too), so the spool moves with the copy and is on the same file
 * system as %p — handing a segment over is a rename. Inside pg_wal, PostgreSQL and its tools
 * leave it alone: they touch only files named like WAL there (RemoveOldXlogFiles,
 * pg_resetwal, pg_archivecleanup match the name pattern), and base backups of the copy skip
 * pg_wal's contents. The worker removes its segments when recovery is over.
 */
export const DEFAULT_RESTORE_SPOOL = 'pg_wal/holdfast-prefetch';

/**
 * The restore_command written into the restored copy: this same holdfast (the node binary and
 * the script that is running), `wal-fetch %f %p`, and the repository and endpoint. Credentials
 * are deliberately not in it — the file is readable by anyone who can read the data directory —
 * but come from the environment of the server that runs the recovery, as for wal-push.
 */
export function defaultRestoreCommand(repo: string, endpoint: string, extra: readonly string[] = [], program: readonly string[] = [process.execPath, process.argv[1] ?? 'holdfast']): string {
  const walFetch = [...program.map(shellWord), 'pg', 'wal-fetch', '%f', '%p', '--repo', shellWord(repo), '--endpoint', shellWord(endpoint), ...extra.map(shellWord)].join(' ');
  const spool = optionValue(extra, '--spool');
  if (spool === undefined || optionValue(extra, '--prefetch') === undefined) return walFetch;
  // With a prefetch spool, a segment the worker has already fetched and verified is moved into
  // place by mv: PostgreSQL runs restore_command through /bin/sh, so this costs a fork of mv
  // (about a millisecond) instead of starting node (50–150 ms) for every WAL file — the per-file
  // cost pgBackRest's C binary has. It is the rename wal-fetch would do (WalPrefetchSpool.take):
  // final names in the spool appear only by rename once verified, and the directory is this
  // repository's own. Likewise the worker's fresh "not in the archive" marker (the history files
  // recovery probes for) answers 1 as wal-fetch would (WalPrefetchSpool.isKnownAbsent: younger
  // than ABSENT_FRESH_MS; GNU find). Anything else — not prefetched, no fresh marker, no mv or
  // find — falls through to wal-fetch, which also starts the worker when none runs.
  const directory = shellWord(new WalPrefetchSpool(spool, endpoint, repo).directory);
  const fresh = `-newermt '-${Math.floor(ABSENT_FRESH_MS / 1000)} seconds'`;
  return `mv -f ${directory}/%f %p 2>/dev/null || { [ -n "$(find ${directory} -maxdepth 1 -name %f.absent ${fresh} 2>/dev/null)" ] && exit 1; ${walFetch}; }`;
}

function optionValue(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index < 0 ? undefined : args[index + 1];
}
