import { XMLParser } from 'fast-xml-parser';
import { percentDecode } from '../../protocol/s3/auth/uri-encoding.js';

/**
 * The XML S3 answers with that this client reads: error bodies and ListObjectsV2 pages.
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html)
 */

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  isArray: (_name, jpath) => ARRAY_PATHS.has(String(jpath)),
});

const ARRAY_PATHS = new Set(['ListBucketResult.Contents', 'ListBucketResult.CommonPrefixes']);

function parse(text: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new Error('DOCTYPE and ENTITY declarations are not accepted in S3 answers');
  return parser.parse(text) as Record<string, unknown>;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export interface S3ErrorBody {
  readonly code: string | undefined;
  readonly message: string;
  readonly requestId: string | undefined;
}

/** Code, message and request id of an `<Error>` body; all undefined/empty if it is not one. */
export function parseErrorBody(body: string): S3ErrorBody {
  try {
    const error = parse(body)['Error'] as Record<string, unknown> | undefined;
    return { code: text(error?.['Code'])?.trim(), message: text(error?.['Message'])?.trim() ?? '', requestId: text(error?.['RequestId'])?.trim() };
  } catch {
    return { code: undefined, message: '', requestId: undefined };
  }
}

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModifiedMs: number;
}

export interface ListObjectsV2Page {
  readonly objects: readonly ListedObject[];
  readonly commonPrefixes: readonly string[];
  readonly nextContinuationToken: string | undefined;
  readonly isTruncated: boolean;
}

/**
 * One page of a ListObjectsV2 answer requested with `encoding-type=url`, keys decoded. S3 encodes
 * in form style (space as `+`); decoding `+` as a space is right for both S3 and servers that
 * write `%20`, since a literal `+` in a key always arrives as `%2B`.
 */
export function parseListObjectsV2(body: string): ListObjectsV2Page {
  const result = parse(body)['ListBucketResult'] as Record<string, unknown> | undefined;
  if (result === undefined) throw new Error('the answer is not a ListBucketResult');
  const urlEncoded = text(result['EncodingType'])?.toLowerCase() === 'url';
  const decodeKey = (value: string) => (urlEncoded ? percentDecode(value, true).toString('utf8') : value);
  const objects = ((result['Contents'] as Record<string, unknown>[] | undefined) ?? []).map((entry) => {
    const lastModified = Date.parse(text(entry['LastModified']) ?? '');
    return Object.freeze({
      key: decodeKey(text(entry['Key']) ?? ''),
      size: Number(text(entry['Size']) ?? NaN),
      etag: text(entry['ETag']) ?? '',
      lastModifiedMs: lastModified,
    });
  });
  const commonPrefixes = ((result['CommonPrefixes'] as Record<string, unknown>[] | undefined) ?? []).map((entry) => decodeKey(text(entry['Prefix']) ?? ''));
  const token = text(result['NextContinuationToken']);
  return {
    objects,
    commonPrefixes,
    nextContinuationToken: token === undefined || token === '' ? undefined : token,
    isTruncated: text(result['IsTruncated'])?.trim() === 'true',
  };
}
