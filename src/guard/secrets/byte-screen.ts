import { assembleModule } from '../../infra/wasm/flat-wat-assembler.js';
import { BASE64_RUNS, CLASS_TABLE, DATA, GROUP_BYTES, GROUPS, JOIN_FLAG, LITERAL_BYTES, MAX_GROUPS, MAX_RECORDS, MAX_SHAPES, PAGE, PAIR_FILTER, PAIR_TABLE, RECORD_BYTES, RECORDS, SCREEN, SEEN, SEXTETS, SHAPE_BYTES, SHAPES } from './byte-screen-kernels.js';

/**
 * The first look at a file's bytes, in WebAssembly: where the scanner's literals occur (rule
 * keywords and the fixed starts of rule patterns, ASCII-case-insensitively), where a string
 * concatenation may join a split secret (joined-lines.ts), and where the base64 runs are
 * (base64-candidates.ts). A file with none of the three can hold no finding, and is never decoded
 * to a string; in the others, the regexes run only where these say.
 *
 * Why WebAssembly: V8 runs one case-insensitive alternation of the 66 built-in keywords at
 * 200–400 MB/s however it is grouped, and a JavaScript loop over the bytes at 150–170 MB/s; the
 * kernel (byte-screen-kernels.ts) reads each position's two bytes, folded to lower case, as an
 * index into a 64 Ki-entry table, and only where the table says a literal (or a quote or
 * backslash that may start a join) begins with that pair, and the third byte fits, does it
 * compare bytes: 0.9–1.3 GB/s over bytes that begin nothing, 300–350 MB/s over source code. The
 * module is assembled from that text when this file is loaded (flat-wat-assembler.ts): no binary
 * is committed or downloaded.
 */

const compiled = new WebAssembly.Module(assembleModule([SCREEN, BASE64_RUNS], DATA / PAGE + 16));

type Kernel = (start: number, end: number, out: number, outEnd: number) => number;

const NONE = new Int32Array(0);

/** What the screen found in one text: offsets are byte offsets, which are a Latin-1 string's offsets. */
export interface ScreenedBytes {
  /**
   * (offset, literal index) pairs in ascending offset; literal -1 marks a possible join. A literal
   * with a shape is here only where its shape can follow.
   */
  readonly hits: Int32Array;
  /** For each literal, 1 when it occurs in the text (with its shape or not). */
  readonly occurred: Uint8Array;
  /** (start, end) pairs of the base64 runs worth decoding, ascending. */
  readonly base64Runs: Int32Array;
}

/** The bytes of `literal` folded with | 0x20, as the fast path's table index. */
function pairKey(first: number, second: number): number {
  return (first | 0x20) | ((second | 0x20) << 8);
}

/** What must follow a literal for its hit to be kept (assignment-shape.ts). */
export interface LiteralShape {
  /** For each byte value: SHAPE_KEY | SHAPE_VALUE | SHAPE_SPACE | SHAPE_QUOTE (byte-screen-kernels.ts); 0 for byte 0. */
  readonly classes: Uint8Array;
  readonly maxKeyLength: number;
  readonly minValueLength: number;
}

/** Where a join of joined-lines.ts may start: a quote or backslash, then a blank, an operator, a backslash or a line break. */
const JOIN_PAIRS = [0x22, 0x27, 0x60, 0x5c].flatMap((quote) => [0x20, 0x09, 0x2b, 0x2e, 0x26, 0x5c, 0x0a, 0x0d].map((next) => pairKey(quote, next)));

/**
 * How often each folded byte (| 0x20) occurs in source code, roughly: English letter frequencies
 * for letters, a guess for the rest (the sum is about 1). Only the prefilter's speed depends on it.
 */
