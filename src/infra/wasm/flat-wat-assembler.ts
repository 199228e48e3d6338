/**
 * A small assembler for WebAssembly written in the flat (linear) form of the text format: one
 * instruction per line, as in `wat2wasm` input without the folded S-expressions. It exists so a
 * hot loop can be written as readable source in this repository and compiled when it is loaded:
 * no generated .wasm is committed, no compiler is installed, nothing is downloaded.
 *
 * Only what the kernels here use is supported: i32 values, one memory, functions of i32
 * parameters returning at most one i32, structured control (`block`, `loop`, `if`, `else`, `end`,
 * `br`, `br_if`, `return`), named locals and labels, and a few 128-bit SIMD instructions on v128
 * locals (§5.4.8: load, splat, swizzle, and, or, i8x16 and i16x8 shr_u, ne, bitmask). Instruction encodings and
 * the module layout follow the WebAssembly Core Specification 2.0, §5 "Binary Format".
 */

/** Opcodes without immediates (§5.4.1, §5.4.7). */
const PLAIN: Readonly<Record<string, number>> = {
  unreachable: 0x00,
  nop: 0x01,
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  'i32.eqz': 0x45,
  'i32.eq': 0x46,
  'i32.ne': 0x47,
  'i32.lt_s': 0x48,
  'i32.lt_u': 0x49,
  'i32.gt_s': 0x4a,
  'i32.gt_u': 0x4b,
  'i32.le_s': 0x4c,
  'i32.le_u': 0x4d,
  'i32.ge_s': 0x4e,
  'i32.ge_u': 0x4f,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.and': 0x71,
  'i32.or': 0x72,
  'i32.xor': 0x73,
  'i32.shl': 0x74,
  'i32.shr_s': 0x75,
  'i32.shr_u': 0x76,
  'i32.ctz': 0x68,
};

/** Vector instructions without immediates: the 0xFD prefix, then the opcode as a u32 (§5.4.8). */
const VECTOR: Readonly<Record<string, number>> = {
  'i8x16.swizzle': 0x0e,
  'i8x16.splat': 0x0f,
  'i8x16.ne': 0x24,
  'v128.and': 0x4e,
  'v128.or': 0x50,
  'v128.any_true': 0x53,
  'i8x16.bitmask': 0x64,
  'i8x16.shr_u': 0x6d,
  'i16x8.shr_u': 0x8d,
};
const VECTOR_PREFIX = 0xfd;
const V128_LOAD = 0x00;

/** Memory instructions and their natural alignment as log2 bytes (§5.4.6). */
const MEMORY: Readonly<Record<string, readonly [number, number]>> = {
  'i32.load': [0x28, 2],
  'i32.load8_u': [0x2d, 0],
  'i32.load16_u': [0x2f, 1],
  'i32.store': [0x36, 2],
  'i32.store8': [0x3a, 0],
  'i32.store16': [0x3b, 1],
};

const BLOCKS: Readonly<Record<string, number>> = { block: 0x02, loop: 0x03, if: 0x04 };
const I32 = 0x7f;
const V128 = 0x7b;

function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return bytes;
}

function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function vector(items: readonly number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...unsignedLeb(bytes.length), ...bytes];
}

/** A function in flat text form. Parameters and locals are i32 and named (`$i`); `vectorLocals` are v128. */
export interface FlatFunction {
  readonly name: string;
  readonly params: readonly string[];
  readonly locals: readonly string[];
  readonly vectorLocals?: readonly string[];
  readonly result: boolean;
  /** Instructions, one per line; `;;` starts a comment. */
  readonly body: string;
}

export class AssemblyError extends Error {}

function parseInteger(token: string, where: string): number {
  const value = Number(token.replaceAll('_', ''));
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 32) throw new AssemblyError(`${where}: "${token}" is not a 32-bit integer`);
  return value;
}

