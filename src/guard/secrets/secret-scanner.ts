import { decodeBase64Runs } from './base64-candidates.js';
import { joinedSlice, joinSplitLiterals, originalOffset, spansJoin, windowsAroundJoins } from './joined-lines.js';
import { utf8FromLatin1, type TextDecoding } from './latin1-text.js';
import type { ScreenedText } from './keyword-prefilter.js';
import type { SecretEncoding } from './secret-finding.js';
import type { SecretRule, SecretRuleSet } from './secret-rules.js';

/**
 * Finds secrets in one text with a rule set. The cheap steps come first: a rule's regex runs only
 * when one of its keywords occurs in the lower-cased text; a candidate must then pass the rule's
 * entropy threshold, its `secretMustMatch` and `requiresNearby` checks, and must not look like a
 * placeholder. The secret leaves this module only inside a SecretMatch, which the caller turns
 * into a fingerprint and a redacted prefix.
 */
export interface SecretMatch {
  readonly rule: SecretRule;
  readonly secret: string;
  /** 1-based line and column of the start of the secret (of the base64 run for decoded ones). */
  readonly line: number;
  readonly column: number;
  readonly encoding: SecretEncoding;
}

/** Counts of the one-byte characters of a secret, reused: secrets are short, and there are many candidates. */
const byteCounts = new Uint32Array(256);
const firstSeen = new Uint8Array(256);

/** Shannon entropy of the characters of `value`, in bits per character. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  if (!/[\u0100-\uffff]/.test(value)) return oneByteEntropy(value);
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/**
 * The same sum for a string of characters below 256, without a Map: the terms are added in the
 * order the characters first occur, as above, so the result is the same to the last bit (an
 * entropy exactly at a rule's threshold must not flip).
 */
function oneByteEntropy(value: string): number {
  let distinct = 0;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (byteCounts[code] === 0) firstSeen[distinct++] = code;
    byteCounts[code]! += 1;
  }
  let entropy = 0;
  const length = value.length;
  for (let index = 0; index < distinct; index++) {
    const code = firstSeen[index]!;
    entropy -= length < TERM_LENGTHS ? termOf(byteCounts[code]!, length) : term(byteCounts[code]!, length);
    byteCounts[code] = 0;
  }
  return entropy;
}

/** p·log2(p) for p = count / length, the term of the sum: the same expression wherever it is computed. */
function term(count: number, length: number): number {
  const p = count / length;
  return p * Math.log2(p);
}

/*
 * The terms of strings shorter than TERM_LENGTHS, computed once each: a secret candidate is a
 * dozen to two hundred characters, and Math.log2 for each of its distinct characters was most of
 * the entropy's cost (a tenth of the generic rule's). NaN: not computed yet.
 */
const TERM_LENGTHS = 256;
const terms = new Float64Array(TERM_LENGTHS * TERM_LENGTHS).fill(Number.NaN);

function termOf(count: number, length: number): number {
  const at = length * TERM_LENGTHS + count;
  let known = terms[at]!;
  if (Number.isNaN(known)) known = terms[at] = term(count, length);
  return known;
}

/** Line starts of a text, computed once and only when a candidate needs a position. */
class LineIndex {
  #starts: number[] | undefined;
  /** `decoding` 'latin1': offsets count bytes, and a column is counted in the decoded line. */
  constructor(
    readonly text: string,
    readonly decoding: TextDecoding = 'utf8',
  ) {}
  #lineStarts(): number[] {
    if (this.#starts === undefined) {
      const starts = [0];
      for (let at = this.text.indexOf('\n'); at !== -1; at = this.text.indexOf('\n', at + 1)) starts.push(at + 1);
      this.#starts = starts;
    }
    return this.#starts;
  }
  /** 0-based line index of `offset`. */
  lineOf(offset: number): number {
    const starts = this.#lineStarts();
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }
  position(offset: number): { line: number; column: number } {
    const line = this.lineOf(offset);
    const lineStart = this.#lineStarts()[line]!;
    const before = this.decoding === 'latin1' ? utf8FromLatin1(this.text.slice(lineStart, offset)).length : offset - lineStart;
    return { line: line + 1, column: before + 1 };
  }
  /** Offsets of lines [first, last] (0-based, clamped), the last line's break included. */
  lineSpan(first: number, last: number): { start: number; end: number } {
    const starts = this.#lineStarts();
    const start = starts[Math.min(Math.max(0, first), starts.length - 1)]!;
    const end = last + 1 < starts.length ? starts[Math.max(0, last + 1)]! : this.text.length;
    return { start, end };
  }
  /** The text of lines [first, last] (0-based, clamped). */
  lines(first: number, last: number): string {
    const { start, end } = this.lineSpan(first, last);
    return this.text.slice(start, end);
  }
}

interface Candidate {
  readonly rule: SecretRule;
  readonly ruleIndex: number;
  readonly secret: string;
  readonly start: number;
  readonly end: number;
}

const LINE_BREAKS = /\\[nr]|\s/g;

