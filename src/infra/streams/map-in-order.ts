/**
 * Maps each item of `source` through `map` with up to `width` calls in flight, and yields the
 * results in the order of the items: the shape of a restore that downloads and inflates several
 * parts at once but must write them one after another, or of a backup that compresses and
 * uploads several parts at once but records them in order.
 *
 * Items are pulled from `source` only while fewer than `width` calls run, so a slow consumer
 * slows the source (a paused pipe pauses the process feeding it). While the consumer works on
 * result i, the calls for items i+1 … i+width-1 run. A call that fails surfaces when its turn
 * comes; the generator then stops pulling, and the calls still running finish unobserved (their
 * rejections are handled here, never "unhandled").
 */
export async function* mapInOrder<I, O>(source: AsyncIterable<I> | Iterable<I>, width: number, map: (item: I, index: number) => Promise<O>): AsyncGenerator<O> {
  if (!Number.isSafeInteger(width) || width < 1) throw new RangeError(`mapInOrder: width must be a whole number ≥ 1, not ${width}`);
  const running: Promise<O>[] = [];
  let index = 0;
  try {
    for await (const item of source) {
      const call = map(item, index++);
      call.catch(() => undefined); // observed in order below, or abandoned in finally
      running.push(call);
      if (running.length >= width) yield await running.shift()!;
    }
    while (running.length > 0) yield await running.shift()!;
  } finally {
    running.length = 0;
  }
}
