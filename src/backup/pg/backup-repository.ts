/**
 * Where a cluster's backups live: a bucket and a key prefix, given as `s3://BUCKET/PREFIX`
 * (`--repo` / `HOLDFAST_REPO`). The layout under the prefix is described in README.md beside
 * this file; `walObjectKey` is its WAL part.
 */
export interface BackupRepositoryLocation {
  readonly bucket: string;
  /** No leading or trailing `/`; '' for the bucket's root. */
  readonly prefix: string;
}

export class RepositoryLocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepositoryLocationError';
  }
}

/** S3 bucket naming rules (AWS S3 User Guide, "Bucket naming rules"), the part a typo breaks. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseRepositoryLocation(text: string): BackupRepositoryLocation {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(text.trim());
  if (match === null) {
    throw new RepositoryLocationError(`the repository "${text}" is not an s3://BUCKET/PREFIX URL; give one like s3://pg-backups/main-cluster.`);
  }
  const bucket = match[1]!;
  if (!BUCKET_NAME.test(bucket)) {
    throw new RepositoryLocationError(`"${bucket}" in "${text}" is not a valid bucket name (3–63 characters: lower-case letters, digits, dots and hyphens).`);
  }
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix !== '' && prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new RepositoryLocationError(`the prefix "${prefix}" in "${text}" has an empty, "." or ".." segment; use plain names separated by single slashes.`);
  }
  return Object.freeze({ bucket, prefix });
}

/** `s3://bucket/prefix`, for messages. */
export function formatRepositoryLocation(location: BackupRepositoryLocation): string {
  return location.prefix === '' ? `s3://${location.bucket}` : `s3://${location.bucket}/${location.prefix}`;
}
