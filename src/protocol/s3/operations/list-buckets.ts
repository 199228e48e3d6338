import { SYSTEM_BUCKET_PREFIX } from '../../../domain/names.js';
import { ownerOf } from '../params.js';
import { isoDate, renderXml } from '../xml.js';
import { type S3Operation, XML_HEADERS } from './context.js';

/**
 * ListBuckets: GET / — without the vault's own system buckets (audit checkpoints), which stay
 * readable by name but would surprise tools that list "all" buckets (the admin API shows them).
 */
export const listBuckets: S3Operation = async (req, { vault }) => {
  const buckets = (await vault.listBuckets()).filter((b) => !b.name.startsWith(SYSTEM_BUCKET_PREFIX));
  const owner = ownerOf(req);
  return {
    status: 200,
    headers: XML_HEADERS,
    body: renderXml('ListAllMyBucketsResult', {
      Owner: owner,
      Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: isoDate(b.createdAtMs), BucketRegion: b.region })) },
    }),
  };
};
