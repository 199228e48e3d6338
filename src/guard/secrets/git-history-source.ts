import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { DiffUnitParser } from './diff-unit-parser.js';
import type { TextDecoding } from './latin1-text.js';
import type { SourceStats, TextUnit } from './text-unit.js';

export { unquoteGitPath } from './diff-unit-parser.js';

/**
 * Reads what commits (or the index) added, through the real `git` binary: `git log --all -p` for
 * the whole history, `git diff --cached` for a pre-commit check. Each file of each commit becomes
 * one unit holding its hunks (added lines plus one line of context either side, so a marker on
 * the line above is seen). Only added lines are reported, so a secret is reported once, at the
 * commit that introduced it, even when later commits delete it. Merge commits show no diff of
 * their own (git's default), so a secret that only a conflict resolution introduced is missed.
 */
export class GitError extends Error {}

/** Options that make git's output the same whatever the user's configuration says. */
const DIFF_OPTIONS = ['-p', '-U1', '--no-color', '--no-ext-diff', '--no-textconv', '--find-renames', '--src-prefix=a/', '--dst-prefix=b/'];
const COMMIT_FORMAT = '--format=%x00%H%x00%an <%ae>%x00%aI';

interface GitRun {
  /** git's standard output, decoded, in the pieces the pipe delivers. */
  readonly chunks: AsyncGenerator<string>;
  /** Resolves when git exits 0; rejects with its stderr otherwise. */
  readonly done: Promise<void>;
}

/** `decoding` 'latin1' yields each byte of git's output as one character (latin1-text.ts). */
function runGit(repo: string, args: readonly string[], decoding: TextDecoding = 'utf8'): GitRun {
  const child = spawn('git', ['-C', repo, '-c', 'core.quotePath=false', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(new GitError(error.code === 'ENOENT' ? 'git is not installed or not on PATH (apt-get install git)' : `could not run git: ${error.message}`)),
    );
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new GitError(`git ${args[0]} failed (exit ${code}): ${Buffer.concat(stderr).toString('utf8').trim()}`));
    });
  });
  done.catch(() => {}); // awaited by the reader; this only keeps an early failure from being unhandled
  async function* chunks(): AsyncGenerator<string> {
    // A UTF-8 character split between two pieces is held back until the next one.
    const decoder = new StringDecoder(decoding);
    for await (const chunk of child.stdout) yield decoder.write(chunk as Buffer);
    const rest = decoder.end();
    if (rest !== '') yield rest;
  }
  return { chunks: chunks(), done };
}

/** Units from `git log -p` / `git diff` output, one per file per commit, as the pieces arrive. */
async function* diffUnits(run: GitRun, options: GitSourceOptions, stats: SourceStats): AsyncGenerator<TextUnit> {
  const parser = new DiffUnitParser(options, stats);
  for await (const chunk of run.chunks) {
    parser.write(chunk);
    yield* parser.take();
  }
  parser.end();
  yield* parser.take();
  await run.done;
}

/** The first line of a short git output (rev-parse). */
async function firstLine(run: GitRun): Promise<string> {
  let output = '';
  for await (const chunk of run.chunks) output += chunk;
  return output.split('\n')[0]!;
}

export interface GitSourceOptions {
  readonly maxUnitBytes: number;
  /** How git's output becomes text: the rule set's `textDecoding` (latin1-text.ts). */
  readonly decoding: TextDecoding;
}

/** What every commit reachable from any ref added, newest commit first. */
export function gitHistoryUnits(repo: string, options: GitSourceOptions, stats: SourceStats): AsyncGenerator<TextUnit> {
  return diffUnits(runGit(repo, ['log', '--all', '--no-show-signature', COMMIT_FORMAT, ...DIFF_OPTIONS], options.decoding), options, stats);
}

/** What the index adds to HEAD: the changes `git commit` is about to record. */
export function stagedUnits(repo: string, options: GitSourceOptions, stats: SourceStats): AsyncGenerator<TextUnit> {
  return diffUnits(runGit(repo, ['diff', '--cached', '--diff-filter=ACMR', ...DIFF_OPTIONS], options.decoding), options, stats);
}

/** The top directory of the repository holding `path`, or undefined when it is in none. */
export async function gitTopLevel(path: string): Promise<string | undefined> {
  const run = runGit(path, ['rev-parse', '--show-toplevel']);
  const line = await firstLine(run);
  try {
    await run.done;
  } catch (error) {
    if (error instanceof GitError && /not a git repository/i.test(error.message)) return undefined;
    throw error;
  }
  return line;
}

/** Where the repository's hooks live (honours core.hooksPath), absolute. */
export async function gitHooksDirectory(repo: string): Promise<string> {
  const run = runGit(repo, ['rev-parse', '--path-format=absolute', '--git-path', 'hooks']);
  const line = await firstLine(run);
  await run.done;
  return line;
}
