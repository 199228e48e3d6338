import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { readableText, type TextDecoding } from './latin1-text.js';
import type { SourceStats, TextUnit } from './text-unit.js';

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
  readonly lines: AsyncGenerator<string>;
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
  async function* lines(): AsyncGenerator<string> {
    const decoder = new StringDecoder(decoding);
    let pending = '';
    for await (const chunk of child.stdout) {
      pending += decoder.write(chunk as Buffer);
      let newline = pending.indexOf('\n');
      let from = 0;
      while (newline !== -1) {
        yield pending.slice(from, newline);
        from = newline + 1;
        newline = pending.indexOf('\n', from);
      }
      pending = pending.slice(from);
    }
    pending += decoder.end();
    if (pending !== '') yield pending;
  }
  return { lines: lines(), done };
}

/** Undoes git's C-style quoting of unusual path names ("a\303\251.txt"). */
export function unquoteGitPath(path: string): string {
  if (!path.startsWith('"') || !path.endsWith('"')) return path;
  const bytes: number[] = [];
  const body = path.slice(1, -1);
  const escapes: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let index = 0; index < body.length; index++) {
    const char = body[index]!;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = body[index + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(index + 1, index + 4), 8));
      index += 3;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
      index += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const HUNK = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/** Turns the lines of `git log -p` / `git diff` into units, one per file per commit. */
async function* diffUnits(run: GitRun, options: GitSourceOptions, stats: SourceStats): AsyncGenerator<TextUnit> {
  const { maxUnitBytes, decoding } = options;
  let commit: TextUnit['commit'];
  let path: string | undefined;
  let inHeader = false;
  let text: string[] = [];
  let numbers: number[] = [];
  let added: boolean[] = [];
  let size = 0;
  let nextLine = 0;
  function* flush(): Generator<TextUnit> {
    if (path !== undefined && added.includes(true)) {
      if (size > maxUnitBytes) stats.skippedLarge++;
      else {
        stats.units++;
        stats.bytes += size;
        yield { path, text: text.join('\n'), decoding, lines: { numbers, added }, ...(commit === undefined ? {} : { commit }) };
      }
    }
    text = [];
    numbers = [];
    added = [];
    size = 0;
  }
  for await (const line of run.lines) {
    if (line.startsWith('\0')) {
      yield* flush();
      path = undefined;
      const [hash = '', author = '', date = ''] = readableText(line.slice(1), decoding).split('\0');
      commit = { hash, author, date };
    } else if (line.startsWith('diff --git ')) {
      yield* flush();
      path = undefined;
      inHeader = true;
    } else if (inHeader) {
      if (line.startsWith('+++ ')) {
        // git ends a name holding a space with a tab, so the line cannot be misread.
        const target = unquoteGitPath(readableText(line.slice(4), decoding).replace(/\t$/, ''));
        path = target === '/dev/null' ? undefined : target.replace(/^b\//, '');
      } else if (line.startsWith('Binary files ')) {
        stats.skippedBinary++;
      } else if (HUNK.test(line)) {
        inHeader = false;
        nextLine = Number(HUNK.exec(line)![1]);
      }
    } else if (line.startsWith('@@')) {
      const hunk = HUNK.exec(line);
      if (hunk !== null) nextLine = Number(hunk[1]);
    } else if (line.startsWith('+') || line.startsWith(' ')) {
      text.push(line.slice(1));
      numbers.push(nextLine++);
      added.push(line.startsWith('+'));
      size += line.length;
    }
  }
  yield* flush();
  await run.done;
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
  const lines: string[] = [];
  for await (const line of run.lines) lines.push(line);
  try {
    await run.done;
  } catch (error) {
    if (error instanceof GitError && /not a git repository/i.test(error.message)) return undefined;
    throw error;
  }
  return lines[0];
}

/** Where the repository's hooks live (honours core.hooksPath), absolute. */
export async function gitHooksDirectory(repo: string): Promise<string> {
  const run = runGit(repo, ['rev-parse', '--path-format=absolute', '--git-path', 'hooks']);
  const lines: string[] = [];
  for await (const line of run.lines) lines.push(line);
  await run.done;
  return lines[0]!;
}
