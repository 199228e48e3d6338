import { ownerOf } from '../params.js';
import { isoDate, renderXml } from '../xml.js';
import { type S3Operation, XML_HEADERS } from './context.js';

/** ListBuckets: GET / */
export const listBuckets: S3Operation = async (req, { vault }) => {
  const buckets = await vault.listBuckets();
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
