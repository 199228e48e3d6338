import { type Condition, compileConditions, isPlainObject } from './conditions.js';
import { Pattern } from './pattern.js';
import { PolicyError, quote } from './policy-error.js';

export { PolicyError } from './policy-error.js';

/**
 * IAM JSON policy documents: parsed, validated and compiled once (when a policy is attached or a
 * bucket policy is put), so that evaluating one per request is matching only.
 * Grammar and rules: IAM JSON policy element reference (Version, Id, Statement, Sid, Effect,
 * Principal/NotPrincipal, Action/NotAction, Resource/NotResource, Condition) and the S3 User
 * Guide's bucket policy rules (a bucket policy names principals; 20 KB limit).
 */

/** Identity policies are attached to a user or service; bucket policies to a bucket and name principals. */
export type PolicyKind = 'identity' | 'bucket';
/** Without a Version, IAM reads a policy as 2008-10-17: no policy variables. */
export type PolicyVersion = '2012-10-17' | '2008-10-17';
export type Effect = 'Allow' | 'Deny';

/** "Bucket policies are limited to 20 KB in size." Checked before the text is parsed. */
export const MAX_POLICY_BYTES = 20 * 1024;

/** `Action` or `NotAction` (negated), `Resource` or `NotResource`, compiled. */
export interface PatternList {
  readonly negated: boolean;
  readonly patterns: readonly Pattern[];
}

/** `Principal` or `NotPrincipal` (negated) of a bucket policy statement. */
export interface PrincipalList {
  readonly negated: boolean;
  /** `"*"` or `{"AWS": "*"}`: every authenticated principal. */
  readonly anyone: boolean;
  readonly arns: readonly string[];
}

export interface PolicyStatement {
  /** Position in the document's Statement list (0 for a single statement object). */
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: Effect;
  /** Action patterns match case-insensitively ("Action ... values are case-insensitive"). */
  readonly action: PatternList;
  readonly resource: PatternList;
  /** Only in bucket policies. */
  readonly principal: PrincipalList | undefined;
  readonly conditions: readonly Condition[];
}

export interface PolicyDocument {
  readonly kind: PolicyKind;
  readonly version: PolicyVersion;
  readonly id: string | undefined;
  readonly statements: readonly PolicyStatement[];
  /** The JSON exactly as given (GetBucketPolicy returns it unchanged); for an object, its JSON.stringify. */
  readonly text: string;
}

/** A policy with the name the audit log shows when one of its statements decides (`role:pruner`, `inline:ci`, `bucket-policy`). */
export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

export interface ParseOptions {
  readonly kind: PolicyKind;
  /** For a bucket policy: the bucket it is for; every Resource must then name it or its objects. */
  readonly bucket?: string | undefined;
}

const DOCUMENT_FIELDS = ['Version', 'Id', 'Statement'];
const STATEMENT_FIELDS = ['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Principal', 'NotPrincipal', 'Condition'];
const ACTION = /^(s3|holdfast):[A-Za-z0-9*?]+$/i;
const S3_ARN = 'arn:aws:s3:::';
const HOLDFAST_ARN = 'arn:holdfast:';

