import { S3Error, s3errors } from '../../../domain/errors.js';
import { type DefaultRetention, isRetentionMode } from '../../../domain/object-lock.js';
import { bucketOf } from '../params.js';
import { parseXml, renderXml } from '../xml.js';
import { MAX_XML_BODY_BYTES, type S3Operation, XML_HEADERS } from './context.js';

/** GetObjectLockConfiguration: GET /bucket?object-lock */
export const getObjectLockConfiguration: S3Operation = async (req, { locks }) => {
  const bucket = await locks.getObjectLockConfiguration(bucketOf(req));
  const rule = bucket.defaultRetention;
  return {
    status: 200,
    headers: XML_HEADERS,
    body: renderXml('ObjectLockConfiguration', {
      ObjectLockEnabled: 'Enabled',
      Rule: rule === undefined ? undefined : { DefaultRetention: { Mode: rule.mode, Days: rule.days, Years: rule.years } },
    }),
  };
};

function positiveInteger(value: unknown): number {
  if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value)) throw s3errors.malformedXml();
  return Number(value);
}

/**
 * PutObjectLockConfiguration: PUT /bucket?object-lock. Enabled is the only state (Object Lock
 * cannot be turned off); a Rule sets the default retention, no Rule removes it.
 */
export const putObjectLockConfiguration: S3Operation = async (req, { protection }) => {
  const integrity = req.integrity();
  if (integrity.contentMd5 === undefined && integrity.checksum === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 or x-amz-checksum-*');
  }
  const xml = parseXml(await req.readSmallBody(MAX_XML_BODY_BYTES));
  const config = xml['ObjectLockConfiguration'];
  if (config === undefined || typeof config !== 'object' || config === null) throw s3errors.malformedXml();
  const fields = config as Record<string, unknown>;
  if (fields['ObjectLockEnabled'] !== 'Enabled') throw s3errors.malformedXml();
  let rule: DefaultRetention | undefined;
  if (fields['Rule'] !== undefined) {
    const ruleNode = fields['Rule'];
    const retention = typeof ruleNode === 'object' && ruleNode !== null ? (ruleNode as Record<string, unknown>)['DefaultRetention'] : undefined;
    if (retention === undefined || typeof retention !== 'object' || retention === null) throw s3errors.malformedXml();
    const r = retention as Record<string, unknown>;
    const mode = r['Mode'];
    if (!isRetentionMode(mode)) throw s3errors.malformedXml();
    const hasDays = r['Days'] !== undefined;
    const hasYears = r['Years'] !== undefined;
    if (hasDays === hasYears) throw s3errors.malformedXml();
    rule = hasDays ? { mode, days: positiveInteger(r['Days']) } : { mode, years: positiveInteger(r['Years']) };
  }
  // On a protected bucket, weakening the default retention waits for a second admin.
  await protection.putObjectLockConfiguration(bucketOf(req), rule, req.principal.name);
  return { status: 200 };
};
