import type { ScreenedText } from './keyword-prefilter.js';
import type { TextDecoding } from './latin1-text.js';

/**
 * What the scanner reads: a file of a working tree, or the lines one commit (or the index) added
 * to a file. Sources produce units one at a time, so a scan holds one file in memory, not a tree.
 */
export interface TextUnit {
  /** Relative to the scanned root or the repository, with `/`. */
  readonly path: string;
  readonly text: string;
  /** How `text` holds the bytes read: one character per byte ('latin1'), or decoded ('utf8', the default). */
  readonly decoding?: TextDecoding;
  /**
   * For diff hunks: the file's line number for each line of `text`, and whether the change added
   * it (context lines are scanned, so markers and multi-line secrets are seen, but not reported).
   * Absent for whole files: line n of the text is line n of the file, and every line counts.
   */
  readonly lines?: { readonly numbers: readonly number[]; readonly added: readonly boolean[] };
  readonly commit?: { readonly hash: string; readonly author: string; readonly date: string };
  /** What the rule set's byte screen found in the text's bytes, when the source screened them. */
  readonly screened?: ScreenedText;
}

/** What a source passed over, for the summary: a scan that skipped everything proves nothing. */
export interface SourceStats {
  units: number;
  bytes: number;
  skippedBinary: number;
  skippedLarge: number;
  skippedUnreadable: number;
  skippedDirectories: string[];
}

export function emptySourceStats(): SourceStats {
  return { units: 0, bytes: 0, skippedBinary: 0, skippedLarge: 0, skippedUnreadable: 0, skippedDirectories: [] };
}

/** How much of a file's head is searched for a NUL byte. */
export const BINARY_SNIFF_BYTES = 8192;

/** A NUL byte in the first 8 KiB means binary, as git and grep decide it. */
export function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}
