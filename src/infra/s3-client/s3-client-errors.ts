/**
 * What can go wrong talking to S3, as three types a caller can tell apart:
 *
 * - `S3RequestError`: the server answered with an error status (its S3 code, e.g. `NoSuchKey`,
 *   `AccessDenied`, `PreconditionFailed`, and the HTTP status).
 * - `S3TransportError`: no complete answer (connection refused or reset, timeout, TLS failure).
 * - `S3IntegrityError`: an answer whose bytes do not match the checksum or length it declared.
 *
 * Messages name the operation and the object, never a credential.
 */

export class S3RequestError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    /** The S3 error code; for bodiless answers (HEAD) one derived from the status, e.g. `NotFound`. */
    readonly code: string,
    readonly resource: string,
    readonly serverMessage: string,
    readonly requestId: string | undefined,
  ) {
    super(`${operation} ${resource}: ${code} (HTTP ${status})${serverMessage === '' ? '' : `: ${serverMessage}`}`);
    this.name = 'S3RequestError';
  }
}

export class S3TransportError extends Error {
  constructor(
    readonly operation: string,
    readonly resource: string,
    message: string,
    /** The errno-style code of the underlying failure (`ECONNRESET`, `ETIMEDOUT`, …), if any. */
    readonly causeCode: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`${operation} ${resource}: ${message}`, options);
    this.name = 'S3TransportError';
  }
}

export class S3IntegrityError extends Error {
  constructor(
    readonly resource: string,
    readonly what: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${resource}: ${what} mismatch: expected ${expected}, got ${actual}`);
    this.name = 'S3IntegrityError';
  }
}

/** The object (or its version) does not exist: `NoSuchKey`, `NoSuchVersion`, or a bodiless 404. */
export function isNoSuchKey(error: unknown): boolean {
  return error instanceof S3RequestError && (error.code === 'NoSuchKey' || error.code === 'NoSuchVersion' || (error.code === 'NotFound' && error.status === 404));
}

/** The version has no retention or legal hold (`NoSuchObjectLockConfiguration`, 404). */
export function isNoObjectLock(error: unknown): boolean {
  return error instanceof S3RequestError && error.code === 'NoSuchObjectLockConfiguration';
}

/**
 * A conditional write lost to an existing object: `If-None-Match: *` answered 412, or AWS's 409
 * `ConditionalRequestConflict` for a concurrent write of the same key (AWS S3 User Guide,
 * "Preventing object overwrites with conditional writes").
 */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof S3RequestError && (error.code === 'PreconditionFailed' || error.code === 'ConditionalRequestConflict');
}

/**
 * errno codes of failures that a later attempt may not meet: the connection was reset, refused
 * (a server restarting), or timed out, or name resolution failed temporarily. TLS and DNS
 * NXDOMAIN failures are left out: retrying them only delays the message.
 */
const TRANSIENT_CAUSES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);

/**
 * Whether trying the same request again may succeed: a 5xx answer, a timeout, or a connection
 * reset. Never a 4xx: the server understood and refused, and asking again changes nothing.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof S3RequestError) return error.status >= 500;
  if (error instanceof S3TransportError) return error.causeCode !== undefined && TRANSIENT_CAUSES.has(error.causeCode);
  return false;
}

/**
 * A 2xx answer whose `<Error>` body names a server-side failure (CompleteMultipartUpload and
 * CopyObject answer 200 before they know the outcome): worth trying again like a 5xx.
 */
export function isRetryableErrorBody(error: unknown): boolean {
  return error instanceof S3RequestError && error.status < 300 && ['InternalError', 'SlowDown', 'ServiceUnavailable'].includes(error.code);
}

/** The S3 code for an error answer without a body (HEAD requests). */
export function codeForStatus(status: number): string {
  switch (status) {
    case 301:
      return 'PermanentRedirect';
    case 304:
      return 'NotModified';
    case 400:
      return 'BadRequest';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 412:
      return 'PreconditionFailed';
    case 503:
      return 'ServiceUnavailable';
    default:
      return status >= 500 ? 'InternalError' : `HTTP${status}`;
  }
}
