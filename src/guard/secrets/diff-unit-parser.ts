import { readableText, type TextDecoding } from './latin1-text.js';
import type { SourceStats, TextUnit } from './text-unit.js';

/**
 * Turns the text of `git log -p --format=%x00%H%x00%an <%ae>%x00%aI` or `git diff` into units, one
 * per file per commit: its hunks' added lines and their context lines, with each line's number in
 * the new file. Synchronous and fed whole chunks of git's output: a history is millions of lines,
 * and handing each one through an async generator cost more than scanning it (a third of the
 * CPU of `--git` went to promise callbacks and line objects).
 */
export interface DiffParserOptions {
  /** A file's added text larger than this (bytes, or UTF-16 units for 'utf8') is skipped and counted. */
  readonly maxUnitBytes: number;
  /** How the text fed in was decoded; headers (paths, authors) are decoded back for the reader. */
  readonly decoding: TextDecoding;
}

const HUNK = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/;
const PLUS = 0x2b;
const SPACE = 0x20;

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

export class DiffUnitParser {
  #commit: TextUnit['commit'];
  #path: string | undefined;
  #inHeader = false;
  #text: string[] = [];
  #numbers: number[] = [];
  #added: boolean[] = [];
  #anyAdded = false;
  #size = 0;
  #nextLine = 0;
  /** The end of the last chunk, up to its last line break. */
  #pending = '';
  #ready: TextUnit[] = [];

  constructor(
    private readonly options: DiffParserOptions,
    private readonly stats: SourceStats,
  ) {}

  /** Feeds the next piece of git's output (any size; lines may span pieces). */
  write(chunk: string): void {
    const text = this.#pending === '' ? chunk : this.#pending + chunk;
    let from = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', from)) {
      const first = text.charCodeAt(from);
      // Hunk lines first: they are nearly all of a history. Sliced once, without their marker.
      if (!this.#inHeader && (first === PLUS || first === SPACE)) this.#hunkLine(text.slice(from + 1, newline), first === PLUS);
      else this.#line(text.slice(from, newline));
      from = newline + 1;
    }
    this.#pending = text.slice(from);
  }

  /** Ends the output: its last line and last unit. */
  end(): void {
    if (this.#pending !== '') this.#line(this.#pending);
    this.#pending = '';
    this.#flush();
  }

  /** The units completed since the last call. */
  take(): TextUnit[] {
    const ready = this.#ready;
    this.#ready = [];
    return ready;
  }

  #flush(): void {
    if (this.#path !== undefined && this.#anyAdded) {
      if (this.#size > this.options.maxUnitBytes) this.stats.skippedLarge++;
      else {
        this.stats.units++;
        this.stats.bytes += this.#size;
        const commit = this.#commit;
        this.#ready.push({ path: this.#path, text: this.#text.join('\n'), decoding: this.options.decoding, lines: { numbers: this.#numbers, added: this.#added }, ...(commit === undefined ? {} : { commit }) });
      }
    }
    this.#text = [];
    this.#numbers = [];
    this.#added = [];
    this.#anyAdded = false;
    this.#size = 0;
  }

  /** A line of a hunk, without its first character (+ added, space context). */
  #hunkLine(content: string, added: boolean): void {
    this.#text.push(content);
    this.#numbers.push(this.#nextLine++);
    this.#added.push(added);
    if (added) this.#anyAdded = true;
    this.#size += content.length + 1;
  }

  #line(line: string): void {
    const first = line.charCodeAt(0);
    if (!this.#inHeader && (first === PLUS || first === SPACE)) {
      this.#hunkLine(line.slice(1), first === PLUS);
    } else if (first === 0) {
      this.#flush();
      this.#path = undefined;
      const [hash = '', author = '', date = ''] = readableText(line.slice(1), this.options.decoding).split('\0');
      this.#commit = { hash, author, date };
    } else if (line.startsWith('diff --git ')) {
      this.#flush();
      this.#path = undefined;
      this.#inHeader = true;
    } else if (this.#inHeader) {
      if (line.startsWith('+++ ')) {
        // git ends a name holding a space with a tab, so the line cannot be misread.
        const target = unquoteGitPath(readableText(line.slice(4), this.options.decoding).replace(/\t$/, ''));
        this.#path = target === '/dev/null' ? undefined : target.replace(/^b\//, '');
      } else if (line.startsWith('Binary files ')) {
        this.stats.skippedBinary++;
      } else {
        const hunk = HUNK.exec(line);
        if (hunk !== null) {
          this.#inHeader = false;
          this.#nextLine = Number(hunk[1]);
        }
      }
    } else if (line.startsWith('@@')) {
      const hunk = HUNK.exec(line);
      if (hunk !== null) this.#nextLine = Number(hunk[1]);
    }
  }
}
