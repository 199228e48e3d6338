import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gitHooksDirectory } from './git-history-source.js';

/** The line that marks a hook as ours, so installing again replaces it and nothing else. */
export const HOOK_MARKER = '# holdfast pre-commit hook';

/** Quotes one word for /bin/sh. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

export function preCommitHookScript(holdfastCommand: string): string {
  return [
    '#!/bin/sh',
    `${HOOK_MARKER} (installed by \`holdfast scan install-hook\`): refuses a commit whose staged`,
    '# changes add a secret. Accept a finding with a holdfast:allow-secret marker or a baseline;',
    '# `git commit --no-verify` skips the check once, knowingly.',
    `exec ${holdfastCommand} scan secrets --staged`,
    '',
  ].join('\n');
}

/** A pre-commit hook that is not ours is in the way; the message names the fix. */
export class ForeignHookError extends Error {}

/**
 * Writes the pre-commit hook of `repo` (where core.hooksPath points, if set). An existing hook
 * that holdfast did not write is kept unless `force`: it may be another tool's check.
 */
export async function installPreCommitHook(repo: string, holdfastCommand: string, force: boolean): Promise<string> {
  const hooks = await gitHooksDirectory(repo);
  const path = join(hooks, 'pre-commit');
  let existing: string | undefined;
  try {
    existing = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (existing !== undefined && !existing.includes(HOOK_MARKER) && !force) {
    throw new ForeignHookError(`${path} already exists and was not written by holdfast. Add \`${holdfastCommand} scan secrets --staged\` to it yourself, or pass --force to replace it.`);
  }
  await mkdir(hooks, { recursive: true });
  const temporary = `${path}.holdfast-tmp`;
  await writeFile(temporary, preCommitHookScript(holdfastCommand), { mode: 0o755 });
  await chmod(temporary, 0o755);
  await rename(temporary, path);
  return path;
}
