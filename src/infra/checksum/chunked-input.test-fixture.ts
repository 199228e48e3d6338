/**
 * Test input: random bytes cut into random chunks. The bytes sit at a random offset inside
 * their ArrayBuffer so chunk views start at every alignment, which exercises the CRC code paths
 * that read aligned words and the byte loops around them.
 */
import fc from 'fast-check';

export interface ChunkedInput {
  whole: Uint8Array;
  chunks: Uint8Array[];
}

export function chunkedInput(maxLength = 3000): fc.Arbitrary<ChunkedInput> {
  return fc
    .record({
      bytes: fc.uint8Array({ maxLength }),
      cuts: fc.array(fc.nat(), { maxLength: 6 }),
      offset: fc.nat({ max: 7 }),
    })
    .map(({ bytes, cuts, offset }) => {
      const whole = new Uint8Array(new ArrayBuffer(offset + bytes.length), offset);
      whole.set(bytes);
      const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let start = 0;
      for (const point of [...points, bytes.length]) {
        chunks.push(whole.subarray(start, point));
        start = point;
      }
      return { whole, chunks };
    });
}
