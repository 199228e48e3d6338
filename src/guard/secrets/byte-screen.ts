import { assembleModule, type FlatFunction } from '../../infra/wasm/flat-wat-assembler.js';

/**
 * The first look at a file's bytes, in WebAssembly: where the scanner's literals occur (rule
 * keywords and the fixed starts of rule patterns, ASCII-case-insensitively), where a string
 * concatenation may join a split secret (joined-lines.ts), and where the base64 runs are
 * (base64-candidates.ts). A file with none of the three can hold no finding, and is never decoded
 * to a string; in the others, the regexes run only where these say.
 *
 * Why WebAssembly: V8 runs one case-insensitive alternation of the 66 built-in keywords at
 * 200–400 MB/s however it is grouped, and a JavaScript loop over the bytes at 150–190 MB/s; this
 * loop reads each position's two bytes, folded to lower case, as an index into a 64 Ki-entry
 * table, and only where the table says a literal (or a quote or backslash that may start a join)
 * begins with that pair does it compare bytes. The module is assembled from the text below when
 * this file is loaded (flat-wat-assembler.ts): no binary is committed or downloaded.
 */

/** Memory layout: fixed tables first, then the input and the output of each call. */
const PAIR_TABLE = 0; // 65,536 × u16: for each folded byte pair, 1 + its literal group, | JOIN_FLAG
const CLASS_TABLE = 131_072; // 256 × u8: 1 = base64 alphabet, 2 = also [0-9+/]
const SEXTETS = CLASS_TABLE + 256; // 256 × u8: the 6-bit value of each base64 character (both alphabets)
// 48 bytes per group of literals sharing a folded pair: a 256-bit set of the folded third bytes
// they continue with (all for a two-byte literal), then the i32 index of the group's first record
const GROUPS = SEXTETS + 256;
const GROUP_BYTES = 48;
const MAX_GROUPS = 1_024;
// 32 bytes per literal: i32 address of its bytes, u16 length, u8 last of its group, u8 how many
// of its first bytes the quick test decides exactly (letters), then its first four bytes | 0x20
// and the mask of those that exist (the quick test), then its index in the caller's list
const RECORDS = GROUPS + MAX_GROUPS * GROUP_BYTES;
const RECORD_BYTES = 32;
const MAX_RECORDS = 4_096;
const LITERAL_BYTES = RECORDS + MAX_RECORDS * RECORD_BYTES;
const DATA = 327_680; // input, a 0 byte, then output
const PAGE = 65_536;
const JOIN_FLAG = 0x8000;
const NOT_A_LITERAL = -1;

/** Appends (offset, literal) to the output, or returns -1 when the output is full (the caller grows it). */
function emit(offset: string, literal: string): string {
  return `
    local.get $out
    local.get $outEnd
    i32.ge_u
    if
      i32.const -1
      return
    end
    local.get $out
    ${offset}
    i32.store
    local.get $out
    ${literal}
    i32.store offset=4
    local.get $out
    i32.const 8
    i32.add
    local.set $out`;
}

/** `local.get $c` is one of `codes`, as an i32 0/1 on the stack. */
function isOneOf(local: string, codes: readonly number[]): string {
  return codes.map((code, index) => `local.get ${local}\n i32.const ${code}\n i32.eq${index === 0 ? '' : '\n i32.or'}`).join('\n');
}

/** $k moves on by one byte; $c is the byte there (the 0 after the input stops every search). */
function next(): string {
  return `local.get $k
    i32.const 1
    i32.add
    local.tee $k
    i32.load8_u
    local.set $c`;
}

/** $k moves past spaces and tabs from where it is; $c is the byte it stops at. */
function skipBlanks(): string {
  return `local.get $k
    i32.load8_u
    local.set $c
    block $blanks_done
      loop $blanks
        ${isOneOf('$c', [0x20, 0x09])}
        i32.eqz
        br_if $blanks_done
        ${next()}
        br $blanks
      end
    end`;
}

