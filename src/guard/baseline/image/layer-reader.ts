import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { readTarEntries } from '../../../infra/tar/tar-reader.js';
import type { TarMemberHeader } from '../../../infra/tar/tar-header.js';
import type { ImageArchive } from './image-archive.js';
import type { LayerDescriptor } from './image-manifest.js';
import type { LayerEntry } from './layered-filesystem.js';

/**
 * Streams one layer blob through its decompressor and the tar reader, hashing the blob on the way
 * (a layer that does not match its digest is reported). Compression is told by the media type
 * and, for `docker save` layers that have none, by the first bytes: gzip (1f 8b) is read with
 * node:zlib; zstd (28 b5 2f fd, `…tar+zstd`) is not: Node 20's zlib has no zstd decoder (it
 * arrived in Node 22.15), so such a layer is reported as not readable rather than guessed at.
 */
export class LayerNotReadable extends Error {}

export interface LayerReadOptions {
  /** Whether to keep a member's content: the files the checks read, and text candidates for secrets. */
  readonly keepContent: (header: TarMemberHeader) => boolean;
  /** Called for each member with content, before the content is dropped or kept. */
  readonly onContent?: (entry: LayerEntry) => void;
  /** Whether an entry's content stays in the filesystem after onContent. */
  readonly retain: (path: string) => boolean;
}

export interface LayerReadResult {
  readonly entries: LayerEntry[];
  readonly compression: 'none' | 'gzip';
  readonly bytes: number;
  /** Set when the blob's digest was checked and did not match. */
  readonly digestMismatch?: string;
}

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

async function* hashing(source: AsyncIterable<Buffer>, hash: ReturnType<typeof createHash>, counter: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk);
    counter.bytes += chunk.length;
    yield chunk;
  }
}

/** The first chunk, and an iterable that yields it again followed by the rest. */
async function peek(source: AsyncIterable<Buffer>): Promise<{ head: Buffer; all: AsyncIterable<Buffer> }> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head = first.done === true ? Buffer.alloc(0) : first.value;
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  return { head, all: all() };
}

export async function readLayer(archive: ImageArchive, layer: LayerDescriptor, options: LayerReadOptions): Promise<LayerReadResult> {
  if (layer.mediaType?.includes('zstd') === true) throw new LayerNotReadable(`zstd layer not readable (${layer.mediaType}): Node 20's node:zlib has no zstd decoder; its files were not checked`);
  if (layer.mediaType?.includes('nondistributable') === true || layer.mediaType?.includes('foreign') === true) {
    if (!archive.has(layer.path)) throw new LayerNotReadable(`foreign layer ${layer.path} is not in the archive (${layer.mediaType}); its files were not checked`);
  }
  const hash = createHash('sha256');
  const counter = { bytes: 0 };
  const raw = archive.stream(layer.path);
  const { head, all } = await peek(hashing(raw, hash, counter));
  if (head.subarray(0, 4).equals(ZSTD)) {
    raw.destroy();
    throw new LayerNotReadable('zstd layer not readable: Node 20\'s node:zlib has no zstd decoder; its files were not checked');
  }
  const gzip = head.subarray(0, 2).equals(GZIP) || layer.mediaType?.endsWith('gzip') === true;
  let source: AsyncIterable<Uint8Array> = all;
  if (gzip) {
    const gunzip = createGunzip();
    const input = Readable.from(all);
    input.on('error', (error) => gunzip.destroy(error));
    source = input.pipe(gunzip);
  }
  const entries: LayerEntry[] = [];
  try {
    for await (const member of readTarEntries(source, { keepContent: options.keepContent })) {
      const entry: LayerEntry = { path: member.path, kind: member.kind, mode: member.mode, uid: member.uid, gid: member.gid, size: member.size, linkpath: member.linkpath, ...(member.content === undefined ? {} : { content: member.content }) };
      if (entry.content !== undefined) {
        options.onContent?.(entry);
        if (!options.retain(entry.path)) {
          const { content: _dropped, ...withoutContent } = entry;
          entries.push(withoutContent);
          continue;
        }
      }
      entries.push(entry);
    }
  } finally {
    raw.destroy();
  }
  const algorithm = layer.digest?.split(':')[0];
  const actual = `sha256:${hash.digest('hex')}`;
  const mismatch = algorithm === 'sha256' && layer.digest !== actual ? `${layer.path} does not match its digest (${layer.digest} expected, ${actual} read): the archive is damaged or was altered` : undefined;
  return { entries, compression: gzip ? 'gzip' : 'none', bytes: counter.bytes, ...(mismatch === undefined ? {} : { digestMismatch: mismatch }) };
}
