import { s3errors } from './errors.js';

/**
 * Bucket naming rules for general purpose buckets, from the AWS user guide
 * "Bucket naming rules" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
 */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_LIKE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

export function isValidBucketName(name: string): boolean {
  return (
    BUCKET_NAME.test(name) &&
    !IPV4_LIKE.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !RESERVED_PREFIXES.some((p) => name.startsWith(p)) &&
    !RESERVED_SUFFIXES.some((s) => name.endsWith(s))
  );
}

export function assertValidBucketName(name: string): void {
  if (!isValidBucketName(name)) throw s3errors.invalidBucketName(name);
}

export const MAX_KEY_BYTES = 1024;
// C0 controls and DEL. AWS accepts some of these, but they break tools, logs and terminals and
// have no legitimate use in backup keys; refusing them is the conservative choice.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN_KEY_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Object keys are opaque UTF-8 strings up to 1024 bytes. They never become filesystem paths
 * (blobs are named by random ids), so `../` and absolute-looking keys are harmless data here.
 */
export function assertValidObjectKey(key: string): void {
  if (key.length === 0) throw s3errors.invalidArgument('Object key must not be empty.', 'key', '');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw s3errors.keyTooLong();
  if (FORBIDDEN_KEY_CHARS.test(key)) {
    throw s3errors.invalidArgument('Object key contains control characters, which are not allowed.', 'key', '');
  }
  // Lone surrogates cannot be encoded as UTF-8; they would not round-trip.
  if (!key.isWellFormed()) throw s3errors.invalidArgument('Object key is not valid UTF-8.', 'key', '');
}

/**
 * Buckets under this prefix belong to the vault itself (the audit checkpoints): S3 clients may
 * read them, nobody — root included — may write, delete or reconfigure them over S3.
 */
export const SYSTEM_BUCKET_PREFIX = 'holdfast-system-';

/** Read-only S3 actions (what a client may do in a system bucket). */
export function isReadOnlyS3Action(action: string): boolean {
  return action.startsWith('s3:Get') || action.startsWith('s3:List');
}
