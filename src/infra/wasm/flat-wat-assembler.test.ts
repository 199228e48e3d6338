import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssemblyError, assembleModule } from './flat-wat-assembler.js';

test('a flat-text function assembles, loads and runs: loops, branches, memory, negative constants', () => {
  // Sums the bytes in [start, end), or returns -1 for an empty range.
  const bytes = assembleModule(
    [
      {
        name: 'sum',
        params: ['$start', '$end'],
        locals: ['$total'],
        result: true,
        body: `
          local.get $start
          local.get $end
          i32.ge_u
          if
            i32.const -1
            return
          end
          block $done
            loop $next
              local.get $start
              local.get $end
              i32.ge_u
              br_if $done
              local.get $total
              local.get $start
              i32.load8_u offset=0   ;; one byte
              i32.add
              local.set $total
              local.get $start
              i32.const 1
              i32.add
              local.set $start
              br $next
            end
          end
          local.get $total`,
      },
    ],
    1,
  );
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
  memory.set([1, 2, 3, 250], 100);
  const sum = instance.exports.sum as (start: number, end: number) => number;
  assert.equal(sum(100, 104), 256);
  assert.equal(sum(100, 100), -1);
});

test('vector instructions: 16 bytes looked up by their nibbles (swizzle), masked, compared and reduced to a bitmask, as JavaScript computes it', () => {
  // flags(at): bit i set when low[byte i & 15] & high[byte i >> 4] is not 0, for the 16 bytes at
  // `at`; bit 16 when any of the 16 bytes is not 0. lowest(x): the index of x's lowest set bit.
  const bytes = assembleModule(
    [
      {
        name: 'flags',
        params: ['$at'],
        locals: [],
        vectorLocals: ['$v'],
        result: true,
        body: `
          local.get $at
          v128.load offset=0
          local.set $v
          i32.const 0
          v128.load
          local.get $v
          i32.const 15
          i8x16.splat
          v128.and
          i8x16.swizzle
          i32.const 16
          v128.load
          local.get $v
          i32.const 4
          i8x16.shr_u
          i8x16.swizzle
          v128.and
          i32.const 0
          i8x16.splat
          i8x16.ne
          i8x16.bitmask
          local.get $v
          v128.any_true
          i32.const 16
          i32.shl
          i32.or`,
      },
      { name: 'lowest', params: ['$x'], locals: [], result: true, body: 'local.get $x\ni32.ctz' },
      // The lanes where (16-bit lanes >> 4) & mask differs from the bytes' i8x16.shr_u by 4: with
      // mask 15 none (the byte screen's high nibbles), with 0xff those a neighbour's bits reach.
      {
        name: 'wideShiftDiffers',
        params: ['$at', '$mask'],
        locals: [],
        result: true,
        body: `
          local.get $at
          v128.load
          i32.const 4
          i16x8.shr_u
          local.get $mask
          i8x16.splat
          v128.and
          local.get $at
          v128.load
          i32.const 4
          i8x16.shr_u
          i8x16.ne
          i8x16.bitmask`,
      },
    ],
    1,
  );
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
  const flags = instance.exports.flags as (at: number) => number;
  const lowest = instance.exports.lowest as (x: number) => number;
  const wideShiftDiffers = instance.exports.wideShiftDiffers as (at: number, mask: number) => number;
  const low = [1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4];
  const high = [0, 0, 7, 6, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 5];
  memory.set([...low, ...high], 0);
  let seed = 1;
  let flagged = 0;
  for (let round = 0; round < 300; round++) {
    const at = 100 + (round % 17); // any alignment
    const input = Array.from({ length: 16 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) % [256, 128, 1][round % 3]!);
    memory.set(input, at);
    let mask = 0;
    input.forEach((byte, index) => (mask |= (low[byte & 15]! & high[byte >> 4]!) !== 0 ? 1 << index : 0));
    flagged += mask === 0 ? 0 : 1;
    assert.equal(flags(at), mask | ((input.some((byte) => byte !== 0) ? 1 : 0) << 16), JSON.stringify(input));
    assert.equal(wideShiftDiffers(at, 15), 0, JSON.stringify(input));
    const spilled = input.reduce((lanes, _byte, index) => (index % 2 === 0 && (input[index + 1]! & 15) !== 0 ? lanes | (1 << index) : lanes), 0);
    assert.equal(wideShiftDiffers(at, 0xff), spilled, JSON.stringify(input));
  }
  assert.ok(flagged > 50, 'the inputs flag some bytes');
  assert.deepEqual([lowest(0), lowest(1), lowest(0b1000), lowest(-(2 ** 31))], [32, 0, 3, 31]);
});

test('an unknown instruction, local or label is refused with the function and line', () => {
  const fn = (body: string) => ({ name: 'f', params: ['$a'], locals: [], result: false, body });
  assert.throws(() => assembleModule([fn('i64.add')], 1), (error: unknown) => error instanceof AssemblyError && /f, line 1 \("i64.add"\): unsupported instruction/.test(error.message));
  assert.throws(() => assembleModule([fn('local.get $b')], 1), /unknown local \$b/);
  assert.throws(() => assembleModule([fn('block $x\nbr $y\nend')], 1), /unknown label \$y/);
  assert.throws(() => assembleModule([fn('block $x')], 1), /not ended/);
});
