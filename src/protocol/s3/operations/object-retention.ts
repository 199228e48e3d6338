import { S3Error, s3errors } from '../../../domain/errors.js';
import { type Retention, isRetentionMode } from '../../../domain/object-lock.js';
import { parseIsoDate, retentionFacts } from '../lock-headers.js';
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
export const putObjectRetention: S3Operation = async (req, { vault, locks }) => {
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
  // Authorized here rather than at the edge: the Object Lock condition keys come from the body.
  await req.authorize('s3:PutObjectRetention', undefined, requested === undefined ? {} : retentionFacts(requested, vault.clock.nowMs()));
  const versionId = optionalParam(req, 'versionId');
  const bypass = await req.bypassGovernance();
  const version = await locks.putObjectRetention(bucketOf(req), keyOf(req), versionId, requested, bypass).catch((error: unknown) => {
    if (error instanceof S3Error && error.code === 'AccessDenied') {
      req.note({ kind: 'locked-retention-change-denied', key: keyOf(req), versionId, message: error.message });
    }
    throw error;
  });
  return { status: 200, headers: versionIdHeader(version.versionId) };
};
