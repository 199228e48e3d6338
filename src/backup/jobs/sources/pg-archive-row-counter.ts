import { Transform, type TransformCallback } from 'node:stream';

/**
 * Counts the rows of each table in a `pg_dump --format=custom --compress=0` stream as it passes
 * through, unchanged — what a restore drill checks the restored database against.
 *
 * Why from the stream: pg_dump reads every table inside one snapshot (PostgreSQL docs,
 * "pg_dump"), and no query on another connection can see that snapshot once pg_dump is done, so
 * a `SELECT count(*)` at backup time would count a different moment. The archive itself holds
 * exactly the rows the snapshot had, and counting them costs one pass over bytes that are read
 * anyway.
 *
 * The custom format, as pg_dump writes it to a pipe (src/bin/pg_dump/pg_backup_archiver.c
 * WriteHead/WriteToc, pg_backup_custom.c): the header ("PGDMP", version, int and offset sizes,
 * format, compression, creation time, names), the table of contents (one entry per object: dump
 * id, tag, desc, namespace, …), then one block per entry with data, in TOC order: a type byte (1:
 * table data, 3: large objects), the dump id, then chunks of `int length, bytes` ending with a
 * zero length. An int is a sign byte followed by `intSize` bytes, least significant first; a
 * string is an int length (-1: NULL) and its bytes. Table data is COPY text: one line per row,
 * newlines inside values escaped as `\n` (PostgreSQL docs, "COPY", text format), so a row is a
 * newline byte — after which pg_dump writes the end-of-data marker `\.` and two empty lines
 * (dumpTableData_copy), which are not rows.
 *
 * Anything this reader does not understand (another archive version, compression, a block type
 * it does not know) stops the counting, never the backup: `counts()` is then undefined and
 * `problem()` says why.
 */
export class PgArchiveRowCounter extends Transform {
  readonly #parser: Generator<Need, void, Buffer | undefined>;
  readonly #rows = new Map<string, number>();
  /** The last bytes of each table's data: whether it ends with the end-of-data marker. */
  readonly #tails = new Map<string, Buffer>();
  #need: Need | undefined;
  /** Bytes gathered towards the current `read` need. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #problem: string | undefined;
  #finished = false;
  /** In a `chunks` need: the chunk length being read (sign byte and `intSize` bytes), and the data bytes left of the current chunk. */
  readonly #chunkHeader = Buffer.alloc(9);
  #chunkHeaderFill = 0;
  #chunkLeft = 0;
  /** Newlines of the data block being read, and its last bytes (committed to the table at the block's end). */
  #blockNewlines = 0;
  #blockTail: Buffer = Buffer.alloc(0);

  constructor() {
    super();
    this.#parser = readArchive(this.#rows);
    this.#need = this.#advance(undefined);
  }

