import defaultRuleFile from './default-secret-rules.json' with { type: 'json' };
import { isSeverity, SEVERITIES, type Severity } from '../severity.js';
import { parseAssignmentShape, type AssignmentShape } from './assignment-shape.js';
import { KeywordPrefilter } from './keyword-prefilter.js';
import { isWrittenInAscii, type TextDecoding } from './latin1-text.js';
import { patternPrefixes } from './pattern-prefixes.js';

/**
 * Secret-detection rules are data (issue 7: "Rules are data … not code"). The built-in set is
 * default-secret-rules.json; a team's own file (`--rules FILE`) adds rules, replaces built-in ones
 * with the same id, disables them, or starts from nothing. The format is documented in README.md
 * beside this file; every problem in a rule file names the rule, the key and the fix.
 */

export { isSeverity, SEVERITIES, severityRank, type Severity } from '../severity.js';

/** One rule, validated and compiled. */
export interface SecretRule {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  /**
   * Lower-case substrings; the regex runs only on text that contains one of them. Empty: the rule
   * runs on every text (slow; for patterns without a fixed part).
   */
  readonly keywords: readonly string[];
  /** Global, with match indices ('gd'), so the secret's own position is known. */
  readonly regex: RegExp;
  /** The same, sticky ('gdy'): tried at one offset, where a prefix occurs. */
  readonly stickyRegex: RegExp;
  /**
   * The same, sticky without match indices ('gy'): tried first, since most matches fail the
   * checks, and building the indices of each cost V8 more than the match itself.
   */
  readonly stickyProbe: RegExp;
  /** Every match starts with one of these (lower case, compared ASCII-case-insensitively); undefined: unknown. */
  readonly prefixes?: readonly string[];
  readonly pattern: string;
  readonly flags: string;
  /** The capture group holding the secret; 0 is the whole match. */
  readonly secretGroup: number;
  /** Minimum Shannon entropy of the secret, in bits per character. */
  readonly minEntropy: number;
  readonly secretMustMatch?: RegExp;
  readonly requiresNearby?: { readonly regex: RegExp; readonly withinLines: number };
  readonly checkPlaceholders: boolean;
  /** The rule's promise that every match is an assignment of this shape (assignment-shape.ts). */
  readonly assignment?: AssignmentShape;
  readonly tags: readonly string[];
  readonly fix: string;
}

export interface SecretRuleSet {
  readonly rules: readonly SecretRule[];
  /** Case-insensitive patterns: a secret matching one is a placeholder, never a finding. */
  readonly placeholders: readonly RegExp[];
  /** One pass over a text tells which rules can match it (their keywords occur in it). */
  readonly prefilter: KeywordPrefilter;
  /** How sources read text for these rules (latin1-text.ts): Latin-1 unless a rule needs UTF-8. */
  readonly textDecoding: TextDecoding;
}

/** A rule file that cannot be used; the message names the place and the fix. */
export class RuleFileError extends Error {}

const RULE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const RULE_KEYS = new Set(['id', 'title', 'severity', 'keywords', 'pattern', 'flags', 'secretGroup', 'minEntropy', 'secretMustMatch', 'requiresNearby', 'checkPlaceholders', 'assignment', 'tags', 'fix']);
const FILE_KEYS = new Set(['version', 'description', 'extends', 'placeholders', 'rules', 'disable']);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compile(source: string, flags: string, where: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new RuleFileError(`${where} is not a valid JavaScript regular expression (${(error as Error).message}); fix the pattern.`);
  }
}

function stringArray(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
    throw new RuleFileError(`${where} must be an array of non-empty strings.`);
  }
  return value as string[];
}

