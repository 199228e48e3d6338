import type { MultipartUploads } from '../../../domain/multipart.js';
import type { BucketProtection } from '../../../domain/bucket-protection.js';
import type { ObjectLocks } from '../../../domain/object-locks.js';
import type { PolicyDocument } from '../../../domain/policy/policy-document.js';
import type { Vault } from '../../../domain/vault.js';
import type { S3Request, S3Response } from '../request.js';

/** What every S3 operation handler gets: the domain services, nothing of HTTP beyond the request. */
export interface OperationContext {
  readonly vault: Vault;
  readonly multipart: MultipartUploads;
  readonly locks: ObjectLocks;
  readonly protection: BucketProtection;
  /** Separation of duties for bucket policies (the identity directory). */
  readonly duties: { storeBucketPolicy(bucket: string, policy: PolicyDocument, write: () => Promise<void>): Promise<void> };
}

export type S3Operation = (req: S3Request, ctx: OperationContext) => Promise<S3Response>;

export const XML_HEADERS = { 'content-type': 'application/xml' } as const;

/** Caps on XML request bodies, enforced before parsing. */
export const MAX_XML_BODY_BYTES = 1024 * 1024;
export const MAX_DELETE_BODY_BYTES = 2 * 1024 * 1024;
