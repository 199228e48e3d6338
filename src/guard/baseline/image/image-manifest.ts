import { ImageFormatError, normalizeMemberPath, type ImageArchive } from './image-archive.js';

/**
 * Finds an image's configuration and layers in an archive, without a Docker engine:
 *
 * - `docker save` writes manifest.json: `[{ Config, RepoTags, Layers }]`, paths inside the tar
 *   (`<id>.json`, `<id>/layer.tar`; since Docker 25 `blobs/sha256/<hex>`, beside an OCI layout);
 * - an OCI image layout (image-spec v1.1 image-layout.md) has `oci-layout`, `index.json` and
 *   `blobs/<alg>/<hex>`; index.json lists manifests or nested indexes (multi-platform images),
 *   each manifest names a config and its layers (image-spec manifest.md, descriptor.md).
 *
 * manifest.json is preferred when both are present (it is what `docker load` reads). Among
 * several images the `--image` name is chosen, else linux/amd64, else the first; BuildKit's
 * attestation manifests (platform unknown/unknown) are not images.
 */
export interface LayerDescriptor {
  /** Inside the archive. */
  readonly path: string;
  readonly mediaType?: string;
  /** `sha256:…` when the format names it; the layer's bytes are checked against it. */
  readonly digest?: string;
}

export interface ImageConfigFile {
  readonly config?: {
    readonly User?: string;
    readonly ExposedPorts?: Record<string, unknown>;
    readonly Env?: readonly string[];
    readonly Labels?: Record<string, string> | null;
    readonly Entrypoint?: readonly string[] | null;
    readonly Cmd?: readonly string[] | null;
  };
  readonly history?: ReadonlyArray<{ readonly created_by?: string; readonly comment?: string; readonly empty_layer?: boolean }>;
  readonly os?: string;
  readonly architecture?: string;
}

export interface ResolvedImage {
  readonly format: 'docker-save' | 'oci-layout';
  /** A name from RepoTags or the ref.name annotation, when there is one. */
  readonly name?: string;
  readonly configPath: string;
  readonly configDigest?: string;
  readonly config: ImageConfigFile;
  readonly layers: readonly LayerDescriptor[];
  /** Other images in the archive, and such. */
  readonly notes: readonly string[];
}

const MAX_JSON = 8 * 1024 * 1024;
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

