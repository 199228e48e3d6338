import { bucketOf } from '../params.js';
import { renderXml } from '../xml.js';
import { type S3Operation, XML_HEADERS } from './context.js';

/** GetBucketVersioning: GET /bucket?versioning — a never-versioned bucket has no Status. */
export const getBucketVersioning: S3Operation = async (req, { vault }) => {
  const bucket = await vault.getBucket(bucketOf(req));
  const status = bucket.versioning === 'Unversioned' ? undefined : bucket.versioning;
  return { status: 200, headers: XML_HEADERS, body: renderXml('VersioningConfiguration', { Status: status }) };
};
