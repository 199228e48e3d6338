import type { AttributeValue } from '../config-item.js';
import { attributeSet, attributeValue, isRecord, oneOrMany, sha256Hex } from '../attribute-values.js';

/**
 * An IAM policy document (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html)
 * in canonical form: one-or-many fields (Action, Resource, principal lists, condition values) as
 * sorted sets, statements sorted — their order carries no meaning — so the same policy written two
 * ways compares equal. Terraform keeps policies as JSON strings (`policy`, `json`); a string that
 * is not JSON is recorded by its SHA-256, so a change still shows.
 */
export interface PolicyStatement {
  readonly sid?: string;
  readonly effect: string;
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  readonly principals?: AttributeValue;
  readonly notPrincipals?: AttributeValue;
  readonly conditions?: AttributeValue;
}

export interface PolicyDocument {
  readonly version?: string;
  readonly statements: readonly PolicyStatement[];
}

function principals(value: unknown): AttributeValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value; // "*"
  if (!isRecord(value)) return attributeValue(value);
  const out: Record<string, AttributeValue> = {};
  for (const key of Object.keys(value).sort()) out[key] = oneOrMany(value[key]);
  return out;
}

function conditions(value: unknown): AttributeValue | undefined {
  if (!isRecord(value)) return undefined;
  const out: Record<string, Record<string, AttributeValue>> = {};
  for (const operator of Object.keys(value).sort()) {
    const keys = value[operator];
    if (!isRecord(keys)) continue;
    const entries: Record<string, AttributeValue> = {};
    for (const key of Object.keys(keys).sort()) entries[key] = oneOrMany(Array.isArray(keys[key]) ? keys[key] : [keys[key]].map((entry) => (typeof entry === 'string' ? entry : JSON.stringify(entry))));
    out[operator] = entries;
  }
  return attributeValue(out);
}

export function normalizeStatement(raw: Record<string, unknown>): PolicyStatement {
  const principal = principals(raw.Principal);
  const notPrincipal = principals(raw.NotPrincipal);
  const condition = conditions(raw.Condition);
  return {
    ...(typeof raw.Sid === 'string' && raw.Sid !== '' ? { sid: raw.Sid } : {}),
    effect: typeof raw.Effect === 'string' ? raw.Effect : 'Allow',
    actions: oneOrMany(raw.Action),
    notActions: oneOrMany(raw.NotAction),
    resources: oneOrMany(raw.Resource),
    notResources: oneOrMany(raw.NotResource),
    ...(principal === undefined ? {} : { principals: principal }),
    ...(notPrincipal === undefined ? {} : { notPrincipals: notPrincipal }),
    ...(condition === undefined ? {} : { conditions: condition }),
  };
}

/** Parses a policy document object (already JSON-decoded). */
export function normalizePolicyDocument(raw: unknown): PolicyDocument {
  if (!isRecord(raw)) return { statements: [] };
  const statements = (Array.isArray(raw.Statement) ? raw.Statement : [raw.Statement]).filter(isRecord).map(normalizeStatement);
  return { ...(typeof raw.Version === 'string' ? { version: raw.Version } : {}), statements: attributeSet(statements) as unknown as PolicyStatement[] };
}

/**
 * A policy as Terraform stores it: a JSON string. Returns the canonical document as an attribute,
 * `null` for an empty string, or `{ unparsed: sha256 }` for text that is not JSON.
 */
export function policyAttribute(text: unknown): AttributeValue {
  if (isRecord(text)) return attributeValue(normalizePolicyDocument(text));
  if (typeof text !== 'string' || text.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return attributeValue({ unparsed: `sha256:${sha256Hex(text)}` });
  }
  return attributeValue(normalizePolicyDocument(parsed));
}

/** The statements of a policy attribute written by policyAttribute, for the rules. */
export function statementsOf(policy: AttributeValue | undefined): PolicyStatement[] {
  if (!isRecord(policy) || !Array.isArray(policy.statements)) return [];
  return policy.statements.filter(isRecord) as unknown as PolicyStatement[];
}

/**
 * `aws_iam_policy_document` computed without a `json` attribute (a plan that has not read it yet):
 * its `statement` blocks, in the provider's schema (actions, resources, effect, principals{type,
 * identifiers}, condition{test, variable, values}), turned into the JSON grammar.
 */
export function documentFromStatementBlocks(blocksValue: unknown): PolicyDocument {
  const statements = (Array.isArray(blocksValue) ? blocksValue : []).filter(isRecord).map((block) => {
    const principal: Record<string, string[]> = {};
    for (const entry of Array.isArray(block.principals) ? block.principals.filter(isRecord) : []) {
      if (typeof entry.type === 'string') principal[entry.type] = [...(principal[entry.type] ?? []), ...oneOrMany(entry.identifiers)];
    }
    const condition: Record<string, Record<string, string[]>> = {};
    for (const entry of Array.isArray(block.condition) ? block.condition.filter(isRecord) : []) {
      if (typeof entry.test !== 'string' || typeof entry.variable !== 'string') continue;
      (condition[entry.test] ??= {})[entry.variable] = [...oneOrMany(entry.values)];
    }
    return normalizeStatement({
      Sid: block.sid,
      Effect: block.effect ?? 'Allow',
      Action: block.actions,
      NotAction: block.not_actions,
      Resource: block.resources,
      NotResource: block.not_resources,
      ...(Object.keys(principal).length > 0 ? { Principal: principal } : {}),
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    });
  });
  return { version: '2012-10-17', statements: attributeSet(statements) as unknown as PolicyStatement[] };
}
