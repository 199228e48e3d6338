/**
 * An image reference as Docker and Kubernetes write it: `[registry[:port]/]path[:tag][@digest]`
 * (the distribution reference grammar, github.com/distribution/reference). Only what the checks
 * need: is there a digest, and which tag (none means `latest`).
 */
export interface ImageReference {
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

export function parseImageReference(text: string): ImageReference | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || /\s/.test(trimmed)) return undefined;
  const at = trimmed.indexOf('@');
  const digest = at === -1 ? undefined : trimmed.slice(at + 1);
  if (digest !== undefined && !DIGEST.test(digest)) return undefined;
  const rest = at === -1 ? trimmed : trimmed.slice(0, at);
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  const hasTag = colon > slash;
  const name = hasTag ? rest.slice(0, colon) : rest;
  const tag = hasTag ? rest.slice(colon + 1) : undefined;
  if (name === '' || tag === '') return undefined;
  return { name, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** Variables not substituted (`${IMAGE}`, `$TAG`): the reference cannot be judged. */
export function hasUnresolvedVariable(text: string): boolean {
  return /\$(?:\{|[A-Za-z_])/.test(text);
}

export type ImagePinning = 'digest' | 'tag' | 'latest';

/** digest: pinned; tag: a tag other than latest, which can be moved; latest: `latest` or no tag. */
export function imagePinning(reference: ImageReference): ImagePinning {
  if (reference.digest !== undefined) return 'digest';
  return reference.tag === undefined || reference.tag === 'latest' ? 'latest' : 'tag';
}
