import { ByteScreen, type LiteralShape, type ScreenedBytes } from './byte-screen.js';

/**
 * The cheap first step of a scan: which rules can match a text at all, found in one pass over it
 * for every rule at once, before any rule's own regex runs.
 *
 * Text read as Latin-1 (files, git history) is screened on its bytes by WebAssembly (screen(),
 * byte-screen.ts), which also tells where each rule's pattern can start, where joins and base64
 * runs are, and whether the text can hold a finding at all. activeRules and keywordOffsets below
 * serve the rest: decoded text, rule sets the screen cannot take, the windows around joins and
 * decoded base64.
 *
 * activeRules is V8's regex engine running one case-insensitive alternation of all keywords (native
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
  /** The screen's literals: the distinct keywords, then the rules' pattern prefixes. */
  readonly #literals: readonly string[];
  /** For each literal, the rules it turns on (a keyword of theirs; a prefix turns none on). */
  readonly #literalRules: ReadonlyArray<readonly number[]>;
  /** For each literal, the rules whose regex may match from where it occurs (a prefix of theirs). */
  readonly #literalAnchors: ReadonlyArray<readonly number[]>;
  /** Whether rule i's regex runs only from its prefixes' offsets (it has prefixes, no requiresNearby). */
  readonly #anchored: readonly boolean[];
  /**
   * For each literal, the assignment shape its hits must be followed by, when every rule it serves
   * (as a keyword or a prefix) promises that same shape; undefined otherwise.
   */
  readonly #literalShapes: ReadonlyArray<LiteralShape | undefined>;
  /** Built on first use (a WebAssembly instance); null when a keyword is too short for it. */
  #screen: ByteScreen | null | undefined;

  /**
   * `prefixes`: every match of the rule's pattern starts with one of them (pattern-prefixes.ts);
   * when screened, such a rule's regex is tried only where one occurs.
   */
  constructor(rules: ReadonlyArray<{ readonly keywords: readonly string[]; readonly prefixes?: readonly string[] | undefined; readonly requiresNearby?: unknown; readonly assignment?: (LiteralShape & { readonly key: string }) | undefined }>) {
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
    this.#anchored = rules.map((rule) => rule.prefixes !== undefined && rule.requiresNearby === undefined);
    const prefixes = rules.flatMap((rule, index) => (this.#anchored[index] === true ? rule.prefixes! : []));
    this.#literals = [...new Set([...keywords, ...prefixes])];
    this.#literalRules = this.#literals.map((literal) => rules.flatMap((rule, index) => (rule.keywords.includes(literal) ? [index] : [])));
    this.#literalAnchors = this.#literals.map((literal) => rules.flatMap((rule, index) => (this.#anchored[index] === true && rule.prefixes!.includes(literal) ? [index] : [])));
    // A hit dropped for its shape still turns its rules on (ScreenedBytes.occurred); it is then
    // missing only from the offsets, where the rules that promised the shape cannot match anyway.
    // A literal that also serves a rule without that promise keeps every hit.
    this.#literalShapes = this.#literals.map((_, literal) => {
      const served = [...new Set([...this.#literalRules[literal]!, ...this.#literalAnchors[literal]!])].map((index) => rules[index]!.assignment);
      const first = served[0];
      return first !== undefined && served.every((shape) => shape?.key === first.key) ? first : undefined;
    });
  }

  /**
   * The same answers as activeRules and keywordOffsets, and where joins and base64 runs may be,
   * for a text given as its bytes (a Latin-1 text's offsets are its byte offsets); undefined when
   * this rule set cannot be screened (a keyword of one character, or outside ASCII, or more
   * literals than the screen's tables hold).
   */
  screen(bytes: Uint8Array): ScreenedText | undefined {
    const screen = this.#byteScreen();
    return screen === null ? undefined : this.#screened(screen.screen(bytes));
  }

  /**
   * Where to read a text of `length` bytes for screenInput (ByteScreen.input: valid until the next
   * call here), or undefined when this rule set cannot be screened.
   */
  input(length: number): Uint8Array | undefined {
    return this.#byteScreen()?.input(length);
  }

  /** What screen gives for the `length` bytes written into input(). */
  screenInput(length: number): ScreenedText {
    const screen = this.#byteScreen();
    if (screen === null) throw new Error('screenInput without a screen: input() said there is none');
    return this.#screened(screen.screenInput(length));
  }

  #byteScreen(): ByteScreen | null {
    if (this.#screen === undefined) {
      const usable = this.#literals.every((literal) => literal.length >= 2 && [...literal].every((char) => char.charCodeAt(0) <= 0x7f));
      this.#screen = usable ? screenOrNull(this.#literals, this.#literalShapes) : null;
    }
    return this.#screen;
  }

  #screened({ hits, occurred, base64Runs }: ScreenedBytes): ScreenedText {
    const on = new Uint8Array(this.#ruleCount);
    for (const index of this.#alwaysOn) on[index] = 1;
    for (let literal = 0; literal < occurred.length; literal++) {
      if (occurred[literal] === 1) for (const index of this.#literalRules[literal]!) on[index] = 1;
    }
    const joinCandidates: number[] = [];
    for (let at = 0; at < hits.length; at += 2) if (hits[at + 1]! < 0) joinCandidates.push(hits[at]!);
    const active: number[] = [];
    for (let index = 0; index < on.length; index++) if (on[index] === 1) active.push(index);
    return new ScreenedText(hits, this.#literalRules, this.#literalAnchors, this.#anchored, active, joinCandidates, base64Runs);
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

/** The screen for `literals`, or null when they do not fit its tables (a very large rule file). */
function screenOrNull(literals: readonly string[], shapes: ReadonlyArray<LiteralShape | undefined>): ByteScreen | null {
  try {
    return new ByteScreen(literals, shapes);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
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

/** What the byte screen found in one text (KeywordPrefilter.screen). */
export class ScreenedText {
  constructor(
    /** (offset, keyword index) pairs, ascending offsets; keyword -1 marks a possible join. */
    readonly hits: Int32Array,
    readonly literalRules: ReadonlyArray<readonly number[]>,
    readonly literalAnchors: ReadonlyArray<readonly number[]>,
    readonly anchored: readonly boolean[],
    /** What activeRules gives for the text. */
    readonly activeRules: readonly number[],
    /** Ascending offsets where a join of joined-lines.ts may start: every one of them is here. */
    readonly joinCandidates: readonly number[],
    /** (start, end) pairs: every base64 run decodeBase64Runs would consider. */
    readonly base64Runs: Int32Array,
  ) {}

  /** Nothing here can become a finding: no rule is on, nothing to join, no base64 to decode. */
  get holdsNothing(): boolean {
    return this.activeRules.length === 0 && this.joinCandidates.length === 0 && this.base64Runs.length === 0;
  }

  /**
   * What keywordOffsets gives for rule `index`: every offset where one of its keywords starts
   * (but for a rule with an assignment shape: only where it can follow; such a rule has no
   * requiresNearby, the one use of these offsets).
   */
  keywordOffsets(index: number): number[] {
    return this.#offsets(index, this.literalRules);
  }

  /**
   * For a rule whose matches all start with one of its prefixes: the offsets where one occurs,
   * ascending (every offset a match can start at). Undefined for other rules.
   */
  anchorOffsets(index: number): number[] | undefined {
    return this.anchored[index] === true ? this.#offsets(index, this.literalAnchors) : undefined;
  }

  #offsets(index: number, rulesOf: ReadonlyArray<readonly number[]>): number[] {
    const offsets: number[] = [];
    for (let at = 0; at < this.hits.length; at += 2) {
      const literal = this.hits[at + 1]!;
      const offset = this.hits[at]!;
      if (literal >= 0 && offsets.at(-1) !== offset && rulesOf[literal]!.includes(index)) offsets.push(offset);
    }
    return offsets;
  }
}