/** Parses and validates a policy; throws PolicyError naming the statement and field at fault. */
export function parsePolicy(input: string | object, options: ParseOptions): PolicyDocument {
  let text: string;
  try {
    text = typeof input === 'string' ? input : JSON.stringify(input);
  } catch {
    throw new PolicyError('The policy cannot be written as JSON.');
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    throw new PolicyError(`The policy is larger than ${MAX_POLICY_BYTES} bytes; split it or use wildcards.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PolicyError(`The policy is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(json)) throw new PolicyError('The policy must be a JSON object with "Version" and "Statement".');
  rejectUnknownFields(json, DOCUMENT_FIELDS, 'The policy');

  const version = json.Version ?? '2008-10-17';
  if (version !== '2012-10-17' && version !== '2008-10-17') {
    throw new PolicyError(`The policy's "Version" must be "2012-10-17" (or the older "2008-10-17"), got ${quote(version)}.`);
  }
  const id = json.Id;
  if (id !== undefined && typeof id !== 'string') throw new PolicyError(`The policy's "Id" must be a string, got ${quote(id)}.`);

  const raw = json.Statement;
  const list = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined ? [] : [raw];
  if (list.length === 0) throw new PolicyError('The policy must have a "Statement": one statement object or a non-empty list of them.');
  const statements = list.map((statement, index) => compileStatement(statement, index, version, options));

  const seen = new Set<string>();
  for (const statement of statements) {
    if (statement.sid === undefined || statement.sid === '') continue;
    if (seen.has(statement.sid)) throw new PolicyError(`${label(statement.index, statement.sid)}: field "Sid" repeats an earlier statement's; each Sid must be unique.`);
    seen.add(statement.sid);
  }
  return Object.freeze({ kind: options.kind, version, id, statements: Object.freeze(statements), text });
}

/** `Statement[2] (Sid "DenyDeletes")`: how messages and the audit log name a statement. */
export function label(index: number, sid: string | undefined): string {
  return sid === undefined || sid === '' ? `Statement[${index}]` : `Statement[${index}] (Sid ${quote(sid)})`;
}

function compileStatement(raw: unknown, index: number, version: PolicyVersion, options: ParseOptions): PolicyStatement {
  if (!isPlainObject(raw)) throw new PolicyError(`Statement[${index}] must be an object, got ${quote(raw)}.`);
  const sid = raw.Sid;
  if (sid !== undefined && typeof sid !== 'string') throw new PolicyError(`Statement[${index}]: field "Sid" must be a string, got ${quote(sid)}.`);
  const where = label(index, sid);
  rejectUnknownFields(raw, STATEMENT_FIELDS, where);

  const effect = raw.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') throw new PolicyError(`${where}: field "Effect" must be "Allow" or "Deny", got ${quote(effect)}.`);

  const variables = version === '2012-10-17';
  const action = exactlyOne(raw, 'Action', 'NotAction', where, (value, field) => compileAction(value, field, where, options.kind));
  const resource = exactlyOne(raw, 'Resource', 'NotResource', where, (value, field) => compileResource(value, field, where, options, variables));
  let principal: PrincipalList | undefined;
  if (options.kind === 'bucket') {
    principal = exactlyOne(raw, 'Principal', 'NotPrincipal', where, (value, field) => compilePrincipal(value, field, where));
  } else {
    for (const field of ['Principal', 'NotPrincipal']) {
      if (raw[field] !== undefined) {
        throw new PolicyError(`${where}: field "${field}" is not allowed in an identity policy: the identity it is attached to is the principal. Principal belongs in bucket policies.`);
      }
    }
  }
  const conditions = raw.Condition === undefined ? [] : compileConditions(raw.Condition, where, variables);
  return Object.freeze({ index, sid, effect, action, resource, principal, conditions: Object.freeze(conditions) });
}

function rejectUnknownFields(object: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const field of Object.keys(object)) {
    if (!allowed.includes(field)) throw new PolicyError(`${where}: unknown field ${quote(field)}; allowed fields are ${allowed.join(', ')}.`);
  }
}

/** IAM requires exactly one of an element and its Not- form (Action/NotAction, ...). */
function exactlyOne<T>(raw: Record<string, unknown>, positive: string, negative: string, where: string, compile: (value: unknown, field: string) => T): T {
  const hasPositive = raw[positive] !== undefined;
  const hasNegative = raw[negative] !== undefined;
  if (hasPositive === hasNegative) {
    throw new PolicyError(`${where}: ${hasPositive ? 'has both' : 'needs one of'} fields "${positive}" and "${negative}"; give exactly one.`);
  }
  return hasPositive ? compile(raw[positive], positive) : compile(raw[negative], negative);
}

function stringList(value: unknown, field: string, where: string): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0 || !list.every((item): item is string => typeof item === 'string')) {
    throw new PolicyError(`${where}: field "${field}" must be a string or a non-empty list of strings, got ${quote(value)}.`);
  }
  return list;
}

