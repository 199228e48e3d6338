/**
 * Text read as Latin-1: one character per byte of the file, its UTF-8 neither validated nor
 * decoded. Why: decoding UTF-8 validates every byte, and one non-ASCII character (an em dash in a
 * comment) makes V8 build a two-byte string that every regex then reads at twice the bytes; read
 * as Latin-1, a file is one copy into a one-byte string, and string offsets are byte offsets.
 * The rules look for ASCII (keywords, token prefixes, base64 and hex bodies), and the UTF-8 of a
 * non-ASCII character is bytes 0x80–0xFF, never ASCII, so they find the same secrets. What a
 * reader sees — the secret behind a fingerprint and a redacted prefix, a column, the reason of a
 * suppression marker — is decoded back to UTF-8 here, so it is the same as a UTF-8 read gives.
 *
 * Only rules written in ASCII can be run this way (a keyword "пароль" never occurs in Latin-1
 * text): `textDecodingFor` in secret-rules.ts falls back to UTF-8 for a rule set with any other.
 */
export type TextDecoding = 'utf8' | 'latin1';

const NON_ASCII = /[\u0080-\uffff]/;

/** The UTF-8 text whose bytes `latin1` holds one per character (itself when it is ASCII). */
export function utf8FromLatin1(latin1: string): string {
  return NON_ASCII.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
}

/** `text` as a reader sees it: decoded from UTF-8 when it was read as Latin-1. */
export function readableText(text: string, decoding: TextDecoding): string {
  return decoding === 'latin1' ? utf8FromLatin1(text) : text;
}

/** Whether a keyword or a regex is written in ASCII alone: no other character, no \u escape, no \x80–\xff. */
export function isWrittenInAscii(source: string): boolean {
  return !NON_ASCII.test(source) && !/\\u|\\x[89a-f]/i.test(source);
}