/** The check for a join at $p (see SCREEN). */
const JOIN_CHECK = `
        ;; JOIN of joined-lines.ts, matched here exactly: a backslash before a line break; or a
        ;; quote, blanks, an operator (+ . &) or a line break (after an optional backslash), blanks,
        ;; an optional operator, blanks and the same quote
        local.get $e
        i32.const ${JOIN_FLAG}
        i32.and
        if
          local.get $p
          i32.load8_u
          local.tee $b
          i32.const 0x5c
          i32.eq
          if
            local.get $p
            i32.load8_u offset=1
            local.tee $c
            i32.const 10
            i32.eq
            local.get $c
            i32.const 13
            i32.eq
            local.get $p
            i32.load8_u offset=2
            i32.const 10
            i32.eq
            i32.and
            i32.or
            if
              ${emit('local.get $p\n local.get $start\n i32.sub', `i32.const ${NOT_A_LITERAL}`)}
            end
          else
            ${isOneOf('$b', [0x22, 0x27, 0x60])}
            if
              block $no_join
                block $join
                  local.get $p
                  i32.const 1
                  i32.add
                  local.set $k
                  ${skipBlanks()}
                  ${isOneOf('$c', [0x2b, 0x2e, 0x26])}
                  if
                    ${next()}
                    ${skipBlanks()}
                    local.get $c
                    local.get $b
                    i32.eq
                    br_if $join
                  end
                  local.get $c
                  i32.const 0x5c
                  i32.eq
                  if
                    ${next()}
                  end
                  local.get $c
                  i32.const 13
                  i32.eq
                  if
                    ${next()}
                  end
                  local.get $c
                  i32.const 10
                  i32.ne
                  br_if $no_join
                  ${next()}
                  ${skipBlanks()}
                  ${isOneOf('$c', [0x2b, 0x2e, 0x26])}
                  if
                    ${next()}
                    ${skipBlanks()}
                  end
                  local.get $c
                  local.get $b
                  i32.ne
                  br_if $no_join
                end
                ${emit('local.get $p\n local.get $start\n i32.sub', `i32.const ${NOT_A_LITERAL}`)}
              end
            end
          end
        end
`;

/** The literals of the group at $p's pair (see SCREEN). */
const LITERALS_CHECK = `
        ;; the literals beginning with this folded pair, compared byte by byte
        local.get $e
        i32.const ${JOIN_FLAG - 1}
        i32.and
        local.tee $g
        if
          ;; the group's set of third bytes: most pairs that begin a literal are not followed by one
          local.get $g
          i32.const 1
          i32.sub
          i32.const ${GROUP_BYTES}
          i32.mul
          i32.const ${GROUPS}
          i32.add
          local.tee $g
          local.get $p
          i32.load8_u offset=2
          i32.const 0x20
          i32.or
          local.tee $c
          i32.const 3
          i32.shr_u
          i32.add
          i32.load8_u
          local.get $c
          i32.const 7
          i32.and
          i32.shr_u
          i32.const 1
          i32.and
          i32.eqz
          br_if $position
          local.get $g
          i32.load offset=32
          local.set $rec
          block $records_done
            loop $record
              local.get $rec
              i32.const 5
              i32.shl
              i32.const ${RECORDS}
              i32.add
              local.tee $r
              i32.load16_u offset=4
              local.set $len
              local.get $p
              local.get $len
              i32.add
              local.get $end
              i32.le_u
              ;; the quick test: the first four bytes | 0x20 (beyond the input they are masked off)
              local.get $p
              i32.load
              i32.const 0x20202020
              i32.or
              local.get $r
              i32.load offset=12
              i32.and
              local.get $r
              i32.load offset=8
              i32.eq
              i32.and
              if
                local.get $r
                i32.load
                local.set $lit
                ;; letters passed by the quick test need no second look
                local.get $r
                i32.load8_u offset=7
                local.set $k
                block $compared
                  loop $compare
                    local.get $k
                    local.get $len
                    i32.ge_u
                    if
                      ${emit('local.get $p\n local.get $start\n i32.sub', 'local.get $r\n i32.load offset=16')}
                      br $compared
                    end
                    local.get $p
                    local.get $k
                    i32.add
                    i32.load8_u
                    local.set $c
                    ;; A-Z to lower case; literals are stored in lower case
                    local.get $c
                    i32.const 65
                    i32.sub
                    i32.const 26
                    i32.lt_u
                    if
                      local.get $c
                      i32.const 32
                      i32.or
                      local.set $c
                    end
                    local.get $c
                    local.get $lit
                    local.get $k
                    i32.add
                    i32.load8_u
                    i32.ne
                    br_if $compared
                    local.get $k
                    i32.const 1
                    i32.add
                    local.set $k
                    br $compare
                  end
                end
              end
              local.get $r
              i32.load8_u offset=6
              br_if $records_done
              local.get $rec
              i32.const 1
              i32.add
              local.set $rec
              br $record
            end
          end
        end
`;

/**
 * screen(start, end, out, outEnd): every (offset, record) where a literal occurs in bytes
 * [start, end), and (offset, -1) where a join may start; returns the number of pairs written, or
 * -1 when they did not fit. The byte at `end` must be 0 (the last pair reads it).
 */
