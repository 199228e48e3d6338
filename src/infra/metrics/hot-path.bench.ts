/**
 * Cost of the metric updates a request pays. Run: `node --import tsx src/infra/metrics/hot-path.bench.ts`.
 * Each case runs a warm-up, then reports the best of five timed rounds in ns per operation.
 */
import { MetricsRegistry } from './metrics-registry.js';

const ROUNDS = 5;
const OPS = 5_000_000;

function measure(name: string, op: (i: number) => void): void {
  for (let i = 0; i < OPS; i++) op(i);
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) op(i);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / OPS);
  }
  process.stdout.write(`${name.padEnd(52)} ${best.toFixed(1).padStart(6)} ns/op\n`);
}

const registry = new MetricsRegistry();
const requests = registry.counter({ name: 'bench_requests_total', help: '', labelNames: ['operation', 'status'] });
const latency = registry.histogram({ name: 'bench_latency_seconds', help: '', labelNames: ['operation'] });
const operations = ['GetObject', 'PutObject', 'HeadObject', 'ListObjectsV2', 'DeleteObject'];
const statuses = ['200', '204', '403', '404', '500'];
const getOk = requests.labels('GetObject', '200');
const getLatency = latency.labels('GetObject');
const latencies = [0.0003, 0.002, 0.004, 0.03, 0.2, 1.7];

measure('counter child inc()', () => getOk.inc());
measure('counter labels(op, status).inc() (cache hit)', (i) => requests.labels(operations[i % 5]!, statuses[i % 5]!).inc());
measure('histogram child observe() (15 default buckets)', (i) => getLatency.observe(latencies[i % 6]!));
measure('histogram labels(op).observe() (cache hit)', (i) => latency.labels(operations[i % 5]!).observe(latencies[i % 6]!));
