import { s3errors } from '../../domain/errors.js';
import { abortMultipartUpload } from './operations/abort-multipart-upload.js';
import { completeMultipartUpload } from './operations/complete-multipart-upload.js';
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

/**
 * Subresources S3 defines that this vault does not implement yet: answered NotImplemented
 * rather than being mistaken for a plain object or bucket request.
 */
const UNSUPPORTED_SUBRESOURCES = [
  'acl', 'policy', 'policyStatus', 'tagging', 'cors', 'lifecycle', 'website', 'encryption', 'logging',
  'notification', 'replication', 'requestPayment', 'accelerate', 'analytics', 'inventory', 'metrics',
  'intelligent-tiering', 'ownershipControls', 'publicAccessBlock',
  'torrent', 'restore', 'select', 'attributes', 'session',
];

/** Subresources handled below; any other listed above is NotImplemented. */
function unsupported(query: URLSearchParams): string | undefined {
  return UNSUPPORTED_SUBRESOURCES.find((name) => query.has(name));
}

/** Picks the S3 operation for a request from its method, addressing and subresource parameters. */
export function routeS3(method: string, bucket: string | undefined, key: string | undefined, query: URLSearchParams, hasCopySource: boolean): S3Operation {
  const notImplemented = unsupported(query);
  if (notImplemented !== undefined) throw s3errors.notImplemented(`?${notImplemented}`);

  if (bucket === undefined) {
    if (method === 'GET') return listBuckets;
    throw s3errors.methodNotAllowed(method, 'SERVICE');
  }
  if (key === undefined) {
    switch (method) {
      case 'GET':
        if (query.has('location')) return getBucketLocation;
        if (query.has('versioning')) return getBucketVersioning;
        if (query.has('versions')) return listObjectVersions;
        if (query.has('object-lock')) return getObjectLockConfiguration;
        if (query.has('uploads')) return listMultipartUploads;
        return query.get('list-type') === '2' ? listObjectsV2 : listObjectsV1;
      case 'HEAD':
        return headBucket;
      case 'PUT':
        if (query.has('versioning')) return putBucketVersioning;
        if (query.has('object-lock')) return putObjectLockConfiguration;
        return createBucket;
      case 'DELETE':
        return deleteBucket;
      case 'POST':
        if (query.has('delete')) return deleteObjects;
        break;
    }
    throw s3errors.methodNotAllowed(method, 'BUCKET');
  }
  switch (method) {
    case 'GET':
      if (query.has('retention')) return getObjectRetention;
      if (query.has('legal-hold')) return getObjectLegalHold;
      return query.has('uploadId') ? listParts : getObject;
    case 'HEAD':
      return getObject;
    case 'PUT':
      if (query.has('retention')) return putObjectRetention;
      if (query.has('legal-hold')) return putObjectLegalHold;
      if (query.has('uploadId') || query.has('partNumber')) return hasCopySource ? uploadPartCopy : uploadPart;
      return hasCopySource ? copyObject : putObject;
    case 'DELETE':
      return query.has('uploadId') ? abortMultipartUpload : deleteObject;
    case 'POST':
      if (query.has('uploads')) return createMultipartUpload;
      if (query.has('uploadId')) return completeMultipartUpload;
      break;
  }
  throw s3errors.methodNotAllowed(method, 'OBJECT');
}
