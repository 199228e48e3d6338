import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildTar, type TarInput } from './tar-writer.js';

/**
 * Container images built by the tests, in the two forms `holdfast scan image` reads: an OCI image
 * layout directory and a `docker save` tarball (the classic one with <id>/layer.tar, or Docker
 * 25's, which embeds an OCI layout). Secret-looking values are generated at run time, never
 * written in the source (test/acceptance/repository-secrets.test.ts keeps this repository clean).
 */
export interface LayerSpec {
  readonly entries: readonly TarInput[];
  readonly gzip?: boolean;
  /** A layer whose blob starts with zstd's magic number and says tar+zstd. */
  readonly zstd?: boolean;
}

export interface ImageSpec {
  readonly name: string;
  readonly config: Record<string, unknown>;
  readonly layers: readonly LayerSpec[];
}

interface Blob {
  readonly digest: string;
  readonly bytes: Buffer;
  readonly mediaType: string;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const ZSTD_FRAME = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x00, 0x00]);

function layerBlob(layer: LayerSpec): Blob & { diffId: string } {
  const tar = buildTar(layer.entries);
  if (layer.zstd === true) return { digest: sha256(ZSTD_FRAME), bytes: ZSTD_FRAME, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', diffId: sha256(tar) };
  const bytes = layer.gzip === true ? gzipSync(tar) : tar;
  return { digest: sha256(bytes), bytes, mediaType: layer.gzip === true ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', diffId: sha256(tar) };
}

function imageBlobs(spec: ImageSpec) {
  const layers = spec.layers.map(layerBlob);
  const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', ...spec.config, rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) } }));
  const config: Blob = { digest: sha256(configBytes), bytes: configBytes, mediaType: 'application/vnd.oci.image.config.v1+json' };
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: config.mediaType, digest: config.digest, size: config.bytes.length },
      layers: layers.map((layer) => ({ mediaType: layer.mediaType, digest: layer.digest, size: layer.bytes.length })),
    }),
  );
  const manifest: Blob = { digest: sha256(manifestBytes), bytes: manifestBytes, mediaType: 'application/vnd.oci.image.manifest.v1+json' };
  return { layers, config, manifest };
}

/** OCI layout with a nested image index (as multi-platform images and BuildKit's attestations have). */
function ociFiles(spec: ImageSpec): Map<string, Buffer> {
  const { layers, config, manifest } = imageBlobs(spec);
  const attestation = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: config.digest }, layers: [] }));
  const nested = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(attestation), size: attestation.length, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
      ],
    }),
  );
  const files = new Map<string, Buffer>();
  for (const blob of [...layers, config, manifest, { digest: sha256(attestation), bytes: attestation }, { digest: sha256(nested), bytes: nested }]) files.set(`blobs/sha256/${blob.digest.slice(7)}`, blob.bytes);
  files.set('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(nested), size: nested.length, annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': spec.name.split(':').at(-1) } }] })));
  return files;
}

