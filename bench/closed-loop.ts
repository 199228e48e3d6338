import { ErrorTally, type PointResult, percentiles } from './workload.js';

export interface ClosedLoopSpec {
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Operations are numbered 0..maxOps-1; none is started past it. */
  readonly maxOps: number;
}

/**
 * One attempt of operation `index`: resolves to the payload bytes it moved, or to a description of
 * why it failed. It must not reject (a rejection is reported as a failure all the same).
 */
export type Attempt = (index: number) => Promise<number | string>;

/**
 * A closed loop: `concurrency` workers, each starting its next operation when the previous one
 * ends, until the warm-up plus the duration is over or the operations run out. Only operations
 * that finish after the warm-up count; the window ends when the last in-flight one finishes.
 */
export async function runClosedLoop(spec: ClosedLoopSpec, attempt: Attempt): Promise<PointResult> {
  const errors = new ErrorTally();
  let latencies = new Float64Array(1 << 16);
  let ops = 0;
  let bytes = 0;
  let nextIndex = 0;
  const start = performance.now();
  const warmEnd = start + spec.warmupMs;
  const deadline = warmEnd + spec.durationMs;

  const worker = async (): Promise<void> => {
    while (true) {
      const began = performance.now();
      if (began >= deadline || nextIndex >= spec.maxOps) return;
      const index = nextIndex++;
      let outcome: number | string;
      try {
        outcome = await attempt(index);
      } catch (error: unknown) {
        outcome = error instanceof Error ? error.message : String(error);
      }
      if (typeof outcome === 'string') {
        errors.add(outcome);
        continue;
      }
      const ended = performance.now();
      if (ended < warmEnd) continue;
      if (ops === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[ops] = ended - began;
      ops += 1;
      bytes += outcome;
    }
  };

  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const elapsedMs = Math.max(0, performance.now() - warmEnd);
  return {
    ops,
    bytes,
    elapsedMs,
    errors: errors.count,
    errorSamples: errors.samples,
    latencyMs: percentiles(latencies, ops),
  };
}

/** A single timed operation (the 1 GiB points). */
export async function runOnce(attempt: () => Promise<number | string>): Promise<PointResult> {
  const began = performance.now();
  let outcome: number | string;
  try {
    outcome = await attempt();
  } catch (error: unknown) {
    outcome = error instanceof Error ? error.message : String(error);
  }
  const elapsedMs = performance.now() - began;
  if (typeof outcome === 'string') {
    return { ops: 0, bytes: 0, elapsedMs, errors: 1, errorSamples: [outcome] };
  }
  return { ops: 1, bytes: outcome, elapsedMs, errors: 0, errorSamples: [] };
}
