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
 * (any such run covers every MIN_RUN-th position), then walks back to the run's start and on to
 * its end. Source text is mostly letters, so it still touches many characters, but about half as
 * many as a plain loop; a regex with a look-behind for the run's edge costs several times more.
 */
export function decodeBase64Runs(text: string): DecodedRun[] {
  const runs: DecodedRun[] = [];
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
    let end = probe + 1;
    while (end < length && isAlphabet(text.charCodeAt(end))) end++;
    at = end + 1; // the character at `end` is not in the alphabet
    if (end - start < MIN_RUN) continue;
    let padded = end;
    while (padded < length && text.charCodeAt(padded) === 0x3d && padded - end < 2) padded++;
    // The run must stand alone: not glued to more padding or to non-ASCII letters.
    const after = padded < length ? text.charCodeAt(padded) : 0;
    if (after >= 128 || ALPHABET[after] !== 0) continue;
    const run = text.slice(start, padded);
    // A run with no digit and no + / is almost always a long identifier or word.
    if (!/[0-9+/]/.test(run)) continue;
    const bytes = Buffer.from(run, 'base64');
    if (bytes.length < MIN_DECODED_BYTES) continue;
    if (printableRatio(bytes, Math.min(bytes.length, 48)) < PRINTABLE_RATIO) continue;
    if (printableRatio(bytes, bytes.length) < PRINTABLE_RATIO) continue;
    runs.push({ offset: start, decoded: bytes.toString('latin1') });
  }
  return runs;
}