const TEXT_WEIGHT = Float64Array.from({ length: 256 }, (_, folded) => {
  const at = 'etaoinshrdlcumwfgypbvkjxqz'.indexOf(String.fromCharCode(folded));
  if (at >= 0) return (0.6 * [12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2, 2.0, 2.0, 1.9, 1.5, 1.0, 0.8, 0.15, 0.15, 0.1, 0.07][at]!) / 100;
  if (folded === 0x20) return 0.15; // space (and NUL)
  if (folded === 0x2a || folded === 0x2d || folded === 0x29) return 0.03; // line feed, carriage return, tab (folded), * - )
  if (folded >= 0x30 && folded <= 0x39) return 0.004;
  return folded < 0x80 ? 0.006 : 0.001;
});

const TOTAL_WEIGHT = TEXT_WEIGHT.reduce((sum, weight) => sum + weight, 0);

/**
 * What a literal's inner triple let through by a bucket costs, as a share of positions: a guess at
 * how often a keyword occurs in source code. With it the benchmark's tree has 8.5 % of its
 * positions flagged instead of 10.8 %, this project's node_modules 4.7 % instead of 6.5 %
 * (simulated, 0.0002 and 0.0005 did about as well; 0.001 and 0.005 less).
 */
const INNER_TRIPLE_WEIGHT = 0.0003;

/** Folded bytes that may follow a folded pair: a set, or every byte. */
export type ThirdBytes = Set<number> | 'any';

/**
 * The kernel's prefilter: six 16-byte tables (the low and high nibble of a position's first,
 * second and third byte), each entry a set of 8 buckets. Every folded pair that begins a literal
 * or a join is put in a bucket with the third bytes it may go on with, and all their nibbles get
 * that bucket's bit, so every position the scalar checks would stop at is flagged: the filter can
 * only flag too much, never too little. Which pairs share a bucket decides how much too much:
 * pairs are grouped by first byte, then the two groups whose union flags the least extra text
 * are merged until 8 are left (Teddy, as in Hyperscan and ripgrep's aho-corasick). "Extra text"
 * weighs each folded byte by a rough frequency in source code (TEXT_WEIGHT): a bucket that flags
 * "e" or a space costs far more than one that flags "~". `innerTriples` (folded, a | b << 8 | c << 16)
 * are the triples inside the literals, past their first byte ("ecr", "cre", "ret" of "secret"):
 * text holds them wherever it holds the literal, far more often than their letters' frequencies
 * say, so each one a bucket lets through costs INNER_TRIPLE_WEIGHT more.
 */
