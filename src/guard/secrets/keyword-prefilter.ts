/**
 * The cheap first step of a scan: which rules can match a text at all, found in one pass over it
 * for every rule at once, before any rule's own regex runs.
 *
 * The pass is V8's regex engine running one case-insensitive alternation of all keywords (native
 * code: a byte-level Aho-Corasick automaton written in JavaScript measured no faster, 330–430
 * MB/s against 430–570). What made the old pass slow was not the search but stopping at every
 * hit: source code says "token" or "password" on most lines (1.3 million hits in the benchmark's
 * 64 MiB tree). Here a hit only matters the first time it turns a rule on; the search then goes on
 * with an alternation of the keywords of the rules still off, so a text full of "token" costs one
 * search, not a million. Those narrower alternations are compiled once per set of rules still off
 * and cached.
 */
export class KeywordPrefilter {
  readonly #ruleCount: number;
  /** For each lower-case keyword, the rules that one of its substrings (itself included) turns on. */
  readonly #rulesFor = new Map<string, readonly number[]>();
  readonly #keywordsOf: ReadonlyArray<readonly string[]>;
  /** Rules without keywords: always on. */
  readonly #alwaysOn: readonly number[];
  readonly #searchers = new Map<string, RegExp | null>();
  readonly #ruleKeywordRegex: ReadonlyArray<RegExp | undefined>;

  constructor(rules: ReadonlyArray<{ readonly keywords: readonly string[] }>) {
    this.#ruleCount = rules.length;
    this.#keywordsOf = rules.map((rule) => rule.keywords);
    this.#alwaysOn = rules.flatMap((rule, index) => (rule.keywords.length === 0 ? [index] : []));
    const keywords = [...new Set(rules.flatMap((rule) => rule.keywords))];
    for (const keyword of keywords) {
      // Finding "sk-ant-" also finds "sk-": rules keyed on a substring turn on too.
      const within = keywords.filter((other) => keyword.includes(other));
      this.#rulesFor.set(keyword, rules.flatMap((rule, index) => (rule.keywords.some((other) => within.includes(other)) ? [index] : [])));
    }
    this.#ruleKeywordRegex = rules.map((rule) => (rule.keywords.length === 0 ? undefined : alternation(rule.keywords)));
  }

  /** The searcher for the keywords of the rules not yet on; null when every rule is on. */
  #searcherFor(on: Uint8Array): RegExp | null {
    const key = on.join('');
    let searcher = this.#searchers.get(key);
    if (searcher === undefined) {
      const wanted = this.#keywordsOf.flatMap((keywords, index) => (on[index] === 1 ? [] : keywords));
      searcher = wanted.length === 0 ? null : alternation(wanted);
      // Bounded: a user's rule file with many rules could otherwise make one per file.
      if (this.#searchers.size >= 512) this.#searchers.clear();
      this.#searchers.set(key, searcher);
    }
    return searcher;
  }

  /**
   * Indexes (ascending) of the rules whose keywords occur in `text`, compared case-insensitively,
   * plus the rules that have no keywords.
   */
  activeRules(text: string): number[] {
    const on = new Uint8Array(this.#ruleCount);
    for (const index of this.#alwaysOn) on[index] = 1;
    let searcher = this.#searcherFor(on);
    let from = 0;
    while (searcher !== null) {
      searcher.lastIndex = from;
      const match = searcher.exec(text);
      if (match === null) break;
      for (const index of this.#rulesFor.get(match[0].toLowerCase()) ?? []) on[index] = 1;
      searcher = this.#searcherFor(on);
      // Keywords may overlap ("asiakia"): look again from the next character.
      from = match.index + 1;
    }
    const active: number[] = [];
    for (let index = 0; index < on.length; index++) if (on[index] === 1) active.push(index);
    return active;
  }

  /** Offsets of every occurrence of rule `index`'s keywords in `text` (none for a keyword-less rule). */
  keywordOffsets(text: string, index: number): number[] {
    const regex = this.#ruleKeywordRegex[index];
    const offsets: number[] = [];
    if (regex === undefined) return offsets;
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
      offsets.push(match.index);
      regex.lastIndex = match.index + 1;
    }
    return offsets;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One global, case-insensitive alternation, longest keyword first so the longest one is reported. */
function alternation(keywords: readonly string[]): RegExp {
  const sorted = [...new Set(keywords)].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  return new RegExp(sorted.map(escapeRegExp).join('|'), 'gi');
}
