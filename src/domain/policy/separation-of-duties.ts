import { matchesPrincipal } from './evaluate.js';
import { type NamedPolicy, type PatternList, type PolicyDocument, type PolicyStatement, label } from './policy-document.js';

/**
 * "IAM policies enforce separation of duties between backup creation and backup deletion": an
 * identity whose policies could let it both write backups and destroy them, on the same bucket,
 * is a conflict. The analysis is static and errs towards finding conflicts: an Allow counts
 * whatever its conditions (they might hold), a Deny counts only when it has no conditions and
 * covers every object of the bucket (otherwise it might not apply).
 */

/** Creating a backup. */
export const WRITE_ACTIONS = Object.freeze(['s3:PutObject']);
/** Destroying one, or making it destroyable early. */
export const DELETE_ACTIONS = Object.freeze(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention', 's3:PutObjectRetention']);

/** The bucket name conflicts report for "any bucket, including ones created later". */
export const ANY_BUCKET = '*';

export interface Conflict {
  /** A bucket name, or `*` for any bucket. */
  readonly bucket: string;
  /** The statement that could allow writing, e.g. `role:backup-writer Statement[0] (Sid "WriteBackups") allows s3:PutObject`. */
  readonly write: string;
  /** The statement that could allow destroying, named the same way. */
  readonly delete: string;
}

export interface ConflictOptions {
  /** The identity's ARN, so bucket policy statements naming other principals are left out. */
  readonly principalArn?: string | undefined;
}

/**
 * A bucket no literal pattern can name: only wildcard-style grants (`arn:aws:s3:::*`,
 * `arn:aws:s3:::??*`) reach it. 63 characters, the longest bucket name.
 */
const SOME_FUTURE_BUCKET = '\u0000'.repeat(63);

/**
 * The buckets on which these policies (one identity's, optionally with bucket policies) could
 * allow both a write and a delete. Checks each named bucket and, as `*`, a bucket matched only by
 * wildcards. Plain documents are named `policy[i]` in the result; NamedPolicy by their name.
 */
export function findWriteDeleteConflicts(policies: readonly (PolicyDocument | NamedPolicy)[], buckets: readonly string[], options: ConflictOptions = {}): Conflict[] {
  const named = policies.map((p, i): NamedPolicy => ('document' in p ? p : { name: `policy[${i}]`, document: p }));
  const conflicts: Conflict[] = [];
  for (const bucket of [...new Set(buckets), SOME_FUTURE_BUCKET]) {
    const write = firstGrant(named, WRITE_ACTIONS, bucket, options);
    if (write === undefined) continue;
    const destroy = firstGrant(named, DELETE_ACTIONS, bucket, options);
    if (destroy === undefined) continue;
    conflicts.push(Object.freeze({ bucket: bucket === SOME_FUTURE_BUCKET ? ANY_BUCKET : bucket, write, delete: destroy }));
  }
  return conflicts;
}

/** The first statement that could allow one of `actions` on some object of `bucket`, described; undefined when none could. */
function firstGrant(policies: readonly NamedPolicy[], actions: readonly string[], bucket: string, options: ConflictOptions): string | undefined {
  const objects = `arn:aws:s3:::${bucket}/`;
  for (const action of actions) {
    const lowered = action.toLowerCase();
    const statements = policies.flatMap((policy) => policy.document.statements.map((statement) => ({ policy, statement })));
    const denied = statements.some(({ statement }) => certainlyDenies(statement, lowered, objects, options));
    if (denied) continue;
    const grant = statements.find(({ statement }) => couldAllow(statement, lowered, objects, options));
    if (grant !== undefined) return `${grant.policy.name} ${label(grant.statement.index, grant.statement.sid)} allows ${action}`;
  }
  return undefined;
}

function couldAllow(statement: PolicyStatement, action: string, objects: string, options: ConflictOptions): boolean {
  if (statement.effect !== 'Allow' || !actionMatches(statement.action, action)) return false;
  if (statement.principal !== undefined && options.principalArn !== undefined && !matchesPrincipal(statement.principal, options.principalArn)) return false;
  return reachesSomeObject(statement.resource, objects);
}

function certainlyDenies(statement: PolicyStatement, action: string, objects: string, options: ConflictOptions): boolean {
  if (statement.effect !== 'Deny' || statement.conditions.length > 0 || !actionMatches(statement.action, action)) return false;
  if (statement.principal !== undefined) {
    const certainlyNamed = options.principalArn === undefined ? statement.principal.anyone && !statement.principal.negated : matchesPrincipal(statement.principal, options.principalArn);
    if (!certainlyNamed) return false;
  }
  return reachesEveryObject(statement.resource, objects);
}

function actionMatches(list: PatternList, action: string): boolean {
  return list.patterns.some((p) => p.matches(action)) !== list.negated;
}

/** Resource: some pattern could match an object key; NotResource: no pattern matches them all. */
function reachesSomeObject(list: PatternList, objects: string): boolean {
  return list.negated ? !list.patterns.some((p) => p.matchesEveryExtensionOf(objects)) : list.patterns.some((p) => p.couldMatchSomeExtensionOf(objects));
}

/** Resource: some pattern matches every object key; NotResource: no pattern could match any. */
function reachesEveryObject(list: PatternList, objects: string): boolean {
  return list.negated ? !list.patterns.some((p) => p.couldMatchSomeExtensionOf(objects)) : list.patterns.some((p) => p.matchesEveryExtensionOf(objects));
}