export function prefilterTables(pairs: ReadonlyMap<number, ThirdBytes>, innerTriples: readonly number[] = []): Uint8Array {
  // A bucket is what its tables let through: for each of the three bytes, a 16-bit set of low
  // nibbles and one of high nibbles (masks[0..5]); merging two is OR-ing them.
  const bit = (nibble: number) => 1 << nibble;
  const maskOf = (values: Iterable<number>): [number, number] => {
    let low = 0;
    let high = 0;
    for (const value of values) {
      low |= bit(value & 15);
      high |= bit(value >> 4);
    }
    return [low, high];
  };
  /** The weight of every folded byte a pair of nibble sets lets through. */
  const weight = (low: number, high: number) => {
    if (low === 0xffff && high === 0xffff) return TOTAL_WEIGHT;
    let total = 0;
    for (let h = 0; h < 16; h++) {
      if (((high >> h) & 1) === 0) continue;
      for (let l = 0; l < 16; l++) if ((low >> l) & 1) total += TEXT_WEIGHT[(h << 4) | l]!;
    }
    return total;
  };
  // Each inner triple's six nibbles as bits, to test whether a bucket's masks let it through.
  const tripleBits = Int32Array.from([...new Set(innerTriples)].flatMap((triple) => [0, 8, 16].flatMap((shift) => [bit((triple >> shift) & 15), bit((triple >> (shift + 4)) & 15)])));
  const innerLetThrough = (masks: readonly number[]) => {
    let count = 0;
    for (let at = 0; at < tripleBits.length; at += 6) {
      if ((masks[0]! & tripleBits[at]!) !== 0 && (masks[1]! & tripleBits[at + 1]!) !== 0 && (masks[2]! & tripleBits[at + 2]!) !== 0 && (masks[3]! & tripleBits[at + 3]!) !== 0 && (masks[4]! & tripleBits[at + 4]!) !== 0 && (masks[5]! & tripleBits[at + 5]!) !== 0) count++;
    }
    return count;
  };
  const flagged = (masks: readonly number[]) => weight(masks[0]!, masks[1]!) * weight(masks[2]!, masks[3]!) * weight(masks[4]!, masks[5]!) + INNER_TRIPLE_WEIGHT * innerLetThrough(masks);
  // One bucket per first byte to start with (merging single pairs first measured worse).
  const grouped = new Map<number, number[]>();
  for (const [key, thirds] of pairs) {
    const masks = [...maskOf([key & 0xff]), ...maskOf([key >> 8]), ...(thirds === 'any' ? [0xffff, 0xffff] : maskOf(thirds))];
    grouped.set(key & 0xff, (grouped.get(key & 0xff) ?? [0, 0, 0, 0, 0, 0]).map((mask, index) => mask | masks[index]!));
  }
  const buckets = [...grouped.values()];
  const costs = buckets.map(flagged);
  const mergedMasks = (a: number, b: number) => buckets[a]!.map((mask, index) => mask | buckets[b]![index]!);
  // merged[a][b], a < b: what the two buckets merged flag. Kept between rounds: a merge changes
  // only the merged bucket's row and column (building the tables was 5 ms more without it).
  const merged = buckets.map((_, a) => buckets.map((__, b) => (b > a ? flagged(mergedMasks(a, b)) : 0)));
  while (buckets.length > 8) {
    let best: [number, number, number] = [0, 1, Infinity];
    for (let a = 0; a < buckets.length; a++) {
      for (let b = a + 1; b < buckets.length; b++) {
        const cost = merged[a]![b]! - costs[a]! - costs[b]!;
        if (cost < best[2]) best = [a, b, cost];
      }
    }
    const [kept, gone] = best;
    buckets[kept] = mergedMasks(kept, gone);
    costs[kept] = merged[kept]![gone]!;
    buckets.splice(gone, 1);
    costs.splice(gone, 1);
    merged.splice(gone, 1);
    for (const row of merged) row.splice(gone, 1);
    for (let other = 0; other < buckets.length; other++) {
      if (other < kept) merged[other]![kept] = flagged(mergedMasks(other, kept));
      else if (other > kept) merged[kept]![other] = flagged(mergedMasks(kept, other));
    }
  }
  const tables = new Uint8Array(96);
  buckets.forEach((masks, index) => {
    masks.forEach((mask, table) => {
      for (let nibble = 0; nibble < 16; nibble++) if ((mask >> nibble) & 1) tables[table * 16 + nibble]! |= 1 << index;
    });
  });
  return tables;
}

/**
 * A WebAssembly instance set up for one list of literals (lower-case ASCII, two characters or
 * more), and for each literal optionally the shape that must follow it (shapes[i] for literal i).
 * Not shared between threads; each scan thread builds its own.
 */
export class ByteScreen {
  readonly #memory: WebAssembly.Memory;
  readonly #screen: Kernel;
  readonly #base64Runs: Kernel;

