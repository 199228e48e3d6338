import { s3errors } from '../errors.js';
import type { BucketControls } from '../model.js';
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

/** Reads a bucket's controls (policy text, protected flag); undefined when the bucket does not exist. */
export type BucketControlsSource = (bucket: string) => Promise<BucketControls | undefined>;

/**
 * Actions that write or destroy object data or its protection. In a `protected` (backup) bucket
 * only service identities — the automated backup processes — may be granted them: "write and
 * delete access to backup storage is restricted to automated backup processes only"; "no
 * individual user has permissions to delete or modify backup objects directly". Root included.
 */
export const PROTECTED_DATA_ACTIONS: ReadonlySet<string> = new Set([
  's3:PutObject',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:BypassGovernanceRetention',
]);

const PROTECTED_BUCKET_DENIAL: AccessDecision = Object.freeze({
  allowed: false,
  reason: 'explicit-deny',
  statement: Object.freeze({ policy: 'protected-bucket rule', sid: 'OnlyServiceIdentitiesTouchBackups', index: 0 }),
});

/**
 * Authorization: identity policies and the bucket policy, evaluated with AWS's logic (explicit
 * Deny wins, then any Allow, else deny). Root is allowed everything S3 allows anyone — what S3
 * itself refuses (shortening compliance retention, deleting a locked version) the domain still
 * refuses, for root too.
 */
export class AccessControl {
  readonly #bucketControls: BucketControlsSource;
  /** Compiled bucket policies by their text: a policy is parsed once, not per request. */
  readonly #compiled = new Map<string, PolicyDocument>();

  constructor(bucketControls: BucketControlsSource) {
    this.#bucketControls = bucketControls;
  }

  async decide(principal: Principal, action: string, target: AccessTarget, context: Map<string, string>): Promise<AccessDecision> {
    const controls = target.bucket === undefined ? undefined : await this.#bucketControls(target.bucket);
    if (controls?.protected === true && principal.kind !== 'service' && PROTECTED_DATA_ACTIONS.has(action)) return PROTECTED_BUCKET_DENIAL;
    if (principal.kind === 'root' || principal.policies === undefined) return ROOT_DECISION;
    const bucketPolicy = controls?.policy === undefined ? undefined : this.#bucketPolicy(controls.policy);
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

  #bucketPolicy(text: string): PolicyDocument {
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
