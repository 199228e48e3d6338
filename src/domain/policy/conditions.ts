import { CONDITION_KEYS, type ConditionKey, canonicalConditionKey } from './condition-keys.js';
import { parseBoolean, parseDateMs, parseDecimal } from './condition-values.js';
import { type CidrBlock, cidrContains, parseCidr, parseIpAddress } from './ip-address.js';
import { Pattern, type VariableSource } from './pattern.js';
import { PolicyError, quote } from './policy-error.js';

/**
 * The `Condition` element: operators compiled at parse time, evaluated per request.
 * Semantics (IAM JSON policy elements: Condition operators; Condition; single-valued vs
 * multivalued context keys):
 * - several values for one key are ORed; several keys, and several operators, are ANDed;
 * - a key absent from the request makes a positive operator false and a negated one
 *   (StringNotEquals, NotIpAddress, ArnNotLike...) true; `...IfExists` is true when the key is
 *   absent; `Null` tests presence itself;
 * - a negated operator is the negation of its positive twin over all the policy values
 *   ("not A and not B");
 * - `ForAnyValue:` holds when some request value satisfies the operator (false when the key is
 *   absent); `ForAllValues:` when every request value does (true when the key is absent).
 * Policy variables are substituted in String and Arn operator values (Version 2012-10-17);
 * Bool values must be literally true or false. Unknown operators, unknown keys and values of the
 * wrong type are parse errors, never a silent false (which in a Deny would silently allow).
 */

export type ContextValue = string | readonly string[] | undefined;

/** What conditions read from the request being evaluated. */
export interface ConditionInput extends VariableSource {
  value(key: ConditionKey): ContextValue;
}

type Family = 'String' | 'Numeric' | 'Date' | 'Bool' | 'IpAddress' | 'Arn' | 'Null';
type Comparison = 'eq' | 'lt' | 'le' | 'gt' | 'ge';
type StringMode = 'exact' | 'ignoreCase' | 'like';

interface OperatorSpec {
  readonly family: Family;
  readonly negated: boolean;
  readonly comparison?: Comparison;
  readonly stringMode?: StringMode;
}

const OPERATORS: Readonly<Record<string, OperatorSpec>> = {
  StringEquals: { family: 'String', negated: false, stringMode: 'exact' },
  StringNotEquals: { family: 'String', negated: true, stringMode: 'exact' },
  StringEqualsIgnoreCase: { family: 'String', negated: false, stringMode: 'ignoreCase' },
  StringNotEqualsIgnoreCase: { family: 'String', negated: true, stringMode: 'ignoreCase' },
  StringLike: { family: 'String', negated: false, stringMode: 'like' },
  StringNotLike: { family: 'String', negated: true, stringMode: 'like' },
  ...comparisons('Numeric'),
  ...comparisons('Date'),
  Bool: { family: 'Bool', negated: false },
  IpAddress: { family: 'IpAddress', negated: false },
  NotIpAddress: { family: 'IpAddress', negated: true },
  ArnEquals: { family: 'Arn', negated: false },
  ArnLike: { family: 'Arn', negated: false },
  ArnNotEquals: { family: 'Arn', negated: true },
  ArnNotLike: { family: 'Arn', negated: true },
  Null: { family: 'Null', negated: false },
};

function comparisons(family: 'Numeric' | 'Date'): Record<string, OperatorSpec> {
  return {
    [`${family}Equals`]: { family, negated: false, comparison: 'eq' },
    [`${family}NotEquals`]: { family, negated: true, comparison: 'eq' },
    [`${family}LessThan`]: { family, negated: false, comparison: 'lt' },
    [`${family}LessThanEquals`]: { family, negated: false, comparison: 'le' },
    [`${family}GreaterThan`]: { family, negated: false, comparison: 'gt' },
    [`${family}GreaterThanEquals`]: { family, negated: false, comparison: 'ge' },
  };
}

/** Operator names are matched case-insensitively; messages and the normalized form use these spellings. */
const operatorByLowerCase = new Map(Object.keys(OPERATORS).map((name) => [name.toLowerCase(), name]));

export type SetQualifier = 'ForAnyValue' | 'ForAllValues';

/** Tests one request value against the policy values (ORed), before negation. */
type ValueTest = (value: string, input: ConditionInput) => boolean;

/** One operator applied to one key, e.g. `"StringLike": { "s3:prefix": ["home/*"] }`. */
export class Condition {
  /** The normalized operator as written, e.g. `ForAllValues:StringLikeIfExists`. */
  readonly operator: string;
  readonly key: ConditionKey;
  readonly values: readonly string[];
  readonly qualifier: SetQualifier | undefined;
  readonly ifExists: boolean;
  readonly negated: boolean;
  readonly #test: ValueTest;
  /** For `Null`: the presence states that satisfy it (true = key absent). */
  readonly #nullWhenAbsent: boolean | undefined;
  readonly #nullWhenPresent: boolean | undefined;

