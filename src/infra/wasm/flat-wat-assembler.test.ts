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

test('an unknown instruction, local or label is refused with the function and line', () => {
  const fn = (body: string) => ({ name: 'f', params: ['$a'], locals: [], result: false, body });
  assert.throws(() => assembleModule([fn('i64.add')], 1), (error: unknown) => error instanceof AssemblyError && /f, line 1 \("i64.add"\): unsupported instruction/.test(error.message));
  assert.throws(() => assembleModule([fn('local.get $b')], 1), /unknown local \$b/);
  assert.throws(() => assembleModule([fn('block $x\nbr $y\nend')], 1), /unknown label \$y/);
  assert.throws(() => assembleModule([fn('block $x')], 1), /not ended/);
});
