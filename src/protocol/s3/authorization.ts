import { type AccessDecision, type AccessTarget, PROTECTED_DATA_ACTIONS, resourceArn } from '../../domain/identity/access-control.js';
import type { Principal } from '../../domain/identity/principal.js';
import { s3errors } from '../../domain/errors.js';
import { SYSTEM_BUCKET_PREFIX, isReadOnlyS3Action } from '../../domain/names.js';
import type { QueryParameters } from './query-parameters.js';

/** The identity directory and the policy evaluator, as the S3 edge sees them. */
export interface AccessDecider {
  /** The principal behind an access key that SigV4 just verified; undefined if it became unusable. */
  principalOf(accessKeyId: string): Principal | undefined;
  decide(principal: Principal, action: string, target: AccessTarget, context: Map<string, string>): Promise<AccessDecision>;
}

/** What the request says about itself, for policy condition keys. */
export interface RequestFacts {
  readonly sourceIp: string | undefined;
  readonly secureTransport: boolean;
  readonly nowMs: number;
  readonly query: QueryParameters;
}

/** A refused action, kept for the audit log and for alerts. */
export interface Denial {
  readonly action: string;
  readonly resource: string;
  readonly decision: AccessDecision;
}

export interface RequestAuthorizer {
  authorize(action: string, target: AccessTarget, facts?: Readonly<Record<string, string>>): Promise<void>;
  allows(action: string, target: AccessTarget, facts?: Readonly<Record<string, string>>): Promise<boolean>;
  /** The last refused action of this request, if any. */
  readonly denial: Denial | undefined;
}

/**
 * Condition keys from the request (AWS "Actions, resources, and condition keys for Amazon S3"
 * and the global keys): source address, TLS, time, listing parameters and the version id.
 */
function conditionContext(facts: RequestFacts, extra: Readonly<Record<string, string>> | undefined): Map<string, string> {
  const context = new Map<string, string>();
  if (facts.sourceIp !== undefined) context.set('aws:SourceIp', facts.sourceIp.startsWith('::ffff:') ? facts.sourceIp.slice(7) : facts.sourceIp);
  context.set('aws:SecureTransport', facts.secureTransport ? 'true' : 'false');
  context.set('aws:CurrentTime', new Date(facts.nowMs).toISOString());
  context.set('aws:EpochTime', String(Math.floor(facts.nowMs / 1000)));
  for (const [param, key] of [
    ['prefix', 's3:prefix'],
    ['delimiter', 's3:delimiter'],
    ['max-keys', 's3:max-keys'],
    ['versionId', 's3:versionid'],
  ] as const) {
    const value = facts.query.get(param);
    if (value !== null) context.set(key, value);
  }
  // ListObjects without a prefix still has s3:prefix (empty), so "s3:prefix": "" conditions work.
  if (!context.has('s3:prefix') && facts.query.has('list-type')) context.set('s3:prefix', '');
  if (extra !== undefined) for (const [key, value] of Object.entries(extra)) context.set(key, value);
  return context;
}

/** System buckets are written by the vault itself, never over S3 (root included). */
const SYSTEM_BUCKET_DENIAL: AccessDecision = Object.freeze({ allowed: false, reason: 'implicit-deny' });

function deniedMessage(principal: Principal, denial: Denial): string {
  if (denial.decision === SYSTEM_BUCKET_DENIAL) {
    return `${SYSTEM_BUCKET_PREFIX}* buckets belong to the vault (audit checkpoints): they are read-only over S3, for every identity including root.`;
  }
  const decision = denial.decision;
  const why =
    decision.reason === 'explicit-deny' && 'statement' in decision && decision.statement !== undefined
      ? `an explicit deny in ${decision.statement.policy} (statement ${decision.statement.sid ?? decision.statement.index}) applies`
      : 'no policy allows it';
  return `User: ${principal.arn} is not authorized to perform: ${denial.action} on resource: "${denial.resource}" because ${why}.`;
}

export function createRequestAuthorizer(principal: Principal, decider: AccessDecider, facts: RequestFacts): RequestAuthorizer {
  let denial: Denial | undefined;
  const allows = async (action: string, target: AccessTarget, extra?: Readonly<Record<string, string>>): Promise<boolean> => {
    if (target.bucket?.startsWith(SYSTEM_BUCKET_PREFIX) === true && !isReadOnlyS3Action(action)) {
      denial = { action, resource: resourceArn(target), decision: SYSTEM_BUCKET_DENIAL };
      return false;
    }
    // Root is not evaluated (no context to build on the hot path), except for the data actions a
    // protected bucket keeps from every identity but services.
    if (principal.kind === 'root' && !PROTECTED_DATA_ACTIONS.has(action)) return true;
    // Root only meets the protected-bucket rule, which reads no condition keys: skip building them.
    const context = principal.kind === 'root' ? new Map<string, string>() : conditionContext(facts, extra);
    const decision = await decider.decide(principal, action, target, context);
    if (!decision.allowed) denial = { action, resource: resourceArn(target), decision };
    return decision.allowed;
  };
  return {
    allows,
    authorize: async (action, target, extra) => {
      if (!(await allows(action, target, extra)) && denial !== undefined) throw s3errors.accessDenied(deniedMessage(principal, denial));
    },
    get denial() {
      return denial;
    },
  };
}
