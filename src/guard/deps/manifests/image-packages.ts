import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { openImageArchive } from '../../baseline/image/image-archive.js';
import { isContentFile } from '../../baseline/image/image-contents.js';
import { resolveImage } from '../../baseline/image/image-manifest.js';
import { LayeredFilesystem } from '../../baseline/image/layered-filesystem.js';
import { LayerNotReadable, readLayer } from '../../baseline/image/layer-reader.js';
import { debianReleaseFromBaseFiles, readDpkgStatus } from './dpkg-status.js';
import type { FindOptions, FoundManifests } from './find-manifests.js';
import { ecosystemFromOsRelease } from './os-release.js';

/**
 * The dpkg database inside a container image, read straight from a `docker save` tarball or an
 * OCI image layout with the layer reader `scan image` uses (no Docker engine, nothing extracted to
 * disk): the final filesystem's var/lib/dpkg/status, distroless's var/lib/dpkg/status.d/, and
 * os-release for the release. Only those files' contents are kept in memory. A layer that cannot
 * be read (zstd on Node 20, a damaged blob) is a problem of the scan: its packages may be missing.
 */
export interface ImagePackageOptions extends FindOptions {
  /** A RepoTags entry or ref.name annotation, when the archive holds several images. */
  readonly select?: string;
}

/** An OCI image layout directory (it has an `oci-layout` file) or a tar archive (POSIX "ustar" magic at offset 257). */
export function isContainerImage(path: string): boolean {
  const stat = statSync(path);
  if (stat.isDirectory()) return existsSync(join(path, 'oci-layout'));
  if (!stat.isFile() || stat.size < 512) return false;
  const header = Buffer.alloc(512);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  return header.toString('latin1', 257, 262) === 'ustar';
}

export async function readImagePackages(imagePath: string, options: ImagePackageOptions = {}): Promise<FoundManifests> {
  const name = basename(imagePath);
  const archive = openImageArchive(imagePath);
  const image = resolveImage(archive, options.select);
  const fs = new LayeredFilesystem();
  const found: FoundManifests = { manifests: [], problems: [] };
  for (const [index, layer] of image.layers.entries()) {
    try {
      const result = await readLayer(archive, layer, { keepContent: (header) => isContentFile(header.path), retain: isContentFile });
      fs.applyLayer(result.entries, index);
      if (result.digestMismatch !== undefined) found.problems.push({ path: `${name}:${layer.path}`, message: result.digestMismatch });
    } catch (error) {
      if (!(error instanceof LayerNotReadable || (error as Error).name === 'TarFormatError' || (error as NodeJS.ErrnoException).code?.startsWith('Z_') === true)) throw error;
      found.problems.push({ path: `${name}:${layer.path}`, message: `layer ${index + 1}: ${(error as Error).message}` });
    }
  }
  const text = (path: string) => fs.get(path)?.content?.toString('utf8');
  const status = text('var/lib/dpkg/status');
  const statusDirectory = fs.get('var/lib/dpkg/status.d');
  const extra: Array<{ path: string; text: string }> = [];
  for (const [child, node] of statusDirectory?.children ?? []) if (node.content !== undefined) extra.push({ path: `${name}:var/lib/dpkg/status.d/${child}`, text: node.content.toString('utf8') });
  if (status === undefined && extra.length === 0) return found;
  const osRelease = text('etc/os-release') ?? text('usr/lib/os-release');
  const debian = debianReleaseFromBaseFiles([status ?? '', ...extra.map((file) => file.text)].join('\n\n'));
  const release = options.distro ?? (osRelease === undefined ? (debian === undefined ? undefined : `Debian:${debian}`) : ecosystemFromOsRelease(osRelease));
  const display = `${name}:${status === undefined ? 'var/lib/dpkg/status.d/' : 'var/lib/dpkg/status'}`;
  found.manifests.push(readDpkgStatus(status ?? '', display, release, extra));
  return found;
}