const SCREEN: FlatFunction = {
  name: 'screen',
  params: ['$start', '$end', '$out', '$outEnd'],
  locals: ['$i', '$p', '$e', '$b', '$c', '$k', '$rec', '$r', '$g', '$len', '$lit', '$first'],
  result: true,
  body: `
    local.get $out
    local.set $first
    local.get $start
    local.set $i
    ;; One position at a time: its two bytes, folded (| 0x20), index the pair table. (Four
    ;; positions per step, or the third byte tested here without a branch, measured slower.)
    block $looked
      loop $position
        local.get $i
        local.get $end
        i32.ge_u
        br_if $looked
        local.get $i
        local.tee $p
        i32.load16_u
        i32.const 0x2020
        i32.or
        i32.const 1
        i32.shl
        i32.load16_u offset=${PAIR_TABLE}
        local.set $e
        local.get $i
        i32.const 1
        i32.add
        local.set $i
        local.get $e
        i32.eqz
        br_if $position
        ${JOIN_CHECK}
        ${LITERALS_CHECK}
        br $position
      end
    end
    local.get $out
    local.get $first
    i32.sub
    i32.const 3
    i32.shr_u`,
};

/**
 * base64Runs(start, end, out, outEnd): the runs decodeBase64Runs decodes, as (start, end) pairs
 * (the run without its padding); returns the number of pairs, or -1 when they did not fit. Its
 * search and its tests, on bytes: maximal runs of the alphabet, 32 bytes or longer, holding a
 * digit, + or /, standing alone, decoding to 20 bytes or more of which 95 % are printable (and of
 * the first 48). It looks at one byte in 32 until it meets the alphabet.
 */
