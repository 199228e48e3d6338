import type { Transform } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gzip } from 'node:zlib';
import type { WalCompression } from './wal-object-metadata.js';

/**
 * WAL is compressed with gzip from node:zlib. zstd would compress better and faster, but
 * node:zlib has it only from Node 22.15 (experimental) and Holdfast runs on Node 20 without
 * native add-ons on the backup host. gzip's own CRC-32 trailer is a second check on the way back.
 *
 * The default level is 1. On real PostgreSQL 15 WAL (test/pg/archive-command.test.ts, a bulk
 * load, 16 MiB segment) level 1 stored 3.0 % of the segment in 21 ms and level 6 stored 2.5 % in
 * 58 ms: most of what makes segments large — the zero-filled tail of a switched segment, full-page
 * images of mostly empty pages — goes at level 1 already, at a third of the CPU, and archiving
 * speed is what keeps a busy cluster from falling behind. Bytes that do not shrink (already
 * compressed or encrypted columns) are stored as they are.
 */
export const DEFAULT_GZIP_LEVEL = 1;

const gzipAsync = promisify(gzip);

export interface EncodedWal {
  readonly compression: WalCompression;
  readonly body: Uint8Array;
}

export async function encodeWal(bytes: Uint8Array, gzipLevel: number = DEFAULT_GZIP_LEVEL): Promise<EncodedWal> {
  if (!Number.isInteger(gzipLevel) || gzipLevel < 0 || gzipLevel > 9) throw new RangeError(`gzip level must be 0..9, got ${gzipLevel}`);
  if (gzipLevel === 0) return { compression: 'none', body: bytes };
  const compressed = await gzipAsync(bytes, { level: gzipLevel, memLevel: 9 });
  return compressed.length < bytes.length ? { compression: 'gzip', body: compressed } : { compression: 'none', body: bytes };
}

/**
 * A stream that turns the stored bytes back into the original file; undefined when stored as-is.
 * 1 MiB output chunks instead of zlib's 16 KiB: a 16 MiB segment then costs 16 callbacks, digest
 * updates and writes instead of 1,024 (a wal-fetch profile had those at a fifth of its CPU).
 */
export function walDecoder(compression: WalCompression): Transform | undefined {
  return compression === 'gzip' ? createGunzip({ chunkSize: 1 << 20 }) : undefined;
}
