import { s3errors } from '../errors.js';
import { type Decision, evaluate } from '../policy/evaluate.js';
import { type PolicyDocument, PolicyError, parsePolicy } from '../policy/policy-document.js';
import type { Principal } from './principal.js';

/** What a request touches: the service (neither), a bucket, or an object. */
export interface AccessTarget {
  readonly bucket?: string | undefined;
  readonly key?: string | undefined;
  /** A resource outside S3 (the admin API's `arn:holdfast:admin:::users/NAME`); wins over bucket/key. */
  readonly arn?: string;
}

/** The decision plus what the audit log needs to say about it. */
export type AccessDecision = Decision | { readonly allowed: true; readonly reason: 'root' };

const ROOT_DECISION: AccessDecision = Object.freeze({ allowed: true, reason: 'root' });

/** Reads a bucket's policy text; undefined when the bucket has none (or does not exist). */
export type BucketPolicySource = (bucket: string) => Promise<string | undefined>;

/**
 * Authorization: identity policies and the bucket policy, evaluated with AWS's logic (explicit
 * Deny wins, then any Allow, else deny). Root is allowed everything S3 allows anyone — what S3
 * itself refuses (shortening compliance retention, deleting a locked version) the domain still
 * refuses, for root too.
 */
export class AccessControl {
  readonly #bucketPolicyText: BucketPolicySource;
  /** Compiled bucket policies by their text: a policy is parsed once, not per request. */
  readonly #compiled = new Map<string, PolicyDocument>();

  constructor(bucketPolicyText: BucketPolicySource) {
    this.#bucketPolicyText = bucketPolicyText;
  }

  async decide(principal: Principal, action: string, target: AccessTarget, context: Map<string, string>): Promise<AccessDecision> {
    if (principal.kind === 'root' || principal.policies === undefined) return ROOT_DECISION;
    const bucketPolicy = target.bucket === undefined ? undefined : await this.#bucketPolicy(target.bucket);
    context.set('aws:username', principal.name);
    context.set('aws:userid', principal.name);
    context.set('aws:PrincipalArn', principal.arn);
    return evaluate(
      { principal: { arn: principal.arn, name: principal.name, kind: principal.kind }, action, resource: resourceArn(target), context },
      {
        identityPolicies: principal.policies.policies,
        ...(bucketPolicy === undefined ? {} : { bucketPolicy: { name: 'bucket-policy', document: bucketPolicy } }),
      },
    );
  }

  async #bucketPolicy(bucket: string): Promise<PolicyDocument | undefined> {
    const text = await this.#bucketPolicyText(bucket);
    if (text === undefined) return undefined;
    let document = this.#compiled.get(text);
    if (document === undefined) {
      document = parseBucketPolicy(text);
      if (this.#compiled.size > 1000) this.#compiled.clear();
      this.#compiled.set(text, document);
    }
    return document;
  }
}

/** `arn:aws:s3:::bucket/key`, `arn:aws:s3:::bucket`, or `arn:aws:s3:::*` for service-level actions. */
export function resourceArn(target: AccessTarget): string {
  if (target.arn !== undefined) return target.arn;
  if (target.bucket === undefined) return 'arn:aws:s3:::*';
  return target.key === undefined ? `arn:aws:s3:::${target.bucket}` : `arn:aws:s3:::${target.bucket}/${target.key}`;
}

/** Validates a bucket policy (PutBucketPolicy); malformed → MalformedPolicy with the reason. */
export function parseBucketPolicy(text: string, bucket?: string): PolicyDocument {
  try {
    return parsePolicy(text, { kind: 'bucket', bucket });
  } catch (error) {
    if (error instanceof PolicyError) throw s3errors.malformedPolicy(error.message);
    throw error;
  }
}
