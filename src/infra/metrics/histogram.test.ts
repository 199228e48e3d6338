import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExposition, type ParsedFamily } from './exposition-parser.test-fixture.js';
import { DEFAULT_LATENCY_BUCKETS_SECONDS } from './histogram.js';
import { MetricsRegistry } from './metrics-registry.js';

function buckets(family: ParsedFamily | undefined, labels: Record<string, string> = {}): [string, number][] {
  const matching = (family?.samples ?? []).filter(
    (s) => s.name.endsWith('_bucket') && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return matching.map((s) => [s.labels['le']!, s.value]);
}

test('bucket counts are cumulative, bounds are inclusive, +Inf equals _count', async () => {
  const registry = new MetricsRegistry();
  const histogram = registry.histogram({ name: 'test_size_bytes', help: 'Sizes.', buckets: [1, 10, 100] });
  for (const value of [0, 1, 1.0000001, 10, 50, 100, 101, 1e9, -5]) histogram.observe(value);

  const family = parseExposition(await registry.render()).get('test_size_bytes');
  assert.equal(family?.type, 'histogram');
  assert.deepEqual(buckets(family), [
    ['1', 3], // -5, 0, 1
    ['10', 5], // + 1.0000001, 10
    ['100', 7], // + 50, 100
    ['+Inf', 9], // + 101, 1e9
  ]);
  const sum = family?.samples.find((s) => s.name === 'test_size_bytes_sum')?.value;
  const count = family?.samples.find((s) => s.name === 'test_size_bytes_count')?.value;
  assert.equal(sum, 0 + 1 + 1.0000001 + 10 + 50 + 100 + 101 + 1e9 - 5);
  assert.equal(count, 9);
});

test('each label set has its own buckets, with le after the declared labels', async () => {
  const registry = new MetricsRegistry();
  const latency = registry.histogram({ name: 'test_latency_seconds', help: 'Latency.', labelNames: ['operation'], buckets: [0.1, 1] });
  latency.labels('GetObject').observe(0.05);
  latency.labels('PutObject').observe(0.5);
  latency.labels('PutObject').observe(2);

  const text = await registry.render();
  assert.match(text, /^test_latency_seconds_bucket\{operation="PutObject",le="0.1"\} 0$/m);
  const family = parseExposition(text).get('test_latency_seconds');
  assert.deepEqual(buckets(family, { operation: 'GetObject' }), [['0.1', 1], ['1', 1], ['+Inf', 1]]);
  assert.deepEqual(buckets(family, { operation: 'PutObject' }), [['0.1', 0], ['1', 1], ['+Inf', 2]]);
  assert.equal(family?.samples.find((s) => s.name === 'test_latency_seconds_sum' && s.labels['operation'] === 'PutObject')?.value, 2.5);
});

test('default buckets run from 0.5 ms to 30 s and are exposed as written', async () => {
  assert.equal(DEFAULT_LATENCY_BUCKETS_SECONDS[0], 0.0005);
  assert.equal(DEFAULT_LATENCY_BUCKETS_SECONDS.at(-1), 30);
  const registry = new MetricsRegistry();
  registry.histogram({ name: 'test_default_seconds', help: 'Default buckets.' }).observe(0.003);
  const family = parseExposition(await registry.render()).get('test_default_seconds');
  const les = buckets(family).map(([le]) => le);
  assert.deepEqual(les, [...DEFAULT_LATENCY_BUCKETS_SECONDS.map(String), '+Inf']);
  assert.deepEqual(
    buckets(family).map(([, n]) => n),
    DEFAULT_LATENCY_BUCKETS_SECONDS.map((bound) => (bound >= 0.003 ? 1 : 0)).concat(1),
  );
});

test('bucket bounds must be finite and strictly increasing; +Inf may be given and is implicit anyway', () => {
  const registry = new MetricsRegistry();
  assert.throws(() => registry.histogram({ name: 'h1', help: '', buckets: [1, 1] }), /strictly increase/);
  assert.throws(() => registry.histogram({ name: 'h2', help: '', buckets: [2, 1] }), /strictly increase/);
  assert.throws(() => registry.histogram({ name: 'h3', help: '', buckets: [1, NaN] }), /not finite/);
  assert.throws(() => registry.histogram({ name: 'h4', help: '', buckets: [] }), /at least one/);
  assert.deepEqual(registry.histogram({ name: 'h5', help: '', buckets: [1, Infinity] }).upperBounds, [1]);
  assert.throws(() => registry.histogram({ name: 'h6', help: '', labelNames: ['le'] }), /reserved/);
});

test('observing NaN is refused: it would poison _sum for the life of the process', () => {
  const registry = new MetricsRegistry();
  const histogram = registry.histogram({ name: 'test_nan_seconds', help: '' });
  assert.throws(() => histogram.observe(NaN), RangeError);
  assert.equal(histogram.labels().count, 0);
});

test('a histogram reserves its _bucket, _sum and _count names', () => {
  const registry = new MetricsRegistry();
  registry.histogram({ name: 'test_x', help: '' });
  assert.throws(() => registry.gauge({ name: 'test_x_count', help: '' }), /already registered/);
});