  constructor(
    readonly literals: readonly string[],
    shapes: ReadonlyArray<LiteralShape | undefined> = [],
  ) {
    if (literals.length > MAX_RECORDS) throw new RangeError(`at most ${MAX_RECORDS} literals`);
    const instance = new WebAssembly.Instance(compiled);
    this.#memory = instance.exports.memory as WebAssembly.Memory;
    this.#screen = instance.exports.screen as Kernel;
    this.#base64Runs = instance.exports.base64Runs as Kernel;
    const bytes = new Uint8Array(this.#memory.buffer);
    const table = new Uint16Array(this.#memory.buffer, PAIR_TABLE, 65_536);
    // Records are grouped by folded pair: the table points at the first of each group.
    const shapeAddress = this.#placeShapes(shapes, bytes);
    const order = literals.map((literal, index) => ({ literal, index, key: pairKey(literal.charCodeAt(0), literal.charCodeAt(1)) })).sort((a, b) => a.key - b.key || a.index - b.index);
    let literalAt = LITERAL_BYTES;
    let groups = 0;
    order.forEach(({ literal, index, key }, record) => {
      if (literal.length < 2 || [...literal].some((char) => char.charCodeAt(0) > 0x7f) || literal !== literal.toLowerCase()) throw new RangeError(`literal ${JSON.stringify(literal)}: lower-case ASCII, two characters or more`);
      if (literalAt + literal.length > SHAPES) throw new RangeError('literals too long');
      bytes.set(Buffer.from(literal, 'latin1'), literalAt);
      const view = new DataView(this.#memory.buffer, RECORDS + record * RECORD_BYTES, RECORD_BYTES);
      view.setInt32(0, literalAt, true);
      view.setUint16(4, literal.length, true);
      view.setUint8(6, order[record + 1]?.key === key ? 0 : 1);
      // The quick test (byte-screen-kernels.ts, RECORDS): eight bytes, a letter in either case.
      for (let word = 0; word < 2; word++) {
        let value = 0;
        let mask = 0;
        for (let at = 4 * word; at < Math.min(4 * word + 4, literal.length); at++) {
          const fold = /[a-z]/.test(literal[at]!) ? 0xdf : 0xff;
          value |= (literal.charCodeAt(at) & fold) << (8 * (at % 4));
          mask |= fold << (8 * (at % 4));
        }
        view.setInt32(8 + 16 * word, value, true);
        view.setInt32(12 + 16 * word, mask, true);
      }
      view.setUint8(7, Math.min(8, literal.length));
      view.setInt32(16, index, true);
      view.setInt32(20, shapeAddress[index] ?? 0, true);
      if (table[key] === 0) {
        if (groups === MAX_GROUPS) throw new RangeError(`at most ${MAX_GROUPS} distinct first two characters`);
        table[key] = ++groups;
        new DataView(this.#memory.buffer, GROUPS + (groups - 1) * GROUP_BYTES + 32, 4).setInt32(0, record, true);
      }
      // The third byte, folded as the kernel folds it; a two-byte literal goes on with any.
      const third = GROUPS + (groups - 1) * GROUP_BYTES;
      if (literal.length === 2) bytes.fill(0xff, third, third + 32);
      else bytes[third + ((literal.charCodeAt(2) | 0x20) >> 3)]! |= 1 << ((literal.charCodeAt(2) | 0x20) & 7);
      literalAt += literal.length;
    });
    for (const key of JOIN_PAIRS) table[key]! |= JOIN_FLAG;
    const pairs = new Map<number, ThirdBytes>();
    for (const literal of literals) {
      const key = pairKey(literal.charCodeAt(0), literal.charCodeAt(1));
      const known = pairs.get(key) ?? new Set<number>();
      if (literal.length === 2 || known === 'any') pairs.set(key, 'any');
      else pairs.set(key, known.add(literal.charCodeAt(2) | 0x20));
    }
    for (const key of JOIN_PAIRS) pairs.set(key, 'any');
    const inner = literals.flatMap((literal) => Array.from({ length: Math.max(0, literal.length - 3) }, (_, at) => [1, 2, 3].reduce((triple, offset, index) => triple | ((literal.charCodeAt(at + offset) | 0x20) << (8 * index)), 0)));
    bytes.set(prefilterTables(pairs, inner), PAIR_FILTER);
    for (let code = 0; code < 128; code++) {
      const char = String.fromCharCode(code);
      if (/[A-Za-z0-9+/_-]/.test(char)) bytes[CLASS_TABLE + code] = /[0-9+/]/.test(char) ? 3 : 1;
    }
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    for (let value = 0; value < 64; value++) bytes[SEXTETS + alphabet.charCodeAt(value)] = value;
    bytes[SEXTETS + 0x2d] = 62; // '-' and '_': the URL-safe alphabet (RFC 4648 §5)
    bytes[SEXTETS + 0x5f] = 63;
  }

  /** Writes each distinct shape into memory; returns each literal's shape address (0: none). */
  #placeShapes(shapes: ReadonlyArray<LiteralShape | undefined>, bytes: Uint8Array): number[] {
    const placed = new Map<LiteralShape, number>();
    return shapes.map((shape) => {
      if (shape === undefined) return 0;
      let address = placed.get(shape);
      if (address === undefined) {
        if (placed.size === MAX_SHAPES) throw new RangeError(`at most ${MAX_SHAPES} assignment shapes`);
        address = SHAPES + placed.size * SHAPE_BYTES;
        bytes.set(shape.classes.subarray(0, 256), address);
        bytes[address] = 0; // the 0 byte after the input ends every run
        const view = new DataView(this.#memory.buffer, address + 256, 8);
        view.setInt32(0, shape.maxKeyLength, true);
        view.setInt32(4, shape.minValueLength, true);
        placed.set(shape, address);
      }
      return address;
    });
  }

  /**
   * Room for the input, its 0 byte and `outputPairs` pairs after DATA. The memory's size and
   * views are kept here: `memory.buffer` is a call into V8's C++ side, and it was read seven times
   * per file.
   */
  #reserve(inputBytes: number, outputPairs: number): number {
    const outStart = DATA + ((inputBytes + 8) & ~7);
    const needed = outStart + outputPairs * 8;
    if (needed > this.#bytes.length) {
      if (needed > this.#memory.buffer.byteLength) this.#memory.grow(Math.ceil((needed - this.#memory.buffer.byteLength) / PAGE));
      // Growing detaches the old views: made again from the new buffer.
      this.#bytes = new Uint8Array(this.#memory.buffer);
      this.#words = new Int32Array(this.#memory.buffer);
    }
    return outStart;
  }

  /** Views of the whole memory, as large as it is (empty until the first #reserve). */
  #bytes = new Uint8Array(0);
  #words = new Int32Array(0);

  /** The kernel's output, copied out (most files have none: one shared empty array). */
  #run(kernel: Kernel, length: number, guess: number): Int32Array {
    for (let pairs = guess; ; pairs *= 2) {
      const outStart = this.#reserve(length, pairs);
      const count = kernel(DATA, DATA + length, outStart, outStart + pairs * 8);
      if (count === 0) return NONE;
      if (count > 0) return this.#words.slice(outStart >> 2, (outStart >> 2) + count * 2);
    }
  }

  /**
   * A view of the memory where the next input goes, `length` bytes long (the memory grows to fit):
   * a reader can read a file straight into it and then call screenInput, instead of screen's
   * copy. Valid until the next call of any method here (growing the memory detaches it); what was
   * written into it stays, also across a call of input with a greater length.
   */
  input(length: number): Uint8Array {
    this.#reserve(length, 0);
    return this.#bytes.subarray(DATA, DATA + length);
  }

  /** Copies `bytes` in and screens them; bytes.length must fit the memory (it grows to fit). */
  screen(bytes: Uint8Array): ScreenedBytes {
    this.input(bytes.length).set(bytes);
    return this.screenInput(bytes.length);
  }

  /** Screens the first `length` bytes of the input (written through input(length) or more). */
  screenInput(length: number): ScreenedBytes {
    this.#reserve(length, 0);
    this.#bytes[DATA + length] = 0;
    this.#bytes.fill(0, SEEN, SEEN + this.literals.length);
    const hits = this.#run(this.#screen, length, 64 + (length >> 4));
    const occurred = this.#bytes.slice(SEEN, SEEN + this.literals.length);
    return { hits, occurred, base64Runs: this.#run(this.#base64Runs, length, 16) };
  }
}