function isPlaceholder(secret: string, ruleSet: SecretRuleSet): boolean {
  return ruleSet.placeholders.some((placeholder) => placeholder.test(secret));
}

/**
 * Where a `requiresNearby` rule's matches may start: the lines within its `withinLines` of a line
 * holding one of its keywords, merged where they touch. Its secret need not contain a
 * keyword (an AWS secret key is 40 characters of base64), so the whole text would otherwise be
 * searched for it; its nearby pattern is what carries the keyword (the access key id's AKIA).
 */
function nearbyWindows(text: string, ruleSet: SecretRuleSet, ruleIndex: number, withinLines: number, index: LineIndex, screened?: ScreenedText): Array<{ start: number; end: number }> {
  const windows: Array<{ start: number; end: number }> = [];
  for (const offset of screened?.keywordOffsets(ruleIndex) ?? ruleSet.prefilter.keywordOffsets(text, ruleIndex)) {
    const line = index.lineOf(offset);
    const { start, end } = index.lineSpan(line - withinLines, line + withinLines);
    const last = windows.at(-1);
    if (last !== undefined && start <= last.end) last.end = Math.max(last.end, end);
    else windows.push({ start, end });
  }
  return windows;
}

/**
 * Where the secret of `match` is in `text`: from its match indices, or, for a match found without
 * them (stickyProbe), from the same regex with indices run again at the same place.
 */
function secretSpan(match: RegExpExecArray, rule: SecretRule, text: string): [number, number] | undefined {
  if (match.indices !== undefined) return match.indices[rule.secretGroup];
  const regex = rule.stickyRegex;
  regex.lastIndex = match.index;
  return regex.exec(text)?.indices?.[rule.secretGroup];
}

/** The candidate a rule's match makes, or undefined when a check turns it down. */
function candidateOf(match: RegExpExecArray, text: string, rule: SecretRule, ruleIndex: number, ruleSet: SecretRuleSet, index: LineIndex): Candidate | undefined {
  const matched = match[rule.secretGroup];
  if (matched === undefined) return undefined;
  // A secret spread over lines (a PEM body, with real or JSON-escaped line breaks) is the same
  // secret however it is wrapped: the breaks are no part of it, nor of its fingerprint.
  const secret = (index.decoding === 'latin1' ? utf8FromLatin1(matched) : matched).replace(LINE_BREAKS, '');
  if (secret === '') return undefined;
  if (shannonEntropy(secret) < rule.minEntropy) return undefined;
  if (rule.secretMustMatch !== undefined && !rule.secretMustMatch.test(secret)) return undefined;
  if (rule.checkPlaceholders && isPlaceholder(secret, ruleSet)) return undefined;
  const span = secretSpan(match, rule, text);
  if (span === undefined) return undefined;
  if (rule.requiresNearby !== undefined) {
    const line = index.lineOf(span[0]);
    const around = index.lines(line - rule.requiresNearby.withinLines, line + rule.requiresNearby.withinLines);
    if (!rule.requiresNearby.regex.test(around)) return undefined;
  }
  return { rule, ruleIndex, secret, start: span[0], end: span[1] };
}

/**
 * The rule's matches in `text`, or only those starting inside `windows` (ascending, disjoint).
 * With windows the regex still runs on the whole text, from each window's start: look-behinds
 * see what precedes the window and a match may run on past its end (a PEM body in a
 * service-account file). The search only ever moves forward, so it reads the text at most once.
 */
function collect(text: string, rule: SecretRule, ruleIndex: number, ruleSet: SecretRuleSet, index: LineIndex, found: Candidate[], windows?: ReadonlyArray<{ start: number; end: number }>): void {
  if (windows?.length === 0) return;
  const regex = rule.regex;
  regex.lastIndex = windows?.[0]!.start ?? 0;
  let next = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    if (match[0].length === 0) regex.lastIndex++;
    if (windows !== undefined) {
      while (next < windows.length && match.index >= windows[next]!.end) next++;
      if (next === windows.length) return;
      // Between windows: go on from the next window's start (or from this match's end, if later).
      if (match.index < windows[next]!.start) {
        regex.lastIndex = Math.max(regex.lastIndex, windows[next]!.start);
        continue;
      }
    }
    const candidate = candidateOf(match, text, rule, ruleIndex, ruleSet, index);
    if (candidate !== undefined) found.push(candidate);
  }
}

/**
 * The rule's matches in `text`, tried only at `offsets` (ascending; every offset a match can
 * start at): the same matches as a search of the whole text, which finds the leftmost match after
 * the previous one, and that starts at one of them.
 */
function collectAt(text: string, rule: SecretRule, ruleIndex: number, ruleSet: SecretRuleSet, index: LineIndex, found: Candidate[], offsets: readonly number[]): void {
  const regex = rule.stickyProbe;
  let from = 0;
  for (const offset of offsets) {
    if (offset < from) continue;
    regex.lastIndex = offset;
    const match = regex.exec(text);
    if (match === null) continue;
    from = match[0].length === 0 ? offset + 1 : regex.lastIndex;
    const candidate = candidateOf(match, text, rule, ruleIndex, ruleSet, index);
    if (candidate !== undefined) found.push(candidate);
  }
}