export async function writeOciLayout(dir: string, spec: ImageSpec): Promise<string> {
  for (const [path, bytes] of ociFiles(spec)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
  return dir;
}

/** `docker save` output: classic (<id>/layer.tar, <id>.json, manifest.json) or Docker 25+ (OCI layout plus manifest.json). */
export function dockerSaveTarball(spec: ImageSpec, style: 'classic' | 'oci' = 'classic'): Buffer {
  if (style === 'oci') {
    const files = ociFiles(spec);
    const { layers, config } = imageBlobs(spec);
    files.set('manifest.json', Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${config.digest.slice(7)}`, RepoTags: [spec.name], Layers: layers.map((layer) => `blobs/sha256/${layer.digest.slice(7)}`) }])));
    return buildTar([...files].map(([path, content]) => ({ path, content })));
  }
  const { layers, config } = imageBlobs(spec);
  const entries: TarInput[] = [];
  const layerPaths: string[] = [];
  for (const layer of layers) {
    const id = createHash('sha256').update(layer.diffId).update(randomBytes(4)).digest('hex');
    entries.push({ path: `${id}`, type: 'directory' }, { path: `${id}/VERSION`, content: '1.0' }, { path: `${id}/layer.tar`, content: layer.bytes });
    layerPaths.push(`${id}/layer.tar`);
  }
  entries.push({ path: `${config.digest.slice(7)}.json`, content: config.bytes });
  entries.push({ path: 'manifest.json', content: JSON.stringify([{ Config: `${config.digest.slice(7)}.json`, RepoTags: [spec.name], Layers: layerPaths }]) });
  entries.push({ path: 'repositories', content: '{}' });
  return buildTar(entries);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function alnum(length: number): string {
  for (;;) {
    const out = [...randomBytes(length)].map((byte) => ALNUM[byte % ALNUM.length]).join('');
    if ((out.match(/\d/g) ?? []).length >= 2) return out;
  }
}

/** Secret-looking values for one test run, made from pieces so the source holds none. */
export function generatedSecrets() {
  return {
    githubToken: 'gh' + 'p_' + alnum(36),
    npmToken: 'np' + 'm_' + alnum(36),
    deletedFileToken: 'gh' + 's_' + alnum(36),
    stripeKey: 's' + 'k_live_' + alnum(24),
  };
}

const DIGEST = `sha256:${'5e'.repeat(32)}`;

function dpkgStatus(packages: readonly string[]): string {
  return packages.map((name) => `Package: ${name}\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n`).join('\n');
}

/**
 * An image that breaks every check: runs as "admin" (uid 0 in /etc/passwd), exposes 22, has sshd
 * and cron, gcc and curl and 170 packages, no base digest, secrets in Env, history and files, a
 * default database password, a setuid binary and a world-writable directory. Its upper layer
 * deletes a telnet daemon (whiteout), empties /usr/local/bin (opaque whiteout) and deletes a
 * file that held a secret (still in the lower layer's blob).
 */
export function badImage(secrets = generatedSecrets()): ImageSpec {
  const filler = Array.from({ length: 165 }, (_, index) => `libfiller${index}`);
  return {
    name: 'acme/bad:1.0',
    config: {
      config: {
        User: 'admin',
        ExposedPorts: { '22/tcp': {}, '8080/tcp': {} },
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'POSTGRES_PASSWORD=postgres', `GITHUB_TOKEN=${secrets.githubToken}`, 'SESSION_SECRET=hunter2'],
        Labels: { 'org.opencontainers.image.base.name': 'docker.io/library/debian:12' },
      },
      history: [{ created_by: '/bin/sh -c #(nop) ADD file:abc in / ' }, { created_by: `|1 NPM_TOKEN=${secrets.npmToken} /bin/sh -c npm ci` }],
    },
    layers: [
      {
        gzip: true,
        entries: [
          { path: 'etc', type: 'directory' },
          { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/bash\nadmin:x:0:0:admin:/home/admin:/bin/bash\n' },
          { path: 'etc/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' },
          { path: 'var/lib/dpkg/status', content: dpkgStatus(['base-files', 'gcc-12', 'gcc', 'openssh-server', 'curl', 'cron', ...filler]) },
          { path: 'usr/sbin/sshd', content: '\x7fELF fake sshd\0', mode: 0o755 },
          { path: 'usr/sbin/cron', content: '\x7fELF fake cron\0', mode: 0o755 },
          { path: 'usr/sbin/in.telnetd', content: '\x7fELF fake telnetd\0', mode: 0o755 },
          { path: 'usr/bin/passwd', content: '\x7fELF fake passwd\0', mode: 0o4755 },
          { path: 'usr/local/bin/supervisord', content: '#!/usr/bin/python3\n', mode: 0o755 },
          { path: 'tmp', type: 'directory', mode: 0o1777 },
          { path: 'srv/uploads', type: 'directory', mode: 0o777 },
          { path: 'app/.env', content: `DEPLOY_TOKEN=${secrets.deletedFileToken}\n` },
          { path: 'app/config/payments.yml', content: `stripe:\n  key: ${secrets.stripeKey}\n` },
        ],
      },
      {
        entries: [
          { path: 'usr/sbin/.wh.in.telnetd' },
          { path: 'usr/local/bin/app', content: '#!/bin/sh\nexec /app/server\n', mode: 0o755 },
          // After the entry it must not delete: whiteouts apply to the layers below only.
          { path: 'usr/local/bin/.wh..wh..opq' },
          { path: 'app/.wh..env' },
        ],
      },
    ],
  };
}

/** The same application done right: distroless base pinned by digest, uid 10001, no extras. */
export function goodImage(): ImageSpec {
  return {
    name: 'acme/good:1.0',
    config: {
      config: {
        User: '10001:10001',
        ExposedPorts: { '8080/tcp': {} },
        Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'POSTGRES_PASSWORD_FILE=/run/secrets/db', 'DATABASE_URL=$DATABASE_URL'],
        Labels: { 'org.opencontainers.image.base.name': 'gcr.io/distroless/base-debian12:nonroot', 'org.opencontainers.image.base.digest': DIGEST },
      },
      history: [{ created_by: 'COPY /app /app # buildkit' }],
    },
    layers: [
      {
        gzip: true,
        entries: [
          { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\napp:x:10001:10001::/app:/sbin/nologin\n' },
          { path: 'etc/os-release', content: 'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="12"\nHOME_URL="https://github.com/GoogleContainerTools/distroless"\n' },
          { path: 'var/lib/dpkg/status.d/base-files', content: dpkgStatus(['base-files']) },
          { path: 'var/lib/dpkg/status.d/libc6', content: dpkgStatus(['libc6']) },
          { path: 'var/lib/dpkg/status.d/ca-certificates', content: dpkgStatus(['ca-certificates']) },
          { path: 'tmp', type: 'directory', mode: 0o1777 },
          // A debugging leftover the next layer deletes.
          { path: 'usr/sbin/sshd', content: '\x7fELF fake sshd\0', mode: 0o755 },
          { path: 'busybox/sh', content: '\x7fELF fake busybox\0', mode: 0o755 },
        ],
      },
      {
        gzip: false,
        entries: [
          { path: 'usr/sbin/.wh.sshd' },
          { path: '.wh.busybox' },
          { path: 'app/server', content: '\x7fELF the application\0', mode: 0o755, uid: 10001, gid: 10001 },
          { path: 'app/config.yml', content: 'listen: 8080\nlog_level: info\n' },
        ],
      },
    ],
  };
}
