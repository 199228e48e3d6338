import { checksumHeaderName } from '../../../infra/checksum/checksum.js';
import type { StoredChecksum } from '../../../domain/model.js';

/** `x-amz-checksum-<alg>` and `x-amz-checksum-type` for a stored checksum. */
export function checksumResponseHeaders(checksum: StoredChecksum | undefined): Record<string, string> {
  if (checksum === undefined) return {};
  return { [checksumHeaderName(checksum.algorithm)]: checksum.value, 'x-amz-checksum-type': checksum.type };
}

/** XML elements `<ChecksumCRC32>` etc. for a stored checksum. */
export function checksumXml(checksum: StoredChecksum | undefined): Record<string, string> {
  if (checksum === undefined) return {};
  const name = `Checksum${checksum.algorithm}`;
  return { [name]: checksum.value, ChecksumType: checksum.type };
}