const BASE64_RUNS: FlatFunction = {
  name: 'base64Runs',
  params: ['$start', '$end', '$out', '$outEnd'],
  locals: ['$at', '$probe', '$s', '$e', '$k', '$seen', '$first', '$c', '$acc', '$bits', '$made', '$n', '$m', '$ok', '$okFirst'],
  result: true,
  body: `
    local.get $out
    local.set $first
    local.get $start
    local.set $at
    block $done
      loop $probing
        local.get $at
        i32.const 32
        i32.add
        local.get $end
        i32.gt_u
        br_if $done
        local.get $at
        i32.const 31
        i32.add
        local.tee $probe
        i32.load8_u
        i32.load8_u offset=${CLASS_TABLE}
        i32.eqz
        if
          local.get $probe
          i32.const 1
          i32.add
          local.set $at
          br $probing
        end
        ;; back to the run's start (not before $at), on to its end
        local.get $probe
        local.set $s
        block $back_done
          loop $back
            local.get $s
            local.get $at
            i32.le_u
            br_if $back_done
            local.get $s
            i32.const 1
            i32.sub
            i32.load8_u
            i32.load8_u offset=${CLASS_TABLE}
            i32.eqz
            br_if $back_done
            local.get $s
            i32.const 1
            i32.sub
            local.set $s
            br $back
          end
        end
        local.get $probe
        i32.const 1
        i32.add
        local.set $e
        block $forward_done
          loop $forward
            local.get $e
            local.get $end
            i32.ge_u
            br_if $forward_done
            local.get $e
            i32.load8_u
            i32.load8_u offset=${CLASS_TABLE}
            i32.eqz
            br_if $forward_done
            local.get $e
            i32.const 1
            i32.add
            local.set $e
            br $forward
          end
        end
        local.get $e
        i32.const 1
        i32.add
        local.set $at
        local.get $e
        local.get $s
        i32.sub
        i32.const 32
        i32.lt_u
        br_if $probing
        ;; a run of letters alone is almost always an identifier: it needs a digit, + or /
        i32.const 0
        local.set $seen
        local.get $s
        local.set $k
        block $scanned
          loop $digits
            local.get $k
            local.get $e
            i32.ge_u
            br_if $scanned
            local.get $k
            i32.load8_u
            i32.load8_u offset=${CLASS_TABLE}
            i32.const 2
            i32.and
            local.tee $seen
            br_if $scanned
            local.get $k
            i32.const 1
            i32.add
            local.set $k
            br $digits
          end
        end
        local.get $seen
        i32.eqz
        br_if $probing
        ;; standing alone: at most two '=', then a byte that is neither alphabet, '=' nor non-ASCII
        local.get $e
        local.set $k
        block $padded
          loop $padding
            local.get $k
            local.get $end
            i32.ge_u
            br_if $padded
            local.get $k
            i32.load8_u
            i32.const 0x3d
            i32.ne
            br_if $padded
            local.get $k
            local.get $e
            i32.sub
            i32.const 2
            i32.ge_u
            br_if $padded
            local.get $k
            i32.const 1
            i32.add
            local.set $k
            br $padding
          end
        end
        local.get $k
        local.get $end
        i32.lt_u
        if
          local.get $k
          i32.load8_u
          local.tee $c
          i32.const 128
          i32.ge_u
          local.get $c
          i32.load8_u offset=${CLASS_TABLE}
          i32.or
          local.get $c
          i32.const 0x3d
          i32.eq
          i32.or
          br_if $probing
        end
        ;; decoded (as Buffer.from(run, 'base64') does: both alphabets, 3 bytes per 4 characters),
        ;; at least 20 bytes, 95 % of them printable, and of the first 48
        local.get $e
        local.get $s
        i32.sub
        i32.const 3
        i32.mul
        i32.const 2
        i32.shr_u
        local.tee $n
        i32.const 20
        i32.lt_u
        br_if $probing
        i32.const 48
        local.get $n
        local.get $n
        i32.const 48
        i32.gt_u
        select
        local.set $m
        local.get $s
        local.set $k
        i32.const 0
        local.set $acc
        i32.const 0
        local.set $bits
        i32.const 0
        local.set $made
        i32.const 0
        local.set $ok
        block $decoded
          loop $decode
            local.get $made
            local.get $n
            i32.ge_u
            br_if $decoded
            local.get $acc
            i32.const 6
            i32.shl
            local.get $k
            i32.load8_u
            i32.load8_u offset=${SEXTETS}
            i32.or
            local.set $acc
            local.get $k
            i32.const 1
            i32.add
            local.set $k
            local.get $bits
            i32.const 6
            i32.add
            local.tee $bits
            i32.const 8
            i32.ge_u
            if
              local.get $bits
              i32.const 8
              i32.sub
              local.set $bits
              local.get $acc
              local.get $bits
              i32.shr_u
              i32.const 0xff
              i32.and
              local.tee $c
              i32.const 0x20
              i32.sub
              i32.const 0x5f
              i32.lt_u
              ${isOneOf('$c', [9, 10, 13])}
              i32.or
              local.get $ok
              i32.add
              local.set $ok
              local.get $made
              i32.const 1
              i32.add
              local.tee $made
              local.get $m
              i32.eq
              if
                local.get $ok
                local.set $okFirst
              end
            end
            br $decode
          end
        end
        local.get $okFirst
        i32.const 20
        i32.mul
        local.get $m
        i32.const 19
        i32.mul
        i32.lt_u
        local.get $ok
        i32.const 20
        i32.mul
        local.get $n
        i32.const 19
        i32.mul
        i32.lt_u
        i32.or
        br_if $probing
        ${emit('local.get $s\n local.get $start\n i32.sub', 'local.get $e\n local.get $start\n i32.sub')}
        br $probing
      end
    end
    local.get $out
    local.get $first
    i32.sub
    i32.const 3
    i32.shr_u`,
};

const compiled = new WebAssembly.Module(assembleModule([SCREEN, BASE64_RUNS], DATA / PAGE + 16));

type Kernel = (start: number, end: number, out: number, outEnd: number) => number;

const NONE = new Int32Array(0);

/** What the screen found in one text: offsets are byte offsets, which are a Latin-1 string's offsets. */
export interface ScreenedBytes {
  /** (offset, literal index) pairs in ascending offset; literal -1 marks a possible join. */
  readonly hits: Int32Array;
  /** (start, end) pairs of the base64 runs worth decoding, ascending. */
  readonly base64Runs: Int32Array;
}

/** The bytes of `literal` folded with | 0x20, as the fast path's table index. */
function pairKey(first: number, second: number): number {
  return (first | 0x20) | ((second | 0x20) << 8);
}

/**
 * A WebAssembly instance set up for one list of literals (lower-case ASCII, two characters or
 * more). Not shared between threads; each scan thread builds its own.
 */
export class ByteScreen {
  readonly #memory: WebAssembly.Memory;
  readonly #screen: Kernel;
  readonly #base64Runs: Kernel;

