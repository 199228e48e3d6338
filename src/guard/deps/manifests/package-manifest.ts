/** A package found installed or locked, named and versioned the way OSV names its ecosystem. */
export interface InstalledPackage {
  /** OSV ecosystem: "npm", "Go", "crates.io", "PyPI", "Debian:12", "Ubuntu:22.04". */
  readonly ecosystem: string;
  /** The name OSV records use: for Debian and Ubuntu the SOURCE package. */
  readonly name: string;
  /** The version compared with the advisories: for Debian and Ubuntu the source version. */
  readonly version: string;
  /** 1-based line of the entry in the manifest, when known. */
  readonly line: number;
  /** npm: where it is installed (node_modules/a/node_modules/b); dpkg: the binary packages built from it. */
  readonly paths: readonly string[];
  /** npm: only a devDependency (or its dependency). */
  readonly dev?: boolean;
}

export type ManifestKind = 'npm-lockfile' | 'dpkg-status' | 'go-mod' | 'cargo-lock' | 'poetry-lock' | 'pip-requirements';

export interface PackageManifest {
  readonly kind: ManifestKind;
  /** Relative to the scanned root, with `/`. */
  readonly path: string;
  readonly packages: readonly InstalledPackage[];
  /** Things the reader could not check, for the report ("3 git dependencies skipped"). */
  readonly notes: readonly string[];
}

export class ManifestFormatError extends Error {}

/** 1-based line numbers for offsets in a text, by binary search over line starts. */
export class LineIndex {
  readonly #starts: number[] = [0];
  readonly text: string;
  #cursor = 0;

  constructor(text: string) {
    this.text = text;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.#starts.push(i + 1);
  }

  lineOf(offset: number): number {
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.#starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }

  /**
   * The line of the next occurrence of `needle` after the previous one found: JSON objects keep
   * their key order, so walking a parsed lockfile in order finds each key's own line.
   */
  nextLineOf(needle: string): number {
    const at = this.text.indexOf(needle, this.#cursor);
    if (at === -1) return 1;
    this.#cursor = at + needle.length;
    return this.lineOf(at);
  }
}
