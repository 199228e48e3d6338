import type { FlatFunction } from '../../infra/wasm/flat-wat-assembler.js';

/**
 * The byte screen's two kernels (byte-screen.ts), in flat WebAssembly text, and the memory layout
 * they share with it. Assembled by flat-wat-assembler.ts when the screen is loaded.
 */

/** Memory layout: fixed tables first, then the input and the output of each call. */
export const PAIR_TABLE = 0; // 65,536 × u16: for each folded byte pair, 1 + its literal group, | JOIN_FLAG
export const CLASS_TABLE = 131_072; // 256 × u8: 1 = base64 alphabet, 2 = also [0-9+/]
export const SEXTETS = CLASS_TABLE + 256; // 256 × u8: the 6-bit value of each base64 character (both alphabets)
// 48 bytes per group of literals sharing a folded pair: a 256-bit set of the folded third bytes
// they continue with (all for a two-byte literal), then the i32 index of the group's first record
export const GROUPS = SEXTETS + 256;
export const GROUP_BYTES = 48;
export const MAX_GROUPS = 1_024;
// 32 bytes per literal: i32 address of its bytes, u16 length, u8 last of its group, u8 how many
// of its first bytes the quick test decides (min(8, length)), then (at 8) its first four bytes
// and their fold mask (the quick test: 0xdf for a letter, which folds its case away, 0xff for
// any other byte, 0 past its end), then its index in the caller's list, then (at 20) the i32
// address of its assignment shape, 0 for none, then (at 24) bytes four to seven and their mask
export const RECORDS = GROUPS + MAX_GROUPS * GROUP_BYTES;
export const RECORD_BYTES = 32;
export const MAX_RECORDS = 4_096;
export const LITERAL_BYTES = RECORDS + MAX_RECORDS * RECORD_BYTES;
// 272 bytes per assignment shape (secret-rules.ts, "assignment"): a class byte for each byte value
// (SHAPE_KEY | SHAPE_VALUE | SHAPE_SPACE | SHAPE_QUOTE), then i32 maxKeyLength, i32 minValueLength
export const SHAPES = 327_680; // literal bytes end here
export const SHAPE_BYTES = 272;
export const MAX_SHAPES = 16;
export const SHAPE_KEY = 1;
export const SHAPE_VALUE = 2;
export const SHAPE_SPACE = 4;
export const SHAPE_QUOTE = 8;
// 1 byte per literal (by its index in the caller's list): set when it occurs, whatever its shape
export const SEEN = SHAPES + MAX_SHAPES * SHAPE_BYTES;
// 6 × 16 bytes: the prefilter's nibble tables (byte-screen.ts): for the first byte at a position
// its low and its high nibble, then the same for the second and the third byte; each byte of a
// table is a set of 8 buckets
export const PAIR_FILTER = SEEN + MAX_RECORDS;
export const DATA = 393_216; // input, a 0 byte, then output
export const PAGE = 65_536;
export const JOIN_FLAG = 0x8000;
export const NOT_A_LITERAL = -1;

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

/**
 * $k moves on while the byte there is of class `flag` in the shape at $t. It stops at $end without
 * a test: the 0 byte there has class 0 in every shape (byte-screen.ts, #placeShapes).
 */
function skipClass(flag: number): string {
  return `block $class_done
      loop $class
        local.get $k
        i32.load8_u
        local.get $t
        i32.add
        i32.load8_u
        i32.const ${flag}
        i32.and
        i32.eqz
        br_if $class_done
        local.get $k
        i32.const 1
        i32.add
        local.set $k
        br $class
      end
    end`;
}

/** The class byte of the byte at $k in the shape at $t (the 0 byte at $end has class 0). */
const CLASS_AT_K = `local.get $k
    i32.load8_u
    local.get $t
    i32.add
    i32.load8_u`;

/**
 * A literal with an assignment shape (its rules promise that each of their matches starts with
 * one): the hit is kept only when, from $p, the shape can follow. Necessary, not sufficient: the
 * literal and a run of key bytes, at most maxKeyLength in all, an optional quote, white space, an operator (= : := =>),
 * white space, an optional quote, minValueLength value bytes. Branches to $compared (the hit is
 * dropped) when it cannot; every loop stops at $end (skipClass).
 */