function candidates(text: string, ruleSet: SecretRuleSet, index: LineIndex, screened?: ScreenedText): Candidate[] {
  const found: Candidate[] = [];
  for (const ruleIndex of screened?.activeRules ?? ruleSet.prefilter.activeRules(text)) {
    const rule = ruleSet.rules[ruleIndex]!;
    const anchors = screened?.anchorOffsets(ruleIndex);
    if (anchors !== undefined) {
      collectAt(text, rule, ruleIndex, ruleSet, index, found, anchors);
      continue;
    }
    const nearby = rule.requiresNearby !== undefined && rule.keywords.length > 0;
    collect(text, rule, ruleIndex, ruleSet, index, found, nearby ? nearbyWindows(text, ruleSet, ruleIndex, rule.requiresNearby.withinLines, index, screened) : undefined);
  }
  // Where rules overlap (a GitHub token assigned to `token = …` matches the GitHub rule and the
  // generic one), the rule listed first wins: specific rules come before generic ones.
  found.sort((a, b) => a.ruleIndex - b.ruleIndex || a.start - b.start);
  const kept: Candidate[] = [];
  for (const candidate of found) {
    if (!kept.some((other) => candidate.start < other.end && other.start < candidate.end)) kept.push(candidate);
  }
  return kept.sort((a, b) => a.start - b.start);
}

export interface ScanTextOptions {
  /** How many base64 layers to decode (0 turns decoding off). Default 2. */
  readonly base64Depth?: number;
  /** How `text` holds its bytes (latin1-text.ts). Default 'utf8'. */
  readonly decoding?: TextDecoding;
  /**
   * What the rule set's byte screen found in `text` (a Latin-1 text), when the caller screened
   * its bytes already. A Latin-1 text is screened here otherwise.
   */
  readonly screened?: ScreenedText;
}

/** A Latin-1 text's screen, or undefined when the rule set cannot screen (or the text is decoded). */
function screenOf(text: string, ruleSet: SecretRuleSet, options: ScanTextOptions): ScreenedText | undefined {
  if (options.screened !== undefined) return options.screened;
  return options.decoding === 'latin1' ? ruleSet.prefilter.screen(Buffer.from(text, 'latin1')) : undefined;
}

/** Every secret in `text`, in order of position. */
export function scanText(text: string, ruleSet: SecretRuleSet, options: ScanTextOptions = {}): SecretMatch[] {
  const depth = options.base64Depth ?? 2;
  const screened = screenOf(text, ruleSet, options);
  if (screened?.holdsNothing === true) return [];
  const index = new LineIndex(text, options.decoding);
  const matches: SecretMatch[] = [];
  const seen = new Set<string>();
  const add = (rule: SecretRule, secret: string, offset: number, encoding: SecretEncoding) => {
    const key = `${rule.id}\0${secret}\0${offset}`;
    if (seen.has(key)) return;
    seen.add(key);
    matches.push({ rule, secret, ...index.position(offset), encoding });
  };

  const plain = candidates(text, ruleSet, index, screened);
  // A secret split over lines is found whole in the joined text; the piece of it a rule may have
  // matched on one line (`token = "ghp_abc…" +`) is then dropped, not reported as well.
  const joinedSpans: Array<{ start: number; end: number }> = [];
  const joinedMatches: Array<{ candidate: Candidate; start: number }> = [];
  const joined = joinSplitLiterals(text, screened?.joinCandidates);
  if (joined !== undefined) {
    for (const window of windowsAroundJoins(joined)) {
      const part = joinedSlice(joined, window.start, window.end);
      // Screened like the text itself (minified code has thousands of joins): its rules, and where they may match.
      const partScreen = screened === undefined ? undefined : ruleSet.prefilter.screen(Buffer.from(part, 'latin1'));
      for (const candidate of candidates(part, ruleSet, new LineIndex(part, index.decoding), partScreen)) {
        const start = window.start + candidate.start;
        const end = window.start + candidate.end;
        if (!spansJoin(joined, start, end)) continue;
        const originalStart = originalOffset(joined, start);
        joinedSpans.push({ start: originalStart, end: originalOffset(joined, end - 1) + 1 });
        joinedMatches.push({ candidate, start: originalStart });
      }
    }
  }
  for (const candidate of plain) {
    if (!joinedSpans.some((span) => candidate.start < span.end && span.start < candidate.end)) add(candidate.rule, candidate.secret, candidate.start, 'plain');
  }
  for (const { candidate, start } of joinedMatches) add(candidate.rule, candidate.secret, start, 'joined-lines');

  if (depth > 0) {
    for (const run of decodeBase64Runs(text, screened?.base64Runs)) {
      for (const inner of scanText(run.decoded, ruleSet, { base64Depth: depth - 1 })) add(inner.rule, inner.secret, run.offset, 'base64');
    }
  }
  return matches.sort((a, b) => a.line - b.line || a.column - b.column);
}