function compileAction(value: unknown, field: string, where: string, kind: PolicyKind): PatternList {
  const patterns = stringList(value, field, where).map((action) => {
    if (action !== '*' && !ACTION.test(action)) {
      throw new PolicyError(`${where}: field "${field}" value ${quote(action)} is not an action; use "*", "s3:<Action>" or "holdfast:<Action>" (wildcards * and ? allowed after the colon).`);
    }
    if (kind === 'bucket' && action.toLowerCase().startsWith('holdfast:')) {
      throw new PolicyError(`${where}: field "${field}" value ${quote(action)} is an admin action; a bucket policy governs S3 actions only ("s3:..." or "*").`);
    }
    return new Pattern(action, { wildcards: true, variables: false, lowerCase: true }, `${where} field "${field}"`);
  });
  return Object.freeze({ negated: field === 'NotAction', patterns: Object.freeze(patterns) });
}

function compileResource(value: unknown, field: string, where: string, options: ParseOptions, variables: boolean): PatternList {
  const patterns = stringList(value, field, where).map((resource) => {
    const s3 = resource.startsWith(S3_ARN) && resource.length > S3_ARN.length;
    const admin = resource.startsWith(HOLDFAST_ARN) && resource.length > HOLDFAST_ARN.length;
    if (resource !== '*' && !s3 && !admin) {
      throw new PolicyError(
        `${where}: field "${field}" value ${quote(resource)} is not a resource; use "*", "arn:aws:s3:::bucket", "arn:aws:s3:::bucket/key-pattern" or an "arn:holdfast:..." admin resource.`,
      );
    }
    if (admin && options.kind === 'bucket') {
      throw new PolicyError(`${where}: field "${field}" value ${quote(resource)} is an admin resource; a bucket policy names its bucket and objects only.`);
    }
    const pattern = new Pattern(resource, { wildcards: true, variables }, `${where} field "${field}"`);
    if (options.bucket !== undefined && field === 'Resource' && !appliesToBucket(pattern, options.bucket)) {
      throw new PolicyError(
        `${where}: field "Resource" value ${quote(resource)} does not name bucket ${quote(options.bucket)} or its objects; a bucket policy may only name its own bucket ("${S3_ARN}${options.bucket}", "${S3_ARN}${options.bucket}/*").`,
      );
    }
    return pattern;
  });
  return Object.freeze({ negated: field === 'NotResource', patterns: Object.freeze(patterns) });
}

function appliesToBucket(pattern: Pattern, bucket: string): boolean {
  return pattern.matches(`${S3_ARN}${bucket}`) || pattern.couldMatchSomeExtensionOf(`${S3_ARN}${bucket}/`);
}

function compilePrincipal(value: unknown, field: string, where: string): PrincipalList {
  const negated = field === 'NotPrincipal';
  if (value === '*') return Object.freeze({ negated, anyone: true, arns: Object.freeze([]) });
  const expected = `must be "*" or {"AWS": "*" | ARN | [ARNs]} with identity ARNs such as "arn:holdfast:iam:::user/alice"`;
  if (!isPlainObject(value)) throw new PolicyError(`${where}: field "${field}" ${expected}, got ${quote(value)}.`);
  for (const key of Object.keys(value)) {
    if (key !== 'AWS') throw new PolicyError(`${where}: field "${field}" has ${quote(key)} principals, which Holdfast does not have; it ${expected}.`);
  }
  const entries = Array.isArray(value.AWS) ? (value.AWS as unknown[]) : [value.AWS];
  if (entries.length === 0) throw new PolicyError(`${where}: field "${field}" lists no principals; it ${expected}.`);
  const arns: string[] = [];
  let anyone = false;
  for (const entry of entries) {
    if (entry === '*') anyone = true;
    else if (typeof entry === 'string' && entry.startsWith('arn:') && !entry.includes('*') && !entry.includes('?')) arns.push(entry);
    else {
      throw new PolicyError(
        `${where}: field "${field}" value ${quote(entry)} is not a principal; use "*" or an identity ARN such as "arn:holdfast:iam:::user/alice" (no wildcards inside an ARN).`,
      );
    }
  }
  return Object.freeze({ negated, anyone, arns: Object.freeze(arns) });
}