  constructor(readonly literals: readonly string[]) {
    if (literals.length > MAX_RECORDS) throw new RangeError(`at most ${MAX_RECORDS} literals`);
    const instance = new WebAssembly.Instance(compiled);
    this.#memory = instance.exports.memory as WebAssembly.Memory;
    this.#screen = instance.exports.screen as Kernel;
    this.#base64Runs = instance.exports.base64Runs as Kernel;
    const bytes = new Uint8Array(this.#memory.buffer);
    const table = new Uint16Array(this.#memory.buffer, PAIR_TABLE, 65_536);
    // Records are grouped by folded pair: the table points at the first of each group.
    const order = literals.map((literal, index) => ({ literal, index, key: pairKey(literal.charCodeAt(0), literal.charCodeAt(1)) })).sort((a, b) => a.key - b.key || a.index - b.index);
    let literalAt = LITERAL_BYTES;
    let groups = 0;
    order.forEach(({ literal, index, key }, record) => {
      if (literal.length < 2 || [...literal].some((char) => char.charCodeAt(0) > 0x7f) || literal !== literal.toLowerCase()) throw new RangeError(`literal ${JSON.stringify(literal)}: lower-case ASCII, two characters or more`);
      if (literalAt + literal.length > DATA) throw new RangeError('literals too long');
      bytes.set(Buffer.from(literal, 'latin1'), literalAt);
      const view = new DataView(this.#memory.buffer, RECORDS + record * RECORD_BYTES, RECORD_BYTES);
      view.setInt32(0, literalAt, true);
      view.setUint16(4, literal.length, true);
      view.setUint8(6, order[record + 1]?.key === key ? 0 : 1);
      let quick = 0;
      let mask = 0;
      for (let at = 0; at < Math.min(4, literal.length); at++) {
        quick |= (literal.charCodeAt(at) | 0x20) << (8 * at);
        mask |= 0xff << (8 * at);
      }
      view.setInt32(8, quick, true);
      view.setInt32(12, mask, true);
      let exact = 0;
      while (exact < Math.min(4, literal.length) && /[a-z]/.test(literal[exact]!)) exact++;
      view.setUint8(7, exact);
      view.setInt32(16, index, true);
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
    for (const quote of [0x22, 0x27, 0x60, 0x5c]) {
      for (const next of [0x20, 0x09, 0x2b, 0x2e, 0x26, 0x5c, 0x0a, 0x0d]) table[pairKey(quote, next)]! |= JOIN_FLAG;
    }
    for (let code = 0; code < 128; code++) {
      const char = String.fromCharCode(code);
      if (/[A-Za-z0-9+/_-]/.test(char)) bytes[CLASS_TABLE + code] = /[0-9+/]/.test(char) ? 3 : 1;
    }
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    for (let value = 0; value < 64; value++) bytes[SEXTETS + alphabet.charCodeAt(value)] = value;
    bytes[SEXTETS + 0x2d] = 62; // '-' and '_': the URL-safe alphabet (RFC 4648 §5)
    bytes[SEXTETS + 0x5f] = 63;
  }

  /** Room for the input, its 0 byte and `outputPairs` pairs after DATA. */
  #reserve(inputBytes: number, outputPairs: number): number {
    const outStart = DATA + ((inputBytes + 8) & ~7);
    const needed = outStart + outputPairs * 8;
    if (needed > this.#memory.buffer.byteLength) this.#memory.grow(Math.ceil((needed - this.#memory.buffer.byteLength) / PAGE));
    return outStart;
  }

  /** Views of the memory, made again only when it has grown (growing detaches the old ones). */
  #bytes = new Uint8Array(0);
  #words = new Int32Array(0);

  #views(): void {
    if (this.#bytes.buffer !== this.#memory.buffer) {
      this.#bytes = new Uint8Array(this.#memory.buffer);
      this.#words = new Int32Array(this.#memory.buffer);
    }
  }

  /** The kernel's output, copied out (most files have none: one shared empty array). */
  #run(kernel: Kernel, length: number, guess: number): Int32Array {
    for (let pairs = guess; ; pairs *= 2) {
      const outStart = this.#reserve(length, pairs);
      const count = kernel(DATA, DATA + length, outStart, outStart + pairs * 8);
      if (count === 0) return NONE;
      if (count > 0) {
        this.#views();
        return this.#words.slice(outStart >> 2, (outStart >> 2) + count * 2);
      }
    }
  }

  /** Copies `bytes` in and screens them; bytes.length must fit the memory (it grows to fit). */
  screen(bytes: Uint8Array): ScreenedBytes {
    this.#reserve(bytes.length, 0);
    this.#views();
    this.#bytes.set(bytes, DATA);
    this.#bytes[DATA + bytes.length] = 0;
    return { hits: this.#run(this.#screen, bytes.length, 64 + (bytes.length >> 4)), base64Runs: this.#run(this.#base64Runs, bytes.length, 16) };
  }
}