  /** Rows per table (`schema.table`), in TOC order; undefined when the stream could not be counted. */
  counts(): Record<string, number> | undefined {
    if (this.#problem !== undefined || !this.#finished) return undefined;
    const counts: Record<string, number> = {};
    for (const [table, newlines] of this.#rows) counts[table] = this.#tails.get(table)?.equals(END_OF_DATA) === true ? newlines - 3 : newlines;
    return counts;
  }

  /** Why `counts()` is undefined. */
  problem(): string | undefined {
    return this.#problem ?? (this.#finished ? undefined : 'the archive ended before its last data block did');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#problem === undefined) this.#feed(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    // The archive may end only where a new block would begin.
    if (this.#problem === undefined && this.#need?.atBlockStart === true && this.#pendingBytes === 0) {
      this.#finished = true;
      this.#need = undefined;
    }
    callback();
  }

  #feed(chunk: Buffer): void {
    let offset = 0;
    while (this.#need !== undefined && offset < chunk.length) {
      const need = this.#need;
      if (need.kind === 'chunks') {
        offset = this.#feedChunks(need, chunk, offset);
        continue;
      }
      const take = Math.min(need.remaining, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + take);
      offset += take;
      need.remaining -= take;
      if (need.kind === 'read') {
        this.#pending.push(piece);
        this.#pendingBytes += take;
      }
      if (need.remaining > 0) return;
      const bytes = need.kind === 'read' ? Buffer.concat(this.#pending, this.#pendingBytes) : undefined;
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#need = this.#advance(bytes);
    }
  }

  /**
   * The chunks of one data block, read here rather than through the parser: a table's data comes
   * as one chunk per row, and a generator step per row would cost more than pg_dump takes to
   * write it. Returns where in `chunk` it stopped; advances the parser at the zero length.
   */
  #feedChunks(need: Need & { readonly kind: 'chunks' }, chunk: Buffer, from: number): number {
    let offset = from;
    const headerSize = 1 + need.intSize;
    while (offset < chunk.length) {
      if (this.#chunkLeft > 0) {
        const take = Math.min(this.#chunkLeft, chunk.length - offset);
        if (need.table !== undefined) this.#see(chunk.subarray(offset, offset + take));
        this.#chunkLeft -= take;
        offset += take;
        continue;
      }
      const take = Math.min(headerSize - this.#chunkHeaderFill, chunk.length - offset);
      chunk.copy(this.#chunkHeader, this.#chunkHeaderFill, offset, offset + take);
      this.#chunkHeaderFill += take;
      offset += take;
      if (this.#chunkHeaderFill < headerSize) return offset;
      this.#chunkHeaderFill = 0;
      const length = decodeInt(this.#chunkHeader, need.intSize);
      if (length === 0) {
        if (need.table !== undefined) this.#commit(need.table);
        this.#need = this.#advance(undefined);
        return offset;
      }
      if (length < 0) {
        this.#problem = `a data chunk has the length ${length}`;
        this.#need = undefined;
        return chunk.length;
      }
      this.#chunkLeft = length;
    }
    return offset;
  }

  #see(piece: Buffer): void {
    this.#blockNewlines += countNewlines(piece);
    // The last bytes only; a reference, not a copy (most pieces are longer than the marker).
    this.#blockTail = piece.length >= END_OF_DATA.length ? piece : Buffer.concat([this.#blockTail, piece]).subarray(-END_OF_DATA.length);
  }

  #commit(table: string): void {
    this.#rows.set(table, (this.#rows.get(table) ?? 0) + this.#blockNewlines);
    this.#tails.set(table, Buffer.from(this.#blockTail.subarray(-END_OF_DATA.length)));
    this.#blockNewlines = 0;
    this.#blockTail = Buffer.alloc(0);
  }

  #advance(bytes: Buffer | undefined): Need | undefined {
    try {
      const next = this.#parser.next(bytes);
      return next.done === true ? undefined : next.value;
    } catch (error) {
      this.#problem = error instanceof ArchiveFormatProblem ? error.message : `the archive could not be read (${String(error)})`;
      return undefined;
    }
  }
}

class ArchiveFormatProblem extends Error {}

/**
 * What the parser waits for: `read` bytes handed to it, `skip` bytes, or the `chunks` of a data
 * block up to its zero length (counting the newlines of `table`'s rows).
 */
type Need =
  | { readonly kind: 'read' | 'skip'; remaining: number; readonly atBlockStart?: boolean; readonly table?: undefined; readonly intSize?: undefined }
  | { readonly kind: 'chunks'; remaining: number; readonly intSize: number; readonly table: string | undefined; readonly atBlockStart?: undefined };

/** `\\.` on a line of its own and two empty lines: the end of a table's COPY data in the archive. */
const END_OF_DATA = Buffer.from('\\.\n\n\n', 'latin1');
const BLOCK_DATA = 1;
const BLOCK_LARGE_OBJECTS = 3;
/** Archive versions 1.12 (PostgreSQL 9.0) to 1.16 (PostgreSQL 17), as (major << 16) | (minor << 8) | rev. */
const OLDEST = version(1, 12);
const NEWEST = version(1, 16);
/** A string longer than this in the TOC is skipped, not kept (a huge function body); names are far shorter. */
const MAX_KEPT_STRING = 1 << 20;

function version(major: number, minor: number, rev = 0): number {
  return (major << 16) | (minor << 8) | rev;
}

function* readArchive(rows: Map<string, number>): Generator<Need, void, Buffer | undefined> {
  const read = function* (length: number): Generator<Need, Buffer, Buffer | undefined> {
    return length === 0 ? Buffer.alloc(0) : (yield { kind: 'read', remaining: length })!;
  };
  const head = yield* read(11);
  if (head.subarray(0, 5).toString('latin1') !== 'PGDMP') throw new ArchiveFormatProblem('the stream is not a pg_dump custom-format archive (no PGDMP header)');
  const archiveVersion = version(head[5]!, head[6]!, head[7]);
  const intSize = head[8]!;
  const offSize = head[9]!;
  const format = head[10]!;
  const versionText = `${head[5]}.${head[6]}`;
  if (archiveVersion < OLDEST || archiveVersion > NEWEST) throw new ArchiveFormatProblem(`archive version ${versionText} is not one this reader knows (1.12 to 1.16: pg_dump 9.0 to 17)`);
  if (format !== 1) throw new ArchiveFormatProblem(`archive format ${format} is not the custom format`);
  if (intSize < 1 || intSize > 8 || offSize < 1 || offSize > 16) throw new ArchiveFormatProblem(`archive int size ${intSize} / offset size ${offSize} is not plausible`);

  const readInt = function* (): Generator<Need, number, Buffer | undefined> {
    return decodeInt(yield* read(1 + intSize), intSize);
  };
  /** A string: kept when short, skipped when not needed or long. */
  const readString = function* (keep: boolean): Generator<Need, string | null, Buffer | undefined> {
    const length = yield* readInt();
    if (length < 0) return null;
    if (!keep || length > MAX_KEPT_STRING) {
      if (length > 0) yield { kind: 'skip', remaining: length };
      return '';
    }
    return (yield* read(length)).toString('utf8');
  };

  // The compression: an algorithm byte from 1.15 (0: none), a level int before (0: none).
  const compression = archiveVersion >= version(1, 15) ? (yield* read(1))[0]! : yield* readInt();
  if (compression !== 0) throw new ArchiveFormatProblem('the archive is compressed (the job dumps with --compress=0)');
  for (let i = 0; i < 7; i++) yield* readInt(); // creation time: sec, min, hour, mday, mon, year, isdst
  yield* readString(false); // database name
  yield* readString(false); // server version
  yield* readString(false); // pg_dump version

  const tables = new Map<number, string>();
  const entries = yield* readInt();
  for (let e = 0; e < entries; e++) {
    const dumpId = yield* readInt();
    yield* readInt(); // had a data dumper
    yield* readString(false); // table oid
    yield* readString(false); // oid
    const tag = yield* readString(true);
    const desc = yield* readString(true);
    yield* readInt(); // section
    yield* readString(false); // definition
    yield* readString(false); // drop statement
    yield* readString(false); // COPY statement
    const namespace = yield* readString(true);
    yield* readString(false); // tablespace
    if (archiveVersion >= version(1, 14)) yield* readString(false); // table access method
    if (archiveVersion >= version(1, 16)) yield* readInt(); // relkind
    yield* readString(false); // owner
    yield* readString(false); // "with oids"
    while ((yield* readString(false)) !== null); // dependencies, ended by a NULL string
    yield* read(1 + offSize); // data position: a flag byte and the offset
    if (desc === 'TABLE DATA' && tag !== null) {
      const name = namespace === null || namespace === '' ? tag : `${namespace}.${tag}`;
      tables.set(dumpId, name);
      rows.set(name, 0);
    }
  }

  for (;;) {
    const [type] = (yield { kind: 'read', remaining: 1, atBlockStart: true })!;
    const dumpId = yield* readInt();
    if (type === BLOCK_DATA) {
      yield { kind: 'chunks', remaining: 0, intSize, table: tables.get(dumpId) };
    } else if (type === BLOCK_LARGE_OBJECTS) {
      // Each large object: its oid, then its chunks; an oid of 0 ends the block.
      while ((yield* readInt()) !== 0) yield { kind: 'chunks', remaining: 0, intSize, table: undefined };
    } else {
      throw new ArchiveFormatProblem(`data block type ${String(type)} (dump id ${dumpId}) is not one this reader knows`);
    }
  }
}

/** An archive int: a sign byte, then `intSize` bytes, least significant first. */
function decodeInt(bytes: Buffer, intSize: number): number {
  let value = 0;
  for (let i = intSize; i >= 1; i--) value = value * 256 + bytes[i]!;
  return bytes[0] === 0 ? value : -value;
}

function countNewlines(bytes: Buffer): number {
  let count = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) count++;
  return count;
}
