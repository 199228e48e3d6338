/**
 * The part of the WebAssembly JavaScript API (present in every Node.js release) that this
 * project uses; @types/node does not declare it. https://webassembly.github.io/spec/js-api/
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Instance {
    constructor(module: Module, imports?: object);
    readonly exports: Record<string, unknown>;
  }
}