function assembleBody(fn: FlatFunction): number[] {
  const locals = new Map([...fn.params, ...fn.locals, ...(fn.vectorLocals ?? [])].map((local, index) => [local, index]));
  const labels: Array<string | undefined> = [];
  const code: number[] = [];
  fn.body.split('\n').forEach((raw, lineIndex) => {
    const line = raw.replace(/;;.*$/, '').trim();
    if (line === '') return;
    const where = `${fn.name}, line ${lineIndex + 1} ("${line}")`;
    const [op, ...args] = line.split(/\s+/) as [string, ...string[]];
    const local = (token: string | undefined) => {
      const index = token === undefined ? undefined : locals.get(token);
      if (index === undefined) throw new AssemblyError(`${where}: unknown local ${token}`);
      return unsignedLeb(index);
    };
    if (op in PLAIN) code.push(PLAIN[op]!);
    else if (op in VECTOR) code.push(VECTOR_PREFIX, ...unsignedLeb(VECTOR[op]!));
    else if (op === 'v128.load') {
      // Alignment 0: the kernels load at any byte offset (§5.4.6, "memarg": a hint only).
      const offset = args.find((arg) => arg.startsWith('offset='));
      code.push(VECTOR_PREFIX, ...unsignedLeb(V128_LOAD), 0, ...unsignedLeb(offset === undefined ? 0 : parseInteger(offset.slice(7), where)));
    }
    else if (op in BLOCKS) {
      // A label is optional; blocks yield no value.
      labels.push(args[0]);
      code.push(BLOCKS[op]!, 0x40);
    } else if (op === 'else') code.push(0x05);
    else if (op === 'end') {
      if (labels.length === 0) throw new AssemblyError(`${where}: end without a block`);
      labels.pop();
      code.push(0x0b);
    } else if (op === 'br' || op === 'br_if') {
      const depth = labels.length - 1 - labels.lastIndexOf(args[0]);
      if (args[0] === undefined || depth >= labels.length) throw new AssemblyError(`${where}: unknown label ${args[0]}`);
      code.push(op === 'br' ? 0x0c : 0x0d, ...unsignedLeb(depth));
    } else if (op === 'local.get') code.push(0x20, ...local(args[0]));
    else if (op === 'local.set') code.push(0x21, ...local(args[0]));
    else if (op === 'local.tee') code.push(0x22, ...local(args[0]));
    else if (op === 'i32.const') code.push(0x41, ...signedLeb(parseInteger(args[0] ?? '', where)));
    else if (op in MEMORY) {
      const [opcode, align] = MEMORY[op]!;
      const offset = args.find((arg) => arg.startsWith('offset='));
      code.push(opcode, ...unsignedLeb(align), ...unsignedLeb(offset === undefined ? 0 : parseInteger(offset.slice(7), where)));
    } else throw new AssemblyError(`${where}: unsupported instruction`);
  });
  if (labels.length !== 0) throw new AssemblyError(`${fn.name}: ${labels.length} block(s) not ended`);
  const vectors = fn.vectorLocals?.length ?? 0;
  const declared = [...(fn.locals.length === 0 ? [] : [[...unsignedLeb(fn.locals.length), I32]]), ...(vectors === 0 ? [] : [[...unsignedLeb(vectors), V128]])];
  const body = [...vector(declared), ...code, 0x0b];
  return [...unsignedLeb(body.length), ...body];
}

/**
 * A module of `functions` (each exported under its name) and one memory of `memoryPages` 64 KiB
 * pages, exported as "memory" and growable from JavaScript.
 */
export function assembleModule(functions: readonly FlatFunction[], memoryPages: number): Uint8Array {
  const types = functions.map((fn) => [0x60, ...vector(fn.params.map(() => [I32])), ...vector(fn.result ? [[I32]] : [])]);
  const exports = [
    ...functions.map((fn, index) => [...name(fn.name), 0x00, ...unsignedLeb(index)]),
    [...name('memory'), 0x02, 0x00],
  ];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(3, vector(functions.map((_, index) => unsignedLeb(index)))),
    ...section(5, vector([[0x00, ...unsignedLeb(memoryPages)]])),
    ...section(7, vector(exports)),
    ...section(10, vector(functions.map(assembleBody))),
  ]);
}
