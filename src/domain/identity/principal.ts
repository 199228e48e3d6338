import { s3errors } from '../errors.js';
import { type NamedPolicy, type PolicyDocument, PolicyError, parsePolicy } from '../policy/policy-document.js';
import { BUILT_IN_ROLES, isBuiltInRole } from '../policy/roles.js';
import { type Conflict, findWriteDeleteConflicts } from '../policy/separation-of-duties.js';
import type { IdentityKind, IdentityRecord } from './identity-model.js';

/** An identity's policies, compiled once when the identity changes (not per request). */
export interface IdentityPolicies {
  readonly policies: readonly NamedPolicy[];
  /**
   * Buckets on which this identity could both write and delete, counting the bucket policies
   * that name it (or `*`) as well as its own policies.
   */
  writeDeleteConflicts(buckets: readonly string[], bucketPolicies: readonly NamedPolicy[], principalArn: string): Conflict[];
}

/** The signer of a request. Root carries no policies: it may do everything S3 allows anyone. */
export interface Principal {
  readonly name: string;
  readonly kind: IdentityKind | 'root';
  readonly arn: string;
  readonly accessKeyId: string;
  readonly policies: IdentityPolicies | undefined;
}

/**
 * Turns an identity's role names and inline JSON into compiled policies. Unknown roles and
 * malformed documents are refused with the name of the culprit.
 */
export function compileIdentityPolicies(identity: Pick<IdentityRecord, 'name' | 'roles' | 'policies'>): IdentityPolicies {
  const policies: NamedPolicy[] = [];
  for (const role of identity.roles) {
    if (!isBuiltInRole(role)) {
      throw s3errors.invalidArgument(`Unknown role "${role}". Built-in roles: ${Object.keys(BUILT_IN_ROLES).join(', ')}.`, 'role', role);
    }
    policies.push({ name: `role:${role}`, document: BUILT_IN_ROLES[role].document });
  }
  for (const [name, text] of Object.entries(identity.policies)) {
    policies.push({ name: `inline:${name}`, document: parseIdentityPolicy(text, name) });
  }
  return {
    policies,
    writeDeleteConflicts: (buckets, bucketPolicies, principalArn) => findWriteDeleteConflicts([...policies, ...bucketPolicies], buckets, { principalArn }),
  };
}

/** Parses an inline identity policy; a malformed one is a MalformedPolicy error naming it. */
export function parseIdentityPolicy(text: string, name: string): PolicyDocument {
  try {
    return parsePolicy(text, { kind: 'identity' });
  } catch (error) {
    if (error instanceof PolicyError) throw s3errors.malformedPolicy(`Policy "${name}": ${error.message}`);
    throw error;
  }
}
