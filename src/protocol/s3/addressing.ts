import { s3errors } from '../../domain/errors.js';

export interface Addressed {
  readonly bucket: string | undefined;
  readonly key: string | undefined;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw s3errors.invalidUri();
  }
}

/**
 * Finds bucket and key in a request: virtual-host style (`bucket.<domain>`) when a base domain
 * is configured and the Host matches it, path style (`/bucket/key`) otherwise. The key is the
 * rest of the path, decoded once; slashes inside it are part of the key.
 */
export function addressRequest(rawPath: string, host: string | undefined, virtualHostDomain: string | undefined): Addressed {
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (virtualHostDomain !== undefined && hostname.endsWith(`.${virtualHostDomain}`)) {
    const bucket = hostname.slice(0, -(virtualHostDomain.length + 1));
    const key = decode(rawPath.slice(1));
    return { bucket, key: key === '' ? undefined : key };
  }
  const path = rawPath.slice(1);
  if (path === '') return { bucket: undefined, key: undefined };
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: decode(path), key: undefined };
  const key = decode(path.slice(slash + 1));
  return { bucket: decode(path.slice(0, slash)), key: key === '' ? undefined : key };
}
