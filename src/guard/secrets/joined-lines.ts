/**
 * Secrets split across lines by string concatenation, e.g.
 *
 *     token = "ghp_abc…" +
 *             "…xyz"
 *
 * are joined back into one literal before the rules run again. What is joined: two literals with
 * the same quote character separated by `+` (JS, Java, C#, Python), `.` (PHP) or `&` (VB), and/or a
 * line break (adjacent literals in Python and C, with an optional `\` continuation); and a
 * backslash-newline continuation inside unquoted text (shell). What is not: concatenation through
 * variables, `.join()`, template interpolation, or literals split with different quote characters.
 * PEM blocks need no joining: the private-key rules match across lines themselves.
 */
const JOIN = /(["'`])[ \t]*[+.&]?[ \t]*\\?\r?\n[ \t]*[+.&]?[ \t]*\1|(["'`])[ \t]*[+.&][ \t]*\2|\\\r?\n[ \t]*/g;

export interface JoinedText {
  readonly text: string;
  /** Ascending offsets in `text` where characters were removed, with the total removed so far. */
  readonly cuts: ReadonlyArray<{ readonly at: number; readonly removedBefore: number }>;
}

/** The text with concatenations removed, or undefined when there is nothing to join. */
export function joinSplitLiterals(text: string): JoinedText | undefined {
  JOIN.lastIndex = 0;
  if (!JOIN.test(text)) return undefined;
  JOIN.lastIndex = 0;
  const pieces: string[] = [];
  const cuts: Array<{ at: number; removedBefore: number }> = [];
  let from = 0;
  let joinedLength = 0;
  let removed = 0;
  for (let match = JOIN.exec(text); match !== null; match = JOIN.exec(text)) {
    const piece = text.slice(from, match.index);
    pieces.push(piece);
    joinedLength += piece.length;
    removed += match[0].length;
    cuts.push({ at: joinedLength, removedBefore: removed });
    from = match.index + match[0].length;
  }
  pieces.push(text.slice(from));
  return { text: pieces.join(''), cuts };
}

/** The offset in the original text of a character at `offset` in the joined text. */
export function originalOffset(joined: JoinedText, offset: number): number {
  let removed = 0;
  for (const cut of joined.cuts) {
    if (cut.at > offset) break;
    removed = cut.removedBefore;
  }
  return offset + removed;
}

/**
 * The parts of the joined text worth scanning again: a window of `margin` characters either side
 * of each join, merged where they touch (a PEM body concatenated line by line is one window).
 */
export function windowsAroundJoins(joined: JoinedText, margin = 256): Array<{ start: number; end: number }> {
  const windows: Array<{ start: number; end: number }> = [];
  for (const cut of joined.cuts) {
    const start = Math.max(0, cut.at - margin);
    const end = Math.min(joined.text.length, cut.at + margin);
    const last = windows.at(-1);
    if (last !== undefined && start <= last.end) last.end = end;
    else windows.push({ start, end });
  }
  return windows;
}

/** Whether the span [start, end) of the joined text contains a join, i.e. exists only joined. */
export function spansJoin(joined: JoinedText, start: number, end: number): boolean {
  return joined.cuts.some((cut) => cut.at > start && cut.at < end);
}
