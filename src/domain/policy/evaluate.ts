import type { ConditionKey } from './condition-keys.js';
import type { ConditionInput, ContextValue } from './conditions.js';
import type { NamedPolicy, PatternList, PolicyStatement, PrincipalList } from './policy-document.js';
import type { VariableSource } from './pattern.js';

/**
 * Authorization of one request against the policies that apply to it, with AWS's logic for a
 * single account (IAM User Guide, "Policy evaluation logic"; S3 User Guide, "How Amazon S3
 * authorizes a request"): an explicit Deny in any applicable policy wins; otherwise an Allow in
 * an identity policy or in the bucket policy (whose Principal names the caller, or "*") allows;
 * otherwise the request is implicitly denied. Runs on every request: no parsing, no RegExp, no
 * JSON here; patterns were compiled when the policies were parsed.
 */

export type PrincipalKind = 'user' | 'service' | 'root';

export interface RequestPrincipal {
  /** e.g. `arn:holdfast:iam:::user/alice`; matched exactly against bucket policy principals. */
  readonly arn: string;
  readonly name: string;
  readonly kind: PrincipalKind;
}

export interface AuthorizationRequest {
  readonly principal: RequestPrincipal;
  /** e.g. `s3:GetObject`, `holdfast:ListIdentities`; matched case-insensitively. */
  readonly action: string;
  /** e.g. `arn:aws:s3:::bucket/key`; matched case-sensitively. */
  readonly resource: string;
  /**
   * Condition keys in their canonical spelling (see CONDITION_KEYS): `aws:SourceIp`,
   * `aws:SecureTransport` ("true"/"false"), `aws:CurrentTime` (ISO 8601), `s3:prefix`...
   * A key that is missing, undefined or an empty list is absent. `aws:username` and
   * `aws:PrincipalArn` default to the principal's when not given (root has no user name).
   */
  readonly context: ReadonlyMap<string, ContextValue>;
}

/** Which statement decided, for the audit log. */
export interface StatementRef {
  readonly policy: string;
  readonly sid?: string;
  readonly index: number;
}

export interface Decision {
  readonly allowed: boolean;
  readonly reason: 'explicit-deny' | 'allow' | 'implicit-deny';
  /** The deciding statement; absent for an implicit deny. */
  readonly statement?: StatementRef;
}

export interface ApplicablePolicies {
  /** The caller's built-in roles and inline policies. */
  readonly identityPolicies: readonly NamedPolicy[];
  /** The policy of the bucket the request touches, if it has one. */
  readonly bucketPolicy?: NamedPolicy | undefined;
}

const IMPLICIT_DENY: Decision = Object.freeze({ allowed: false, reason: 'implicit-deny' });

export function evaluate(request: AuthorizationRequest, policies: ApplicablePolicies): Decision {
  const action = request.action.toLowerCase();
  const input = new RequestInput(request);
  const identityCount = policies.identityPolicies.length;
  let allowPolicy: NamedPolicy | undefined;
  let allowStatement: PolicyStatement | undefined;
  for (let p = 0; p <= identityCount; p++) {
    const policy = p < identityCount ? policies.identityPolicies[p] : policies.bucketPolicy;
    if (policy === undefined) continue;
    for (const statement of policy.document.statements) {
      // Once something allows, only a Deny can change the outcome.
      if (statement.effect === 'Allow' && allowStatement !== undefined) continue;
      if (!statementApplies(statement, action, request.resource, request.principal.arn, input)) continue;
      if (statement.effect === 'Deny') return decision(false, 'explicit-deny', policy, statement);
      allowPolicy = policy;
      allowStatement = statement;
    }
  }
  return allowPolicy === undefined || allowStatement === undefined ? IMPLICIT_DENY : decision(true, 'allow', allowPolicy, allowStatement);
}

/** Does the statement apply to this request? `action` must already be lower-cased. */
function statementApplies(statement: PolicyStatement, action: string, resource: string, principalArn: string, input: RequestInput): boolean {
  if (!matchesList(statement.action, action, undefined)) return false;
  if (!matchesList(statement.resource, resource, input)) return false;
  if (statement.principal !== undefined && !matchesPrincipal(statement.principal, principalArn)) return false;
  for (const condition of statement.conditions) if (!condition.holds(input)) return false;
  return true;
}

/** Action/NotAction, Resource/NotResource: the Not- form applies to everything its patterns do not match. */
export function matchesList(list: PatternList, value: string, variables: VariableSource | undefined): boolean {
  let matched = false;
  for (const pattern of list.patterns) {
    if (pattern.matches(value, variables)) {
      matched = true;
      break;
    }
  }
  return matched !== list.negated;
}

/** Principal/NotPrincipal: `*` names everyone, otherwise exact ARNs (IAM allows no wildcards there). */
export function matchesPrincipal(principal: PrincipalList, arn: string): boolean {
  return (principal.anyone || principal.arns.includes(arn)) !== principal.negated;
}

function decision(allowed: boolean, reason: Decision['reason'], policy: NamedPolicy, statement: PolicyStatement): Decision {
  const ref: StatementRef = statement.sid === undefined ? { policy: policy.name, index: statement.index } : { policy: policy.name, sid: statement.sid, index: statement.index };
  return { allowed, reason, statement: ref };
}

/** The request as conditions and policy variables see it. */
class RequestInput implements ConditionInput {
  readonly #request: AuthorizationRequest;

  constructor(request: AuthorizationRequest) {
    this.#request = request;
  }

  value(key: ConditionKey): ContextValue {
    const given = this.#request.context.get(key);
    if (given !== undefined) return given;
    const principal = this.#request.principal;
    if (key === 'aws:username') return principal.kind === 'root' ? undefined : principal.name;
    if (key === 'aws:PrincipalArn') return principal.arn;
    return undefined;
  }

  /** A variable stands for a single value; a list (a multivalued key) cannot be substituted. */
  variable(key: string): string | undefined {
    const value = this.value(key as ConditionKey);
    return typeof value === 'string' ? value : undefined;
  }
}