  constructor(operator: string, spec: OperatorSpec, qualifier: SetQualifier | undefined, ifExists: boolean, key: ConditionKey, values: readonly string[], test: ValueTest) {
    this.operator = operator;
    this.key = key;
    this.values = Object.freeze([...values]);
    this.qualifier = qualifier;
    this.ifExists = ifExists;
    this.negated = spec.negated;
    this.#test = test;
    if (spec.family === 'Null') {
      const wanted = values.map((v) => parseBoolean(v));
      this.#nullWhenAbsent = wanted.includes(true);
      this.#nullWhenPresent = wanted.includes(false);
    }
    Object.freeze(this);
  }

  holds(input: ConditionInput): boolean {
    const raw = input.value(this.key);
    const absent = raw === undefined || (typeof raw !== 'string' && raw.length === 0);
    if (this.#nullWhenAbsent !== undefined) return absent ? this.#nullWhenAbsent : this.#nullWhenPresent === true;
    if (raw === undefined || absent) return this.ifExists || this.qualifier === 'ForAllValues' || (this.qualifier === undefined && this.negated);
    if (typeof raw === 'string') return this.#test(raw, input) !== this.negated;
    switch (this.qualifier) {
      case 'ForAnyValue':
        return raw.some((v) => this.#test(v, input) !== this.negated);
      case 'ForAllValues':
        return raw.every((v) => this.#test(v, input) !== this.negated);
      case undefined:
        // A multivalued key under a plain operator: matched if any value matches, then negated.
        return raw.some((v) => this.#test(v, input)) !== this.negated;
    }
  }
}

/**
 * Compiles a statement's `Condition` block. `where` names the statement for messages;
 * `variables` is true for Version 2012-10-17 documents.
 */
export function compileConditions(block: unknown, where: string, variables: boolean): Condition[] {
  if (!isPlainObject(block)) {
    throw new PolicyError(`${where}: field "Condition" must be an object mapping operators to { "key": value or [values] }, got ${quote(block)}.`);
  }
  const conditions: Condition[] = [];
  for (const [written, body] of Object.entries(block)) {
    const { name, spec, qualifier, ifExists } = parseOperator(written, where);
    if (!isPlainObject(body) || Object.keys(body).length === 0) {
      throw new PolicyError(`${where}: Condition operator "${name}" must map at least one condition key to a value or list of values, got ${quote(body)}.`);
    }
    for (const [writtenKey, rawValues] of Object.entries(body)) {
      const key = canonicalConditionKey(writtenKey);
      const at = `${where}: Condition "${name}" key "${writtenKey}"`;
      if (key === undefined) throw new PolicyError(`${at} is not a condition key Holdfast evaluates; known keys: ${CONDITION_KEYS.join(', ')}.`);
      const values = conditionValues(rawValues, at);
      conditions.push(new Condition(name, spec, qualifier, ifExists, key, values, compileTest(spec, values, at, variables)));
    }
  }
  return conditions;
}

function parseOperator(written: string, where: string): { name: string; spec: OperatorSpec; qualifier: SetQualifier | undefined; ifExists: boolean } {
  let rest = written;
  let qualifier: SetQualifier | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const prefix = rest.slice(0, colon).toLowerCase();
    qualifier = prefix === 'foranyvalue' ? 'ForAnyValue' : prefix === 'forallvalues' ? 'ForAllValues' : undefined;
    if (qualifier === undefined) throw unknownOperator(written, where);
    rest = rest.slice(colon + 1);
  }
  const ifExists = rest.toLowerCase().endsWith('ifexists');
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  const base = operatorByLowerCase.get(rest.toLowerCase());
  const spec = base === undefined ? undefined : OPERATORS[base];
  if (base === undefined || spec === undefined) throw unknownOperator(written, where);
  if (spec.family === 'Null' && (ifExists || qualifier !== undefined)) {
    throw new PolicyError(`${where}: Condition operator "${written}" is not allowed: Null takes neither the IfExists suffix nor a ForAnyValue:/ForAllValues: prefix.`);
  }
  const name = `${qualifier === undefined ? '' : `${qualifier}:`}${base}${ifExists ? 'IfExists' : ''}`;
  return { name, spec, qualifier, ifExists };
}

function unknownOperator(written: string, where: string): PolicyError {
  return new PolicyError(
    `${where}: Condition operator ${quote(written)} is not one Holdfast knows; operators are ${Object.keys(OPERATORS).join(', ')}, each (but Null) with an optional IfExists suffix and ForAnyValue: or ForAllValues: prefix.`,
  );
}

/** A value or a non-empty list of values; JSON numbers and booleans are read as their text. */
function conditionValues(raw: unknown, at: string): string[] {
  const list = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  if (list.length === 0) throw new PolicyError(`${at} has an empty list of values; give at least one.`);
  return list.map((value) => {
    if (typeof value === 'string') return value;
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
    throw new PolicyError(`${at}: each value must be a string, number or boolean, got ${quote(value)}.`);
  });
}

function compileTest(spec: OperatorSpec, values: readonly string[], at: string, variables: boolean): ValueTest {
  switch (spec.family) {
    case 'String':
      return stringTest(spec.stringMode ?? 'exact', values, at, variables);
    case 'Numeric':
      return orderedTest(spec.comparison ?? 'eq', values.map((v) => parsed(parseDecimal(v), v, at, 'a number')), parseDecimal);
    case 'Date':
      return orderedTest(
        spec.comparison ?? 'eq',
        values.map((v) => parsed(parseDateMs(v), v, at, 'an ISO 8601 date ("2033-03-01T00:00:00Z") or epoch seconds')),
        parseDateMs,
      );
    case 'Bool': {
      const wanted = values.map((v) => parseBooleanValue(v, at));
      return (value) => {
        const actual = parseBoolean(value);
        return actual !== undefined && wanted.includes(actual);
      };
    }
    case 'IpAddress': {
      const blocks: CidrBlock[] = values.map((v) => {
        const block = parseCidr(v);
        if (block === undefined) throw new PolicyError(`${at}: ${quote(v)} is not an IP address or CIDR block (e.g. "203.0.113.0/24", "2001:db8::/32").`);
        return block;
      });
      return (value) => {
        const address = parseIpAddress(value);
        return address !== undefined && blocks.some((block) => cidrContains(block, address));
      };
    }
    case 'Arn': {
      const arns = values.map((v) => compileArn(v, at, variables));
      return (value, input) => {
        const components = splitArn(value);
        return components !== undefined && arns.some((arn) => arn.every((pattern, i) => pattern.matches(components[i] as string, input)));
      };
    }
    case 'Null':
      values.forEach((v) => parseBooleanValue(v, at));
      return () => false;
  }
}

function stringTest(mode: StringMode, values: readonly string[], at: string, variables: boolean): ValueTest {
  const lowerCase = mode === 'ignoreCase';
  const patterns = values.map((v) => new Pattern(v, { wildcards: mode === 'like', variables, lowerCase }, at));
  if (mode !== 'like' && !patterns.some((p) => p.hasVariables)) {
    const set = new Set(lowerCase ? values.map((v) => v.toLowerCase()) : values);
    return lowerCase ? (value) => set.has(value.toLowerCase()) : (value) => set.has(value);
  }
  return lowerCase
    ? (value, input) => {
        const lower = value.toLowerCase();
        return patterns.some((p) => p.matches(lower, input));
      }
    : (value, input) => patterns.some((p) => p.matches(value, input));
}

function orderedTest(comparison: Comparison, wanted: readonly number[], parse: (text: string) => number): ValueTest {
  return (value) => {
    const actual = parse(value);
    if (Number.isNaN(actual)) return false;
    return wanted.some((w) => compare(actual, comparison, w));
  };
}

function compare(actual: number, comparison: Comparison, wanted: number): boolean {
  switch (comparison) {
    case 'eq':
      return actual === wanted;
    case 'lt':
      return actual < wanted;
    case 'le':
      return actual <= wanted;
    case 'gt':
      return actual > wanted;
    case 'ge':
      return actual >= wanted;
  }
}

function parsed(value: number, text: string, at: string, what: string): number {
  if (Number.isNaN(value)) throw new PolicyError(`${at}: ${quote(text)} is not ${what}.`);
  return value;
}

function parseBooleanValue(text: string, at: string): boolean {
  const value = parseBoolean(text);
  if (value === undefined) throw new PolicyError(`${at}: ${quote(text)} must be true or false.`);
  return value;
}

/**
 * ArnEquals and ArnLike behave alike: "Each of the six colon-delimited components of the ARN is
 * checked separately and each can include ... wildcards". The sixth component (the resource)
 * keeps any further colons. Colons inside `${...}` do not split.
 */
function compileArn(text: string, at: string, variables: boolean): Pattern[] {
  const components: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length && components.length < 5; i++) {
    if (variables && text.startsWith('${', i)) {
      const close = text.indexOf('}', i);
      if (close > 0) i = close;
    } else if (text.charAt(i) === ':') {
      components.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (components.length < 5) throw new PolicyError(`${at}: ${quote(text)} is not an ARN (arn:partition:service:region:account:resource).`);
  components.push(text.slice(start));
  return components.map((component) => new Pattern(component, { wildcards: true, variables }, at));
}

function splitArn(value: string): string[] | undefined {
  const components: string[] = [];
  let start = 0;
  for (let i = 0; i < 5; i++) {
    const colon = value.indexOf(':', start);
    if (colon < 0) return undefined;
    components.push(value.slice(start, colon));
    start = colon + 1;
  }
  components.push(value.slice(start));
  return components;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
