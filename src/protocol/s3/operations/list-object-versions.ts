import { s3errors } from '../../../domain/errors.js';
import type { ObjectVersionRecord } from '../../../domain/model.js';
import { bucketOf, encodeKey, encodingType, intParam, optionalParam, ownerOf } from '../params.js';
import { isoDate, renderElement, renderXml } from '../xml.js';
import { type S3Operation, XML_HEADERS } from './context.js';

/** ListObjectVersions: GET /bucket?versions */
export const listObjectVersions: S3Operation = async (req, { vault }) => {
  const bucket = bucketOf(req);
  const encoding = encodingType(req);
  const prefix = optionalParam(req, 'prefix') ?? '';
  const delimiter = optionalParam(req, 'delimiter') ?? '';
  const keyMarker = optionalParam(req, 'key-marker') ?? '';
  const versionIdMarker = optionalParam(req, 'version-id-marker');
  const maxKeys = intParam(req, 'max-keys', 1000, { min: 0, max: 1000 });
  if (versionIdMarker !== undefined && versionIdMarker !== '' && keyMarker === '') {
    throw s3errors.invalidArgument('A version-id marker cannot be specified without a key marker.', 'version-id-marker', versionIdMarker);
  }
  const page = await vault.listObjectVersions(bucket, {
    prefix,
    delimiter,
    keyMarker,
    versionIdMarker: versionIdMarker === '' ? undefined : versionIdMarker,
    maxKeys,
  });
  const owner = ownerOf(req);
  // Versions and delete markers interleave in key order, as S3 returns them.
  const entries = page.versions.map((v: ObjectVersionRecord) =>
    v.isDeleteMarker
      ? renderElement('DeleteMarker', {
          Key: encodeKey(v.key, encoding),
          VersionId: v.versionId,
          IsLatest: v.isLatest,
          LastModified: isoDate(v.lastModifiedMs),
          Owner: owner,
        })
      : renderElement('Version', {
          Key: encodeKey(v.key, encoding),
          VersionId: v.versionId,
          IsLatest: v.isLatest,
          LastModified: isoDate(v.lastModifiedMs),
          ETag: v.etag,
          ...(v.checksum === undefined ? {} : { ChecksumAlgorithm: v.checksum.algorithm, ChecksumType: v.checksum.type }),
          Size: v.size,
          Owner: owner,
          StorageClass: v.headers['x-amz-storage-class'] ?? 'STANDARD',
        }),
  );
  const head = renderXml('ListVersionsResult', {
    Name: bucket,
    Prefix: encodeKey(prefix, encoding),
    KeyMarker: encodeKey(keyMarker, encoding),
    VersionIdMarker: versionIdMarker ?? '',
    NextKeyMarker: page.nextKeyMarker === undefined ? undefined : encodeKey(page.nextKeyMarker, encoding),
    NextVersionIdMarker: page.nextVersionIdMarker,
    MaxKeys: maxKeys,
    Delimiter: delimiter === '' ? undefined : encodeKey(delimiter, encoding),
    EncodingType: encoding,
    IsTruncated: page.isTruncated,
  });
  const prefixes = page.commonPrefixes.map((p) => renderElement('CommonPrefixes', { Prefix: encodeKey(p, encoding) })).join('');
  const body = head.replace('</ListVersionsResult>', `${entries.join('')}${prefixes}</ListVersionsResult>`);
  return { status: 200, headers: XML_HEADERS, body };
};
