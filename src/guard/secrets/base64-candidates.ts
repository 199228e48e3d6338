/**
 * Secrets hidden in base64 (Kubernetes Secret manifests, `.dockerconfigjson`, encoded env files):
 * runs of the base64 alphabet (standard or URL-safe, RFC 4648 §4–5) long enough to hold a
 * credential are decoded, and those that decode to text are scanned again. Runs that decode to
 * binary (hashes, images, lockfile integrity values) are dropped after a look at their first bytes.
 */
const MIN_RUN = 32;
const MIN_DECODED_BYTES = 20;
const PRINTABLE_RATIO = 0.95;

export interface DecodedRun {
  /** Offset of the base64 run in the scanned text. */
  readonly offset: number;
  readonly decoded: string;
}

function printableRatio(bytes: Buffer, end: number): number {
  let printable = 0;
  for (let index = 0; index < end; index++) {
    const byte = bytes[index]!;
    if ((byte >= 0x20 && byte < 0x7f) || byte === 0x09 || byte === 0x0a || byte === 0x0d) printable++;
  }
  return end === 0 ? 0 : printable / end;
}

/** 1 for the base64 alphabets (A–Z a–z 0–9 + / - _), 2 for the '=' padding, else 0. */
const ALPHABET = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const char = String.fromCharCode(code);
  if (/[A-Za-z0-9+/_-]/.test(char)) ALPHABET[code] = 1;
}
ALPHABET['='.charCodeAt(0)] = 2;

function isAlphabet(code: number): boolean {
  return code < 128 && ALPHABET[code] === 1;
}

/**
 * Every base64 run in `text` that decodes to mostly printable ASCII. Only runs of MIN_RUN or more
 * characters count, so the loop looks at one character in MIN_RUN until it meets the alphabet
 * (any such run covers every MIN_RUN-th position), then walks back to the run's start and, unless
 * a character out of the alphabet within MIN_RUN of it shows the run is short, on to its end.
 * Source text is mostly letters, so it still touches many characters, but about half as many as
 * a plain loop; a regex with a look-behind for the run's edge costs several times more.
 */
export function decodeBase64Runs(text: string, found?: Int32Array): DecodedRun[] {
  // `found`: the runs as (start, end) pairs, when the byte screen has already found them.
  const runs: DecodedRun[] = [];
  for (const [start, end] of found === undefined ? alphabetRuns(text) : pairs(found)) {
    const decoded = decodeRun(text, start, end);
    if (decoded !== undefined) runs.push({ offset: start, decoded });
  }
  return runs;
}

function* pairs(found: Int32Array): Generator<[number, number]> {
  for (let at = 0; at < found.length; at += 2) yield [found[at]!, found[at + 1]!];
}

/** The maximal runs of the alphabet, MIN_RUN characters or longer, as [start, end). */
function* alphabetRuns(text: string): Generator<[number, number]> {
  const length = text.length;
  // Invariant: the character before `at` is not in the alphabet, so no run starts before `at`
  // and goes on past it.
  let at = 0;
  while (at + MIN_RUN <= length) {
    const probe = at + MIN_RUN - 1;
    if (!isAlphabet(text.charCodeAt(probe))) {
      at = probe + 1;
      continue;
    }
    let start = probe;
    while (start > at && isAlphabet(text.charCodeAt(start - 1))) start--;
    // A run of MIN_RUN from `start` holds start … start + MIN_RUN - 1: the last character out of
    // the alphabet among probe + 1 … start + MIN_RUN - 1 ends every run that starts before it, so
    // the search goes on after it (Boyer-Moore's skip).
    if (start + MIN_RUN > length) return;
    let outside = start + MIN_RUN - 1;
    while (outside > probe && isAlphabet(text.charCodeAt(outside))) outside--;
    if (outside > probe) {
      at = outside + 1;
      continue;
    }
    let end = start + MIN_RUN;
    while (end < length && isAlphabet(text.charCodeAt(end))) end++;
    at = end + 1; // the character at `end` is not in the alphabet
    if (end - start >= MIN_RUN) yield [start, end];
  }
}

/** The run's decoded text, when it stands alone and decodes to mostly printable ASCII. */
function decodeRun(text: string, start: number, end: number): string | undefined {
  const length = text.length;
  let padded = end;
  while (padded < length && text.charCodeAt(padded) === 0x3d && padded - end < 2) padded++;
  // The run must stand alone: not glued to more padding or to non-ASCII letters.
  const after = padded < length ? text.charCodeAt(padded) : 0;
  if (after >= 128 || ALPHABET[after] !== 0) return undefined;
  const run = text.slice(start, padded);
  // A run with no digit and no + / is almost always a long identifier or word.
  if (!/[0-9+/]/.test(run)) return undefined;
  const bytes = Buffer.from(run, 'base64');
  if (bytes.length < MIN_DECODED_BYTES) return undefined;
  if (printableRatio(bytes, Math.min(bytes.length, 48)) < PRINTABLE_RATIO) return undefined;
  if (printableRatio(bytes, bytes.length) < PRINTABLE_RATIO) return undefined;
  return bytes.toString('latin1');
}