function readJson(archive: ImageArchive, path: string): unknown {
  const bytes = archive.read(path, MAX_JSON);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new ImageFormatError(`${path} is not valid JSON (${(error as Error).message})`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function blobPath(digest: unknown): string {
  if (typeof digest !== 'string' || !/^[a-z0-9+._-]+:[a-zA-Z0-9=_-]+$/.test(digest)) throw new ImageFormatError(`"${String(digest)}" is not a digest`);
  const [algorithm, hex] = digest.split(':') as [string, string];
  return `blobs/${algorithm}/${hex}`;
}

function digestOfPath(path: string): string | undefined {
  const match = /^blobs\/(sha256)\/([a-f0-9]{64})$/.exec(normalizeMemberPath(path));
  return match === null ? undefined : `${match[1]}:${match[2]}`;
}

function readConfig(archive: ImageArchive, path: string): ImageConfigFile {
  const config = readJson(archive, path);
  if (!isRecord(config)) throw new ImageFormatError(`${path} is not an image configuration`);
  return config;
}

function fromDockerManifest(archive: ImageArchive, select: string | undefined): ResolvedImage {
  const manifest = readJson(archive, 'manifest.json');
  if (!Array.isArray(manifest) || manifest.length === 0 || !manifest.every(isRecord)) throw new ImageFormatError('manifest.json is not a docker save manifest (an array of { Config, RepoTags, Layers })');
  const images = manifest as Array<{ Config?: unknown; RepoTags?: unknown; Layers?: unknown }>;
  const tags = (image: { RepoTags?: unknown }) => (Array.isArray(image.RepoTags) ? image.RepoTags.filter((tag): tag is string => typeof tag === 'string') : []);
  const chosen = select === undefined ? images[0]! : images.find((image) => tags(image).includes(select));
  if (chosen === undefined) throw new ImageFormatError(`no image named ${select} in manifest.json; it has ${images.flatMap(tags).join(', ') || 'untagged images only'}`);
  if (typeof chosen.Config !== 'string' || !Array.isArray(chosen.Layers) || !chosen.Layers.every((layer) => typeof layer === 'string')) throw new ImageFormatError('manifest.json names no Config or Layers');
  const name = tags(chosen)[0];
  const configDigest = digestOfPath(chosen.Config);
  return {
    format: 'docker-save',
    ...(name === undefined ? {} : { name }),
    configPath: chosen.Config,
    ...(configDigest === undefined ? {} : { configDigest }),
    config: readConfig(archive, chosen.Config),
    layers: (chosen.Layers).map((path) => {
      const digest = digestOfPath(path);
      return { path, ...(digest === undefined ? {} : { digest }) };
    }),
    notes: images.length > 1 ? [`the archive holds ${images.length} images; scanned ${name ?? 'the first'} (choose with --image NAME)`] : [],
  };
}

interface Candidate {
  readonly descriptor: Record<string, unknown>;
  readonly name?: string;
}

function platformOf(descriptor: Record<string, unknown>): string | undefined {
  const platform = descriptor.platform;
  return isRecord(platform) && typeof platform.os === 'string' ? `${platform.os}/${String(platform.architecture)}` : undefined;
}

function collectManifests(archive: ImageArchive, index: unknown, where: string, name: string | undefined, depth: number, out: Candidate[]): void {
  if (!isRecord(index) || !Array.isArray(index.manifests)) throw new ImageFormatError(`${where} is not an OCI image index (no manifests array)`);
  if (depth > 4) throw new ImageFormatError(`${where}: image indexes nest deeper than 4`);
  for (const descriptor of index.manifests as unknown[]) {
    if (!isRecord(descriptor)) continue;
    const annotations = isRecord(descriptor.annotations) ? descriptor.annotations : {};
    const ownName = [annotations['io.containerd.image.name'], annotations['org.opencontainers.image.ref.name']].find((value): value is string => typeof value === 'string') ?? name;
    if (annotations['vnd.docker.reference.type'] === 'attestation-manifest' || platformOf(descriptor) === 'unknown/unknown') continue;
    if (typeof descriptor.mediaType === 'string' && INDEX_TYPES.has(descriptor.mediaType)) {
      const path = blobPath(descriptor.digest);
      collectManifests(archive, readJson(archive, path), path, ownName, depth + 1, out);
    } else out.push({ descriptor, ...(ownName === undefined ? {} : { name: ownName }) });
  }
}

function fromOciLayout(archive: ImageArchive, select: string | undefined): ResolvedImage {
  const candidates: Candidate[] = [];
  collectManifests(archive, readJson(archive, 'index.json'), 'index.json', undefined, 0, candidates);
  if (candidates.length === 0) throw new ImageFormatError('index.json lists no image manifest');
  const chosen =
    select === undefined
      ? (candidates.find((candidate) => platformOf(candidate.descriptor) === 'linux/amd64') ?? candidates[0]!)
      : candidates.find((candidate) => candidate.name === select || (candidate.name !== undefined && candidate.name.endsWith(`:${select}`)));
  if (chosen === undefined) throw new ImageFormatError(`no image named ${select} in index.json; it has ${candidates.map((candidate) => candidate.name ?? 'an unnamed image').join(', ')}`);
  const manifestPath = blobPath(chosen.descriptor.digest);
  const manifest = readJson(archive, manifestPath);
  if (!isRecord(manifest) || !isRecord(manifest.config) || !Array.isArray(manifest.layers)) throw new ImageFormatError(`${manifestPath} is not an image manifest (config and layers)`);
  const configPath = blobPath(manifest.config.digest);
  const layers = (manifest.layers as unknown[]).filter(isRecord).map((layer) => ({ path: blobPath(layer.digest), digest: String(layer.digest), ...(typeof layer.mediaType === 'string' ? { mediaType: layer.mediaType } : {}) }));
  const notes = candidates.length > 1 ? [`the layout holds ${candidates.length} images (${candidates.map((candidate) => `${candidate.name ?? 'unnamed'} ${platformOf(candidate.descriptor) ?? ''}`.trim()).join('; ')}); scanned ${chosen.name ?? 'the first'} ${platformOf(chosen.descriptor) ?? ''}`.trim()] : [];
  return {
    format: 'oci-layout',
    ...(chosen.name === undefined ? {} : { name: chosen.name }),
    configPath,
    configDigest: String(manifest.config.digest),
    config: readConfig(archive, configPath),
    layers,
    notes,
  };
}

export function resolveImage(archive: ImageArchive, select?: string): ResolvedImage {
  if (archive.has('manifest.json')) return fromDockerManifest(archive, select);
  if (archive.has('index.json')) return fromOciLayout(archive, select);
  throw new ImageFormatError(`${archive.description} has neither manifest.json (docker save) nor index.json (OCI image layout)`);
}