const SHAPE_CHECK = `
                      local.get $r
                      i32.load offset=20
                      local.tee $t
                      if
                        block $shaped
                          ;; the literal is the name's beginning (its bytes were just compared)
                          local.get $p
                          local.get $len
                          i32.add
                          local.set $k
                          ${skipClass(SHAPE_KEY)}
                          local.get $k
                          local.get $p
                          i32.sub
                          local.get $t
                          i32.load offset=256
                          i32.gt_u
                          br_if $compared
                          ${CLASS_AT_K}
                          i32.const ${SHAPE_QUOTE}
                          i32.and
                          if
                            ${next()}
                          end
                          ${skipClass(SHAPE_SPACE)}
                          local.get $k
                          local.get $end
                          i32.ge_u
                          br_if $compared
                          local.get $k
                          i32.load8_u
                          local.tee $c
                          i32.const 0x3a
                          i32.ne
                          local.get $c
                          i32.const 0x3d
                          i32.ne
                          i32.and
                          br_if $compared
                          ;; after := or =>, the value may also start after the second byte: $then holds that place
                          i32.const 0
                          local.set $then
                          local.get $k
                          i32.load8_u offset=1
                          local.set $b
                          local.get $c
                          i32.const 0x3a
                          i32.eq
                          local.get $b
                          i32.const 0x3d
                          i32.eq
                          i32.and
                          local.get $c
                          i32.const 0x3d
                          i32.eq
                          local.get $b
                          i32.const 0x3e
                          i32.eq
                          i32.and
                          i32.or
                          if
                            local.get $k
                            i32.const 2
                            i32.add
                            local.set $then
                          end
                          local.get $k
                          i32.const 1
                          i32.add
                          local.set $k
                          loop $value_from
                            ${skipClass(SHAPE_SPACE)}
                            ${CLASS_AT_K}
                            i32.const ${SHAPE_QUOTE | SHAPE_VALUE}
                            i32.and
                            i32.const ${SHAPE_QUOTE}
                            i32.eq
                            if
                              ${next()}
                            end
                            local.get $k
                            local.set $from
                            ${skipClass(SHAPE_VALUE)}
                            local.get $k
                            local.get $from
                            i32.sub
                            local.get $t
                            i32.load offset=260
                            i32.ge_u
                            br_if $shaped
                            local.get $then
                            i32.eqz
                            br_if $compared
                            local.get $then
                            local.set $k
                            i32.const 0
                            local.set $then
                            br $value_from
                          end
                        end
                      end`;

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
              ;; the quick test: the first eight bytes, each masked by its fold mask (bytes past
              ;; the input are read but, as the literal does not fit, the answer is dropped)
              local.get $p
              i32.load
              local.get $r
              i32.load offset=12
              i32.and
              local.get $r
              i32.load offset=8
              i32.eq
              i32.and
              local.get $p
              i32.load offset=4
              local.get $r
              i32.load offset=28
              i32.and
              local.get $r
              i32.load offset=24
              i32.eq
              i32.and
              if
                local.get $r
                i32.load
                local.set $lit
                ;; bytes decided by the quick test need no second look
                local.get $r
                i32.load8_u offset=7
                local.set $k
                block $compared
                  loop $compare
                    local.get $k
                    local.get $len
                    i32.ge_u
                    if
                      ;; it occurs: that turns its rules on, whether or not an assignment follows
                      local.get $r
                      i32.load offset=16
                      i32.const 1
                      i32.store8 offset=${SEEN}
                      ${SHAPE_CHECK}
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

/** The prefilter's six nibble tables (low and high nibble for each of the three bytes), loaded into vector locals once. */
function loadPrefilterTables(): string {
  return [0, 1, 2]
    .flatMap((k) => [
      `i32.const ${PAIR_FILTER + 32 * k}`, 'v128.load', `local.set $low${k}`,
      `i32.const ${PAIR_FILTER + 32 * k + 16}`, 'v128.load', `local.set $high${k}`,
    ])
    .join('\n');
}

/**
 * The bucket bits of the 16 positions at $i: for each of the bytes at $i, $i+1 and $i+2, folded
 * to lower case, its low and its high nibble looked up in that byte's tables, all six and-ed.
 */
