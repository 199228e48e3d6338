import { s3errors } from '../../../domain/errors.js';
import { versionIdHeader } from '../object-headers.js';
import { bucketOf, keyOf, optionalParam } from '../params.js';
import { parseXml, renderXml } from '../xml.js';
import { MAX_XML_BODY_BYTES, type S3Operation, XML_HEADERS } from './context.js';

/** GetObjectLegalHold: GET /bucket/key?legal-hold[&versionId=] */
export const getObjectLegalHold: S3Operation = async (req, { locks }) => {
  const on = await locks.getObjectLegalHold(bucketOf(req), keyOf(req), optionalParam(req, 'versionId'));
  return { status: 200, headers: XML_HEADERS, body: renderXml('LegalHold', { Status: on ? 'ON' : 'OFF' }) };
};

/** PutObjectLegalHold: PUT /bucket/key?legal-hold with <LegalHold><Status>ON|OFF</Status></LegalHold>. */
export const putObjectLegalHold: S3Operation = async (req, { locks }) => {
  const xml = parseXml(await req.readSmallBody(MAX_XML_BODY_BYTES));
  const body = xml['LegalHold'];
  const status = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['Status'] : undefined;
  if (status !== 'ON' && status !== 'OFF') throw s3errors.malformedXml();
  const version = await locks.putObjectLegalHold(bucketOf(req), keyOf(req), optionalParam(req, 'versionId'), status === 'ON');
  return { status: 200, headers: versionIdHeader(version.versionId) };
};