function parseRule(raw: unknown, source: string, index: number): SecretRule {
  const at = `${source}: rules[${index}]`;
  if (!isObject(raw)) throw new RuleFileError(`${at} must be an object.`);
  const id = raw.id;
  if (typeof id !== 'string' || !RULE_ID.test(id)) throw new RuleFileError(`${at}.id must be lower-case letters, digits and dashes (e.g. "acme-api-token").`);
  const where = `${source}: rule "${id}"`;
  for (const key of Object.keys(raw)) {
    if (!RULE_KEYS.has(key)) throw new RuleFileError(`${where} has an unknown key "${key}"; the keys are ${[...RULE_KEYS].join(', ')}.`);
  }
  for (const key of ['title', 'pattern', 'fix'] as const) {
    if (typeof raw[key] !== 'string' || raw[key] === '') throw new RuleFileError(`${where}: "${key}" is required and must be a non-empty string.`);
  }
  const severity = raw.severity;
  if (typeof severity !== 'string' || !isSeverity(severity)) throw new RuleFileError(`${where}: "severity" must be one of ${SEVERITIES.join(', ')}.`);
  const keywords = stringArray(raw.keywords, `${where}: "keywords"`);
  if (keywords.some((keyword) => keyword !== keyword.toLowerCase())) {
    throw new RuleFileError(`${where}: "keywords" must be all lower case (they are matched against lower-cased text); an empty list runs the rule on every text.`);
  }
  const flags = raw.flags ?? '';
  if (typeof flags !== 'string' || !/^[imsu]*$/.test(flags)) throw new RuleFileError(`${where}: "flags" may only hold i, m, s and u.`);
  const pattern = raw.pattern as string;
  const regex = compile(pattern, `${flags}gd`, `${where}: "pattern"`);
  const secretGroup = raw.secretGroup ?? (/(?<!\\)\((?!\?)/.test(pattern) ? 1 : 0);
  if (typeof secretGroup !== 'number' || !Number.isInteger(secretGroup) || secretGroup < 0) throw new RuleFileError(`${where}: "secretGroup" must be a whole number ≥ 0.`);
  const minEntropy = raw.minEntropy ?? 0;
  if (typeof minEntropy !== 'number' || !(minEntropy >= 0 && minEntropy <= 8)) throw new RuleFileError(`${where}: "minEntropy" must be a number from 0 to 8 (bits per character).`);
  let requiresNearby: SecretRule['requiresNearby'];
  if (raw.requiresNearby !== undefined) {
    const nearby = raw.requiresNearby;
    if (!isObject(nearby) || typeof nearby.pattern !== 'string' || typeof nearby.withinLines !== 'number' || !Number.isInteger(nearby.withinLines) || nearby.withinLines < 0) {
      throw new RuleFileError(`${where}: "requiresNearby" must be { "pattern": "…", "withinLines": N }.`);
    }
    requiresNearby = { regex: compile(nearby.pattern, flags, `${where}: "requiresNearby.pattern"`), withinLines: nearby.withinLines };
  }
  const prefixes = patternPrefixes(pattern, flags);
  const checkPlaceholders = raw.checkPlaceholders ?? true;
  if (typeof checkPlaceholders !== 'boolean') throw new RuleFileError(`${where}: "checkPlaceholders" must be true or false.`);
  const assignment = raw.assignment === undefined ? undefined : parseAssignmentShape(raw.assignment, flags, prefixes, requiresNearby !== undefined);
  if (typeof assignment === 'string') throw new RuleFileError(`${where}: ${assignment}`);
  return Object.freeze({
    id,
    title: raw.title as string,
    severity,
    keywords: Object.freeze(keywords),
    regex,
    stickyRegex: compile(pattern, `${flags}gdy`, `${where}: "pattern"`),
    stickyProbe: compile(pattern, `${flags}gy`, `${where}: "pattern"`),
    ...(prefixes === undefined ? {} : { prefixes: Object.freeze(prefixes) }),
    pattern,
    flags,
    secretGroup,
    minEntropy,
    ...(typeof raw.secretMustMatch === 'string' ? { secretMustMatch: compile(raw.secretMustMatch, flags, `${where}: "secretMustMatch"`) } : {}),
    ...(requiresNearby === undefined ? {} : { requiresNearby: Object.freeze(requiresNearby) }),
    checkPlaceholders,
    ...(assignment === undefined ? {} : { assignment }),
    tags: Object.freeze(raw.tags === undefined ? [] : stringArray(raw.tags, `${where}: "tags"`)),
    fix: raw.fix as string,
  });
}

interface ParsedRuleFile {
  readonly extendsDefaults: boolean;
  readonly rules: readonly SecretRule[];
  readonly disable: readonly string[];
  readonly placeholders: readonly string[];
}

function parseRuleFile(raw: unknown, source: string): ParsedRuleFile {
  if (!isObject(raw)) throw new RuleFileError(`${source} must hold a JSON object with "version": 1 and "rules": [...].`);
  for (const key of Object.keys(raw)) {
    if (!FILE_KEYS.has(key)) throw new RuleFileError(`${source} has an unknown top-level key "${key}"; the keys are ${[...FILE_KEYS].join(', ')}.`);
  }
  if (raw.version !== 1) throw new RuleFileError(`${source}: "version" must be 1.`);
  const extendsValue = raw.extends ?? 'default';
  if (extendsValue !== 'default' && extendsValue !== 'none') throw new RuleFileError(`${source}: "extends" must be "default" (add to the built-in rules) or "none" (use only this file's rules).`);
  const rawRules = raw.rules ?? [];
  if (!Array.isArray(rawRules)) throw new RuleFileError(`${source}: "rules" must be an array.`);
  const rules = rawRules.map((rule, index) => parseRule(rule, source, index));
  const ids = new Set<string>();
  for (const rule of rules) {
    if (ids.has(rule.id)) throw new RuleFileError(`${source}: rule id "${rule.id}" appears twice; ids must be unique.`);
    ids.add(rule.id);
  }
  const placeholders = raw.placeholders === undefined ? [] : stringArray(raw.placeholders, `${source}: "placeholders"`);
  placeholders.forEach((placeholder, index) => compile(placeholder, 'i', `${source}: placeholders[${index}]`));
  return {
    extendsDefaults: extendsValue === 'default',
    rules,
    disable: raw.disable === undefined ? [] : stringArray(raw.disable, `${source}: "disable"`),
    placeholders,
  };
}

const builtIn = parseRuleFile(defaultRuleFile, 'built-in rules');

/**
 * 'latin1' when every rule looks for ASCII alone: its keywords, pattern and nearby pattern written
 * in ASCII and no `u` flag (which \p{…} classes need). A rule for "пароль" needs decoded text.
 * The checks on a found secret (secretMustMatch, placeholders) see it decoded either way.
 */
function textDecodingFor(rules: readonly SecretRule[]): TextDecoding {
  const ascii = rules.every(
    (rule) => !rule.flags.includes('u') && rule.keywords.every(isWrittenInAscii) && isWrittenInAscii(rule.pattern) && (rule.requiresNearby === undefined || isWrittenInAscii(rule.requiresNearby.regex.source)),
  );
  return ascii ? 'latin1' : 'utf8';
}

/**
 * The rule set to scan with: the built-in rules, changed by a user's rule file when one is given
 * (`userFile` is its parsed JSON; `source` names it in error messages). A user rule with a
 * built-in id replaces that rule in place; new rules follow the built-in ones, in file order.
 */
export function loadSecretRules(userFile?: unknown, source = 'rule file'): SecretRuleSet {
  const user = userFile === undefined ? undefined : parseRuleFile(userFile, source);
  let rules: SecretRule[] = user === undefined || user.extendsDefaults ? [...builtIn.rules] : [];
  const placeholders = [...builtIn.placeholders, ...(user?.placeholders ?? [])];
  if (user !== undefined) {
    const known = new Set([...rules.map((rule) => rule.id), ...user.rules.map((rule) => rule.id)]);
    for (const id of user.disable) {
      if (!known.has(id)) throw new RuleFileError(`${source}: "disable" names "${id}", which is no rule; \`holdfast scan secrets --list-rules\` lists the ids.`);
    }
    for (const rule of user.rules) {
      const index = rules.findIndex((existing) => existing.id === rule.id);
      if (index === -1) rules.push(rule);
      else rules[index] = rule;
    }
    rules = rules.filter((rule) => !user.disable.includes(rule.id));
  }
  if (rules.length === 0) throw new RuleFileError(`${source} leaves no rules to scan with; add rules or use "extends": "default".`);
  return Object.freeze({
    rules: Object.freeze(rules),
    placeholders: Object.freeze(placeholders.map((placeholder) => new RegExp(placeholder, 'i'))),
    prefilter: new KeywordPrefilter(rules),
    textDecoding: textDecodingFor(rules),
  });
}

/** The rules as the documented file format, for `--list-rules` and as a starting point. */
export function describeRules(set: SecretRuleSet): object {
  return {
    version: 1,
    placeholders: set.placeholders.map((placeholder) => placeholder.source),
    rules: set.rules.map((rule) => ({
      id: rule.id,
      title: rule.title,
      severity: rule.severity,
      keywords: rule.keywords,
      pattern: rule.pattern,
      ...(rule.flags === '' ? {} : { flags: rule.flags }),
      secretGroup: rule.secretGroup,
      minEntropy: rule.minEntropy,
      ...(rule.secretMustMatch === undefined ? {} : { secretMustMatch: rule.secretMustMatch.source }),
      ...(rule.requiresNearby === undefined ? {} : { requiresNearby: { pattern: rule.requiresNearby.regex.source, withinLines: rule.requiresNearby.withinLines } }),
      checkPlaceholders: rule.checkPlaceholders,
      ...(rule.assignment === undefined ? {} : { assignment: { keyChars: rule.assignment.keyChars, maxKeyLength: rule.assignment.maxKeyLength, valueChars: rule.assignment.valueChars, minValueLength: rule.assignment.minValueLength } }),
      tags: rule.tags,
      fix: rule.fix,
    })),
  };
}
