/**
 * WAL positions (LSNs) and the segment that holds one. An LSN is printed by PostgreSQL as two
 * hex halves, `X/Y` (pg_lsn output, src/backend/utils/adt/pg_lsn.c); the segment file of a
 * position is `TTTTTTTT` + segment number as two 8-digit halves, where the number is
 * LSN / wal_segment_size (XLByteToSeg and XLogFileName in src/include/access/xlog_internal.h).
 */

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function parseLsn(text: string): bigint | undefined {
  const match = LSN.exec(text);
  if (match === null) return undefined;
  return (BigInt(`0x${match[1]!}`) << 32n) | BigInt(`0x${match[2]!}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** A power of two from 1 MiB to 1 GiB (initdb --wal-segsize). */
export function isWalSegmentSize(bytes: number): boolean {
  return Number.isInteger(bytes) && bytes >= 1 << 20 && bytes <= 1 << 30 && (bytes & (bytes - 1)) === 0;
}

function hex8(value: bigint | number): string {
  return value.toString(16).toUpperCase().padStart(8, '0');
}

/** The WAL segment file name holding `lsn` on `timeline`. */
export function walSegmentNameAt(timeline: number, lsn: bigint, segmentBytes: number): string {
  if (!isWalSegmentSize(segmentBytes)) throw new RangeError(`not a WAL segment size: ${segmentBytes}`);
  const segmentsPerId = 0x1_0000_0000n / BigInt(segmentBytes);
  const segment = lsn / BigInt(segmentBytes);
  return `${hex8(timeline)}${hex8(segment / segmentsPerId)}${hex8(segment % segmentsPerId)}`;
}

/**
 * The backup history file pg_backup_stop archives for a backup that started at `startLsn`:
 * the start segment's name, the start offset in it, `.backup` (BackupHistoryFileName).
 */
export function backupHistoryFileName(timeline: number, startLsn: bigint, segmentBytes: number): string {
  return `${walSegmentNameAt(timeline, startLsn, segmentBytes)}.${hex8(startLsn % BigInt(segmentBytes))}.backup`;
}

/**
 * The last segment WAL up to (not including) `endLsn` lives in: the segment of the byte before it
 * (XLByteToPrevSeg). pg_backup_stop waits for this one to be archived; an end exactly on a segment
 * boundary needs nothing from the next segment.
 */
export function walSegmentNameBefore(timeline: number, endLsn: bigint, segmentBytes: number): string {
  if (endLsn <= 0n) throw new RangeError('the end of WAL cannot be at 0/0');
  return walSegmentNameAt(timeline, endLsn - 1n, segmentBytes);
}

/** The segment number of a segment file name (XLogFromFileName): high half × segments per id + low half. */
export function walSegmentNumber(name: string, segmentBytes: number): bigint {
  if (!/^[0-9A-F]{24}/.test(name)) throw new RangeError(`not a WAL segment name: ${name}`);
  const segmentsPerId = 0x1_0000_0000n / BigInt(segmentBytes);
  return BigInt(`0x${name.slice(8, 16)}`) * segmentsPerId + BigInt(`0x${name.slice(16, 24)}`);
}

/** The file name of segment number `segment` on `timeline` (XLogFileName). */
export function walSegmentName(timeline: number, segment: bigint, segmentBytes: number): string {
  const segmentsPerId = 0x1_0000_0000n / BigInt(segmentBytes);
  return `${hex8(timeline)}${hex8(segment / segmentsPerId)}${hex8(segment % segmentsPerId)}`;
}

export function timelineHex(timeline: number): string {
  return hex8(timeline);
}
