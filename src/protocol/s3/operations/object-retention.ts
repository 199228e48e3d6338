import { s3errors } from '../../../domain/errors.js';
import { type Retention, isRetentionMode } from '../../../domain/object-lock.js';
import { bypassGovernance, parseIsoDate } from '../lock-headers.js';
import { versionIdHeader } from '../object-headers.js';
import { bucketOf, keyOf, optionalParam } from '../params.js';
import { parseXml, renderXml } from '../xml.js';
import { MAX_XML_BODY_BYTES, type S3Operation, XML_HEADERS } from './context.js';

/** GetObjectRetention: GET /bucket/key?retention[&versionId=] */
export const getObjectRetention: S3Operation = async (req, { locks }) => {
  const retention = await locks.getObjectRetention(bucketOf(req), keyOf(req), optionalParam(req, 'versionId'));
  return {
    status: 200,
    headers: XML_HEADERS,
    body: renderXml('Retention', { Mode: retention.mode, RetainUntilDate: new Date(retention.retainUntilMs).toISOString() }),
  };
};

/**
 * PutObjectRetention: PUT /bucket/key?retention. An empty <Retention/> removes retention (only
 * possible for governance with the bypass, or once expired).
 */
export const putObjectRetention: S3Operation = async (req, { locks }) => {
  const xml = parseXml(await req.readSmallBody(MAX_XML_BODY_BYTES));
  const body = xml['Retention'];
  if (body === undefined) throw s3errors.malformedXml();
  let requested: Retention | undefined;
  if (typeof body === 'object' && body !== null) {
    const fields = body as Record<string, unknown>;
    const mode = fields['Mode'];
    const until = fields['RetainUntilDate'];
    if (mode !== undefined || until !== undefined) {
      if (!isRetentionMode(mode) || typeof until !== 'string') throw s3errors.malformedXml();
      requested = { mode, retainUntilMs: parseIsoDate(until, 'RetainUntilDate') };
    }
  }
  const version = await locks.putObjectRetention(bucketOf(req), keyOf(req), optionalParam(req, 'versionId'), requested, bypassGovernance(req));
  return { status: 200, headers: versionIdHeader(version.versionId) };
};
