/**
 * The long page header at the start of every WAL segment (XLogLongPageHeaderData in
 * src/include/access/xlog_internal.h, PostgreSQL 15): after the short header — xlp_magic (2),
 * xlp_info (2), xlp_tli (4), xlp_pageaddr (8), xlp_rem_len (4), 4 bytes of alignment — come
 * xlp_sysid (8), xlp_seg_size (4) and xlp_xlog_blcksz (4). Integers are in the server's byte
 * order, which is little-endian on every platform PostgreSQL builds Debian packages for.
 *
 * The system identifier ties a segment to the cluster that wrote it; recording it lets a conflict
 * say "two clusters archive into one prefix" instead of only "the bytes differ".
 */

export interface WalSegmentHeader {
  /** pg_control_system().system_identifier, as a decimal string (it is a uint64). */
  readonly systemIdentifier: string;
  readonly timeline: number;
  readonly segmentSize: number;
  readonly blockSize: number;
}

/** XLP_LONG_HEADER in xlp_info: the page starts a segment and has the long header. */
const XLP_LONG_HEADER = 0x0002;
const LONG_HEADER_BYTES = 40;

/**
 * The long header of a segment, or undefined if `bytes` does not start with one (an all-zero
 * file, a truncated file, something that is not WAL). Magic numbers are per major version, so
 * any non-zero magic is accepted and the fields are checked for plausibility instead.
 */
export function readWalSegmentHeader(bytes: Uint8Array): WalSegmentHeader | undefined {
  if (bytes.length < LONG_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, LONG_HEADER_BYTES);
  const magic = view.getUint16(0, true);
  const info = view.getUint16(2, true);
  if (magic === 0 || (info & XLP_LONG_HEADER) === 0) return undefined;
  const segmentSize = view.getUint32(32, true);
  const blockSize = view.getUint32(36, true);
  const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;
  // wal_segment_size is a power of two from 1 MiB to 1 GiB; the block size one from 1 to 32 KiB.
  if (!isPowerOfTwo(segmentSize) || segmentSize < 1 << 20 || segmentSize > 1 << 30) return undefined;
  if (!isPowerOfTwo(blockSize) || blockSize < 1024 || blockSize > 32768) return undefined;
  return Object.freeze({
    systemIdentifier: view.getBigUint64(24, true).toString(),
    timeline: view.getUint32(4, true),
    segmentSize,
    blockSize,
  });
}
