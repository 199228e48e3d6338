import { appendFile, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from '../../infra/fs/sync-directory.js';
import type { RecoveryTarget } from './recovery-wal-plan.js';

/**
 * What makes a restored data directory recover from the archive when it starts (PostgreSQL 15
 * docs, 26.3.4 "Recovering Using a Continuous Archive Backup" and 20.5.5 "Archive Recovery" /
 * 20.5.6 "Recovery Target"): an empty `recovery.signal`, and settings appended to
 * `postgresql.auto.conf`, which is read after postgresql.conf and so overrides it.
 *
 * `archive_mode = off` in the restored copy: it starts with the original's postgresql.conf, whose
 * archive_command points at the production archive; a restored copy that promotes must never
 * push its own timeline there unless someone decides so (turning archive_mode back on).
 */

export type RecoveryTargetAction = 'pause' | 'promote' | 'shutdown';

export interface RecoverySettingsInput {
  readonly restoreCommand: string;
  readonly target: RecoveryTarget;
  /** 'latest' or a timeline number. */
  readonly targetTimeline: 'latest' | number;
  readonly targetAction: RecoveryTargetAction;
  /** Stop just after (true, PostgreSQL's default) or just before the target. */
  readonly targetInclusive: boolean;
}

export function recoverySettings(input: RecoverySettingsInput): Readonly<Record<string, string>> {
  const settings: Record<string, string> = { restore_command: input.restoreCommand };
  const target = input.target;
  switch (target.kind) {
    case 'time':
      settings['recovery_target_time'] = target.text;
      break;
    case 'lsn':
      settings['recovery_target_lsn'] = target.text;
      break;
    case 'name':
      settings['recovery_target_name'] = target.name;
      break;
    case 'immediate':
      settings['recovery_target'] = 'immediate';
      break;
    case 'latest':
      break;
  }
  settings['recovery_target_timeline'] = String(input.targetTimeline);
  if (target.kind !== 'latest') {
    settings['recovery_target_action'] = input.targetAction;
    if (target.kind !== 'immediate') settings['recovery_target_inclusive'] = input.targetInclusive ? 'on' : 'off';
  }
  settings['archive_mode'] = 'off';
  return Object.freeze(settings);
}

/** A postgresql.conf string value: single quotes, a quote doubled (PostgreSQL 15 docs, 20.1.2). */
export function quoteConfigValue(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** One word for `sh -c` (how PostgreSQL runs restore_command): single quotes, `'` as `'\''`. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_\-./:=@%+,]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/** Appends the settings to postgresql.auto.conf and writes recovery.signal, both fsynced. */
export async function writeRecoverySettings(dataDir: string, settings: Readonly<Record<string, string>>, comment: string): Promise<void> {
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${quoteConfigValue(value)}`);
  const autoConf = join(dataDir, 'postgresql.auto.conf');
  await appendFile(autoConf, `\n# ${comment.replaceAll('\n', ' ')}\n${lines.join('\n')}\n`, { mode: 0o600 });
  const signal = join(dataDir, 'recovery.signal');
  await writeFile(signal, '', { mode: 0o600, flag: 'wx' });
  for (const path of [autoConf, signal]) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await syncDirectory(dataDir);
}