function prefilterLookups(): string {
  return [0, 1, 2]
    .flatMap((k) => [
      `local.get $low${k}`, 'local.get $i', k === 0 ? 'v128.load' : `v128.load offset=${k}`, 'local.get $fold', 'v128.or', 'local.tee $folded',
      'local.get $nibble', 'v128.and', 'i8x16.swizzle', ...(k === 0 ? [] : ['v128.and']),
      `local.get $high${k}`, 'local.get $folded', 'i32.const 4', 'i16x8.shr_u', 'local.get $nibble', 'v128.and', 'i8x16.swizzle', 'v128.and',
    ])
    .join('\n');
}

/**
 * screen(start, end, out, outEnd): every (offset, record) where a literal occurs in bytes
 * [start, end), and (offset, -1) where a join may start; returns the number of pairs written, or
 * -1 when they did not fit. The byte at `end` must be 0 (the last pair reads it).
 */
export const SCREEN: FlatFunction = {
  name: 'screen',
  params: ['$start', '$end', '$out', '$outEnd'],
  locals: ['$i', '$p', '$e', '$b', '$c', '$k', '$rec', '$r', '$g', '$len', '$lit', '$first', '$t', '$then', '$from', '$block', '$flags'],
  vectorLocals: ['$low0', '$high0', '$low1', '$high1', '$low2', '$high2', '$folded', '$zero', '$fold', '$nibble'],
  result: true,
  body: `
    local.get $out
    local.set $first
    local.get $start
    local.set $i
    ${loadPrefilterTables()}
    i32.const 0
    i8x16.splat
    local.set $zero
    ;; constants held in locals: V8 builds a splat again at each use, and i8x16.shr_u (no such
    ;; x64 instruction) as a 16-bit shift and a mask it builds each time
    i32.const 0x20
    i8x16.splat
    local.set $fold
    i32.const 15
    i8x16.splat
    local.set $nibble
    block $looked
      loop $position
        local.get $flags
        if
          ;; the next position of the block that the prefilter flagged
          local.get $block
          local.get $flags
          i32.ctz
          i32.add
          local.set $p
          local.get $flags
          local.get $flags
          i32.const 1
          i32.sub
          i32.and
          local.set $flags
        else
          local.get $i
          i32.const 17
          i32.add
          local.get $end
          i32.le_u
          if
            ;; 16 positions at once: each one's first three bytes, folded (| 0x20), looked up by
            ;; their nibbles; a position is flagged when one bucket holds all six (every position
            ;; whose pair is in the pair table and whose third byte its group continues with is).
            ;; The third bytes end at $end, whose byte is 0.
            local.get $i
            local.set $block
            ${prefilterLookups()}
            local.get $zero
            i8x16.ne
            i8x16.bitmask
            local.set $flags
            local.get $i
            i32.const 16
            i32.add
            local.set $i
            br $position
          end
          ;; the last positions, one at a time
          local.get $i
          local.get $end
          i32.ge_u
          br_if $looked
          local.get $i
          local.set $p
          local.get $i
          i32.const 1
          i32.add
          local.set $i
        end
        ;; the position's two bytes, folded (| 0x20), index the pair table
        local.get $p
        i32.load16_u
        i32.const 0x2020
        i32.or
        i32.const 1
        i32.shl
        i32.load16_u offset=${PAIR_TABLE}
        local.tee $e
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
 * the first 48). It looks at one byte in 32 until it meets the alphabet, and from a short run
 * skips ahead as far as the bytes it has seen allow.
 */
export const BASE64_RUNS: FlatFunction = {
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
        ;; A run of 32 or more from $s holds $s … $s + 31. The last byte out of the alphabet among
        ;; $probe + 1 … $s + 31, looked for from the right, ends every run that starts before it:
        ;; the search goes on after it (Boyer-Moore's skip; on source text, short words, it moves
        ;; on about twice as far as the end of the probe's run did). No run from $s or later fits
        ;; before $end when $s + 32 does not.
        local.get $s
        i32.const 32
        i32.add
        local.get $end
        i32.gt_u
        br_if $done
        local.get $s
        i32.const 31
        i32.add
        local.set $k
        block $skip_done
          loop $skip
            local.get $k
            local.get $probe
            i32.le_u
            br_if $skip_done
            local.get $k
            i32.load8_u
            i32.load8_u offset=${CLASS_TABLE}
            i32.eqz
            if
              local.get $k
              i32.const 1
              i32.add
              local.set $at
              br $probing
            end
            local.get $k
            i32.const 1
            i32.sub
            local.set $k
            br $skip
          end
        end
        ;; $s … $s + 31 are in the alphabet: on to the run's end
        local.get $s
        i32.const 32
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
