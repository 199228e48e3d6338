import { s3errors } from '../../domain/errors.js';
import { abortMultipartUpload } from './operations/abort-multipart-upload.js';
import { completeMultipartUpload } from './operations/complete-multipart-upload.js';
import { deleteBucketPolicy, getBucketPolicy, putBucketPolicy } from './operations/bucket-policy.js';
import type { S3Operation } from './operations/context.js';
import { copyObject } from './operations/copy-object.js';
import { createBucket } from './operations/create-bucket.js';
import { createMultipartUpload } from './operations/create-multipart-upload.js';
import { deleteBucket } from './operations/delete-bucket.js';
import { deleteObject } from './operations/delete-object.js';
import { deleteObjects } from './operations/delete-objects.js';
import { getBucketLocation } from './operations/get-bucket-location.js';
import { getBucketVersioning } from './operations/get-bucket-versioning.js';
import { getObject } from './operations/get-object.js';
import { headBucket } from './operations/head-bucket.js';
import { listBuckets } from './operations/list-buckets.js';
import { listMultipartUploads } from './operations/list-multipart-uploads.js';
import { listObjectsV1, listObjectsV2 } from './operations/list-objects.js';
import { listObjectVersions } from './operations/list-object-versions.js';
import { listParts } from './operations/list-parts.js';
import { getObjectLegalHold, putObjectLegalHold } from './operations/object-legal-hold.js';
import { getObjectLockConfiguration, putObjectLockConfiguration } from './operations/object-lock-configuration.js';
import { getObjectRetention, putObjectRetention } from './operations/object-retention.js';
import { putBucketVersioning } from './operations/put-bucket-versioning.js';
import { putObject } from './operations/put-object.js';
import { uploadPart, uploadPartCopy } from './operations/upload-part.js';
import type { QueryParameters } from './query-parameters.js';

/**
 * Subresources S3 defines that this vault does not implement yet: answered NotImplemented
 * rather than being mistaken for a plain object or bucket request.
 */
const UNSUPPORTED_SUBRESOURCES = [
  'acl', 'policyStatus', 'tagging', 'cors', 'lifecycle', 'website', 'encryption', 'logging',
  'notification', 'replication', 'requestPayment', 'accelerate', 'analytics', 'inventory', 'metrics',
  'intelligent-tiering', 'ownershipControls', 'publicAccessBlock',
  'torrent', 'restore', 'select', 'attributes', 'session',
];

/** Subresources handled below; any other listed above is NotImplemented. */
function unsupported(query: QueryParameters): string | undefined {
  return UNSUPPORTED_SUBRESOURCES.find((name) => query.has(name));
}

/**
 * An operation and the IAM action that authorizes it (AWS "Actions, resources, and condition keys
 * for Amazon S3"). `undefined` means the operation authorizes per item itself (DeleteObjects
 * checks s3:DeleteObject or s3:DeleteObjectVersion for each key, as S3 does).
 */
export interface S3Route {
  readonly operation: S3Operation;
  readonly action: string | undefined;
}

/** Requests naming a version use the `...Version` action (s3:GetObjectVersion, s3:DeleteObjectVersion). */
function versioned(query: QueryParameters, action: 's3:GetObject' | 's3:DeleteObject'): string {
  return query.has('versionId') ? `${action}Version` : action;
}

/** Picks the S3 operation for a request from its method, addressing and subresource parameters. */
export function routeS3(method: string, bucket: string | undefined, key: string | undefined, query: QueryParameters, hasCopySource: boolean): S3Route {
  const notImplemented = unsupported(query);
  if (notImplemented !== undefined) throw s3errors.notImplemented(`?${notImplemented}`);

  if (bucket === undefined) {
    if (method === 'GET') return { operation: listBuckets, action: 's3:ListAllMyBuckets' };
    throw s3errors.methodNotAllowed(method, 'SERVICE');
  }
  if (key === undefined) {
    switch (method) {
      case 'GET':
        if (query.has('location')) return { operation: getBucketLocation, action: 's3:GetBucketLocation' };
        if (query.has('versioning')) return { operation: getBucketVersioning, action: 's3:GetBucketVersioning' };
        if (query.has('versions')) return { operation: listObjectVersions, action: 's3:ListBucketVersions' };
        if (query.has('policy')) return { operation: getBucketPolicy, action: 's3:GetBucketPolicy' };
        if (query.has('object-lock')) return { operation: getObjectLockConfiguration, action: 's3:GetBucketObjectLockConfiguration' };
        if (query.has('uploads')) return { operation: listMultipartUploads, action: 's3:ListBucketMultipartUploads' };
        return { operation: query.get('list-type') === '2' ? listObjectsV2 : listObjectsV1, action: 's3:ListBucket' };
      case 'HEAD':
        return { operation: headBucket, action: 's3:ListBucket' };
      case 'PUT':
        if (query.has('versioning')) return { operation: putBucketVersioning, action: 's3:PutBucketVersioning' };
        if (query.has('policy')) return { operation: putBucketPolicy, action: 's3:PutBucketPolicy' };
        if (query.has('object-lock')) return { operation: putObjectLockConfiguration, action: 's3:PutBucketObjectLockConfiguration' };
        return { operation: createBucket, action: 's3:CreateBucket' };
      case 'DELETE':
        if (query.has('policy')) return { operation: deleteBucketPolicy, action: 's3:DeleteBucketPolicy' };
        return { operation: deleteBucket, action: 's3:DeleteBucket' };
      case 'POST':
        if (query.has('delete')) return { operation: deleteObjects, action: undefined };
        break;
    }
    throw s3errors.methodNotAllowed(method, 'BUCKET');
  }
  switch (method) {
    case 'GET':
      if (query.has('retention')) return { operation: getObjectRetention, action: 's3:GetObjectRetention' };
      if (query.has('legal-hold')) return { operation: getObjectLegalHold, action: 's3:GetObjectLegalHold' };
      return query.has('uploadId') ? { operation: listParts, action: 's3:ListMultipartUploadParts' } : { operation: getObject, action: versioned(query, 's3:GetObject') };
    case 'HEAD':
      return { operation: getObject, action: versioned(query, 's3:GetObject') };
    case 'PUT':
      if (query.has('retention')) return { operation: putObjectRetention, action: undefined };
      if (query.has('legal-hold')) return { operation: putObjectLegalHold, action: 's3:PutObjectLegalHold' };
      if (query.has('uploadId') || query.has('partNumber')) return { operation: hasCopySource ? uploadPartCopy : uploadPart, action: 's3:PutObject' };
      return { operation: hasCopySource ? copyObject : putObject, action: 's3:PutObject' };
    case 'DELETE':
      return query.has('uploadId') ? { operation: abortMultipartUpload, action: 's3:AbortMultipartUpload' } : { operation: deleteObject, action: versioned(query, 's3:DeleteObject') };
    case 'POST':
      if (query.has('uploads')) return { operation: createMultipartUpload, action: 's3:PutObject' };
      if (query.has('uploadId')) return { operation: completeMultipartUpload, action: 's3:PutObject' };
      break;
  }
  throw s3errors.methodNotAllowed(method, 'OBJECT');
}
