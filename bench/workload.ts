/**
 * The vocabulary shared by the orchestrator (s3-bench.ts) and its worker processes
 * (load-generator.ts, raw-fsync-limit.ts): what to measure, and what one measurement produced.
 * Everything here crosses a process boundary over IPC, so it is plain JSON data.
 */

export const SMALL_OBJECT_BYTES = 4 * 1024;

/** One measured point. Throughput is always successful work divided by `elapsedMs`. */
export type Scenario =
  | { readonly kind: 'large-put'; readonly key: string; readonly bytes: number }
  | { readonly kind: 'large-get'; readonly key: string; readonly bytes: number }
  | {
      readonly kind: 'small-put';
      readonly keyPrefix: string;
      readonly concurrency: number;
      readonly durationMs: number;
      /** Requests before this much time has passed warm connections and the JIT and are not counted. */
      readonly warmupMs: number;
      /** Upper bound on requests (the number of keys prepared); the point may end early on it. */
      readonly maxOps: number;
    }
  | {
      readonly kind: 'small-get';
      /** Keys written earlier, read round-robin. */
      readonly keys: readonly string[];
      readonly concurrency: number;
      readonly durationMs: number;
      readonly warmupMs: number;
    };

export interface PointResult {
  /** Successful operations inside the measured window. */
  readonly ops: number;
  /** Payload bytes moved by those operations. */
  readonly bytes: number;
  /** Length of the measured window. */
  readonly elapsedMs: number;
  /** Failed operations (wrong status, short body, socket error), counted over the whole point. */
  readonly errors: number;
  /** A few failures, described, for the report. */
  readonly errorSamples: readonly string[];
  readonly latencyMs?: { readonly p50: number; readonly p99: number };
  /** For small-put: some keys that were written successfully, for the GET points that follow. */
  readonly writtenKeys?: readonly string[];
}

export interface HttpTarget {
  readonly port: number;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** orchestrator → worker */
export interface WorkRequest {
  readonly id: number;
  readonly scenario: Scenario;
  /** Load generator only: which server to drive. */
  readonly target?: HttpTarget;
}

/** worker → orchestrator */
export type WorkReply =
  | { readonly id: number; readonly ok: true; readonly result: PointResult }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** How many successful keys a PUT point hands on to the GET points. */
export const KEYS_KEPT_FOR_GETS = 2_000;

export function percentiles(samples: Float64Array, count: number): { p50: number; p99: number } | undefined {
  if (count === 0) return undefined;
  const sorted = samples.slice(0, count).sort();
  const at = (q: number) => sorted[Math.min(count - 1, Math.floor(q * count))] ?? 0;
  return { p50: round3(at(0.5)), p99: round3(at(0.99)) };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Collects error descriptions, keeping only the first few. */
export class ErrorTally {
  count = 0;
  readonly samples: string[] = [];
  add(description: string): void {
    this.count += 1;
    if (this.samples.length < 5) this.samples.push(description);
  }
}
