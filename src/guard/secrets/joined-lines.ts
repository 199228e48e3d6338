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

/**
 * Where a text's concatenations are, as cuts in the joined text (the text with them removed).
 * The joined text itself is never built whole: only the windows around the cuts are scanned
 * again, and they are assembled from the original (joinedSlice). Minified JavaScript has
 * thousands of `"…"+"…"` and `'.'`, and copying every such file once more cost a fifth of a scan.
 */
export interface JoinedText {
  /** The original text. */
  readonly original: string;
  /** Length of the joined text. */
  readonly length: number;
  /** Ascending offsets in the joined text where characters were removed, with the total removed so far. */
  readonly cuts: ReadonlyArray<{ readonly at: number; readonly removedBefore: number }>;
}

/** JOIN tried at one offset only. */
const JOIN_AT = new RegExp(JOIN.source, 'y');

/**
 * The concatenations in `text`, or undefined when there is nothing to join. `candidates`, when
 * given, are ascending offsets that include every place a concatenation starts (the byte
 * screen's: a quote followed by blanks and + . & \ or a line break, a backslash before a line
 * break); JOIN is then tried only there, and finds the same matches as a search of the whole text.
 */
export function joinSplitLiterals(text: string, candidates?: readonly number[]): JoinedText | undefined {
  const cuts: Array<{ at: number; removedBefore: number }> = [];
  let removed = 0;
  const cut = (match: RegExpExecArray) => {
    cuts.push({ at: match.index - removed, removedBefore: removed + match[0].length });
    removed += match[0].length;
  };
  if (candidates === undefined) {
    JOIN.lastIndex = 0;
    for (let match = JOIN.exec(text); match !== null; match = JOIN.exec(text)) cut(match);
  } else {
    let from = 0;
    for (const offset of candidates) {
      if (offset < from) continue;
      JOIN_AT.lastIndex = offset;
      const match = JOIN_AT.exec(text);
      if (match === null) continue;
      cut(match);
      from = offset + match[0].length;
    }
  }
  return cuts.length === 0 ? undefined : { original: text, length: text.length - removed, cuts };
}

/** How many cuts lie at or before `offset` of the joined text (binary search). */
function cutsUpTo(joined: JoinedText, offset: number): number {
  let low = 0;
  let high = joined.cuts.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (joined.cuts[middle]!.at <= offset) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The offset in the original text of a character at `offset` in the joined text. */
export function originalOffset(joined: JoinedText, offset: number): number {
  const count = cutsUpTo(joined, offset);
  return offset + (count === 0 ? 0 : joined.cuts[count - 1]!.removedBefore);
}

/** The joined text's characters [start, end), assembled from the original. */
export function joinedSlice(joined: JoinedText, start: number, end: number): string {
  const { cuts, original } = joined;
  let next = cutsUpTo(joined, start);
  let removed = next === 0 ? 0 : cuts[next - 1]!.removedBefore;
  const pieces: string[] = [];
  for (let at = start; at < end; ) {
    const cut = next < cuts.length ? cuts[next]!.at : Infinity;
    const pieceEnd = Math.min(end, cut);
    pieces.push(original.slice(at + removed, pieceEnd + removed));
    at = pieceEnd;
    if (pieceEnd === cut) removed = cuts[next++]!.removedBefore;
  }
  return pieces.join('');
}

/**
 * The parts of the joined text worth scanning again: a window of `margin` characters either side
 * of each join, merged where they touch (a PEM body concatenated line by line is one window).
 */
export function windowsAroundJoins(joined: JoinedText, margin = 256): Array<{ start: number; end: number }> {
  const windows: Array<{ start: number; end: number }> = [];
  for (const cut of joined.cuts) {
    const start = Math.max(0, cut.at - margin);
    const end = Math.min(joined.length, cut.at + margin);
    const last = windows.at(-1);
    if (last !== undefined && start <= last.end) last.end = end;
    else windows.push({ start, end });
  }
  return windows;
}

/** Whether the span [start, end) of the joined text contains a join, i.e. exists only joined. */
export function spansJoin(joined: JoinedText, start: number, end: number): boolean {
  const next = cutsUpTo(joined, start);
  return next < joined.cuts.length && joined.cuts[next]!.at < end;
}
