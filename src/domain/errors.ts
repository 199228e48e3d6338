/**
 * The one catalogue of S3 errors. Each code has exactly one HTTP status; the message is the
 * client-facing text. Every layer throws `S3Error`s built by the factories below; only the
 * protocol edge renders them (as XML). Foreign errors (errno, SQLite, SDK) are translated where
 * they are met, never passed through.
 *
 * Codes and statuses follow the AWS S3 API reference "List of error codes"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
 */

const catalogue = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  ExpiredToken: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidBucketState: 409,
  InvalidDigest: 400,
  InvalidEncryptionAlgorithmError: 400,
  InvalidObjectState: 403,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  InvalidRetentionPeriod: 400,
  InvalidStorageClass: 400,
  InvalidURI: 400,
  KeyTooLongError: 400,
  MalformedXML: 400,
  MalformedPolicy: 400,
  MaxMessageLengthExceeded: 400,
  MetadataTooLarge: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  MissingSecurityHeader: 400,
  NoSuchBucket: 404,
  NoSuchBucketPolicy: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NoSuchVersion: 404,
  NoSuchObjectLockConfiguration: 404,
  NotImplemented: 501,
  ObjectLockConfigurationNotFoundError: 404,
  PreconditionFailed: 412,
  NotModified: 304,
  RequestHeaderSectionTooLarge: 400,
  RequestTimeTooSkewed: 403,
  RequestTimeout: 400,
  ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403,
  SlowDown: 503,
  XAmzContentSHA256Mismatch: 400,
  XAmzContentChecksumMismatch: 400,
  InvalidChunkSizeError: 400,
  UnexpectedContent: 400,
  TooManyParts: 400,
  // Holdfast's admin API (identities, approvals) speaks the same catalogue; codes follow AWS IAM's
  // where one exists (NoSuchEntity, EntityAlreadyExists, LimitExceeded).
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  LimitExceeded: 409,
  SeparationOfDutiesConflict: 409,
  ApprovalRequired: 403,
} as const;

export type S3ErrorCode = keyof typeof catalogue;

/** Extra XML elements AWS adds to some errors (e.g. `<BucketName>`, `<Key>`). */
export type S3ErrorDetails = Readonly<Record<string, string>>;

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly details: S3ErrorDetails;
  /** Response headers the error carries (e.g. `x-amz-delete-marker` on a 404). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: S3ErrorCode, message: string, details: S3ErrorDetails = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'S3Error';
    this.code = code;
    this.status = catalogue[code];
    this.details = details;
    this.headers = headers;
  }

  /** True for failures of the server itself (not NotImplemented, which is a statement about the request). */
  get isServerFault(): boolean {
    return this.status >= 500 && this.code !== 'NotImplemented';
  }

  /** Messages of server faults never reach a client: they may carry internals. */
  get publicMessage(): string {
    return this.isServerFault ? 'We encountered an internal error. Please try again.' : this.message;
  }
}

export function isS3Error(e: unknown): e is S3Error {
  return e instanceof S3Error;
}

/** Factories, named for the situation, so call sites read as sentences and messages stay uniform. */
export const s3errors = {
  accessDenied: (message = 'Access Denied') => new S3Error('AccessDenied', message),
  badDigest: (message = 'The Content-MD5 you specified did not match what we received.') => new S3Error('BadDigest', message),
  checksumMismatch: (algorithm: string) =>
    new S3Error('BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: bucket }),
  bucketNotEmpty: (bucket: string) =>
    new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket }),
  entityTooLarge: (max: number) =>
    new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { MaxSizeAllowed: String(max) }),
  entityTooSmall: () => new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.'),
  incompleteBody: () => new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.'),
  internal: (cause?: unknown) => {
    const e = new S3Error('InternalError', 'We encountered an internal error. Please try again.');
    if (cause !== undefined) (e as { cause?: unknown }).cause = cause;
    return e;
  },
  invalidAccessKeyId: () =>
    new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error('InvalidArgument', message, name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' }),
  invalidBucketName: (bucket: string) =>
    new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket }),
  invalidDigest: () => new S3Error('InvalidDigest', 'The Content-MD5 you specified is not valid.'),
  invalidPart: (message = 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.') =>
    new S3Error('InvalidPart', message),
  invalidPartOrder: () =>
    new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.'),
  invalidRange: (size: number) =>
    new S3Error('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(size) }),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', message),
  invalidUri: (message = 'Couldn\'t parse the specified URI.') => new S3Error('InvalidURI', message),
  keyTooLong: () => new S3Error('KeyTooLongError', 'Your key is too long'),
  malformedXml: (message = 'The XML you provided was not well-formed or did not validate against our published schema') =>
    new S3Error('MalformedXML', message),
  /** PutBucketPolicy and inline identity policies: the message names the statement and field at fault. */
  malformedPolicy: (message: string) => new S3Error('MalformedPolicy', message),
  maxMessageLengthExceeded: () => new S3Error('MaxMessageLengthExceeded', 'Your request was too big.'),
  metadataTooLarge: () => new S3Error('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.'),
  methodNotAllowed: (method: string, resource: string) =>
    new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method, ResourceType: resource }),
  missingContentLength: () => new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.'),
  noSuchBucketPolicy: (bucket: string) =>
    new S3Error('NoSuchBucketPolicy', 'The bucket policy does not exist', { BucketName: bucket }),
  noSuchBucket: (bucket: string) => new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string, headers: Record<string, string> = {}) =>
    new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key }, headers),
  noSuchUpload: (uploadId: string) =>
    new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId }),
  noSuchVersion: (key: string, versionId: string) =>
    new S3Error('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId }),
  notImplemented: (what: string) =>
    new S3Error('NotImplemented', `A header or query you provided implies functionality that is not implemented: ${what}`),
  notModified: () => new S3Error('NotModified', 'Not Modified'),
  preconditionFailed: (condition: string) =>
    new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition }),
  requestHeaderSectionTooLarge: () =>
    new S3Error('RequestHeaderSectionTooLarge', 'Your request header section exceeds the maximum allowed size.'),
  requestTimeTooSkewed: (requestTime: string, serverTime: string) =>
    new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
      RequestTime: requestTime,
      ServerTime: serverTime,
      MaxAllowedSkewMilliseconds: '900000',
    }),
  /** A body written too slowly to be stored safely (S3 answers the same code for an idle socket). */
  requestTimeout: (message = 'The upload took longer than this server allows for one object; retry it, or send large objects as a multipart upload.') =>
    new S3Error('RequestTimeout', message),
  serviceUnavailable: (message = 'Please reduce your request rate.') => new S3Error('ServiceUnavailable', message),
  signatureDoesNotMatch: () =>
    new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'),
  contentSha256Mismatch: () =>
    new S3Error('XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header does not match what was computed.'),
  noSuchEntity: (what: string) => new S3Error('NoSuchEntity', `${what} does not exist.`),
  entityAlreadyExists: (what: string) => new S3Error('EntityAlreadyExists', `${what} already exists.`),
  limitExceeded: (message: string) => new S3Error('LimitExceeded', message),
  separationOfDutiesConflict: (message: string) => new S3Error('SeparationOfDutiesConflict', message),
  approvalRequired: (message: string, changeId: string) => new S3Error('ApprovalRequired', message, { ChangeId: changeId }),
  tooManyParts: () => new S3Error('TooManyParts', 'You have attempted to upload more than 10000 parts.'),
} as const;
