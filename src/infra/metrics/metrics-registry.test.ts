import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExposition, sampleValue } from './exposition-parser.test-fixture.js';
import { MetricsRegistry } from './metrics-registry.js';

const OVERFLOW = 'holdfast_metrics_label_overflow_total';
const COLLECT_ERRORS = 'holdfast_metrics_collect_errors_total';

test('counters and gauges render as families a parser reads back exactly', async () => {
  const registry = new MetricsRegistry();
  const requests = registry.counter({ name: 'holdfast_s3_requests_total', help: 'S3 requests answered.', labelNames: ['operation', 'status'] });
  const inFlight = registry.gauge({ name: 'holdfast_s3_requests_in_flight', help: 'Requests being served.' });
  registry.counter({ name: 'holdfast_starts_total', help: 'Starts.' });
  requests.labels('GetObject', '200').inc();
  requests.labels('GetObject', '200').inc(2);
  requests.labels('PutObject', '403').inc();
  inFlight.inc(5);
  inFlight.dec(2);

  const families = parseExposition(await registry.render());
  assert.deepEqual(families.get('holdfast_s3_requests_total'), {
    name: 'holdfast_s3_requests_total',
    help: 'S3 requests answered.',
    type: 'counter',
    samples: [
      { name: 'holdfast_s3_requests_total', labels: { operation: 'GetObject', status: '200' }, value: 3 },
      { name: 'holdfast_s3_requests_total', labels: { operation: 'PutObject', status: '403' }, value: 1 },
    ],
  });
  assert.equal(families.get('holdfast_s3_requests_in_flight')?.type, 'gauge');
  assert.equal(sampleValue(families, 'holdfast_s3_requests_in_flight', 'holdfast_s3_requests_in_flight'), 3);
  // A metric without labels is exposed from the start, so rate() has a first point at 0.
  assert.equal(sampleValue(families, 'holdfast_starts_total', 'holdfast_starts_total'), 0);
  // Overflow counts start at 0 for every metric with labels; one without labels cannot overflow.
  assert.equal(sampleValue(families, OVERFLOW, OVERFLOW, { metric: 'holdfast_s3_requests_total' }), 0);
  assert.equal(sampleValue(families, OVERFLOW, OVERFLOW, { metric: 'holdfast_starts_total' }), undefined);
});

test('labels() resolves a child once and returns the same object after, for caching on hot paths', () => {
  const registry = new MetricsRegistry();
  const requests = registry.counter({ name: 'test_total', help: '', labelNames: ['operation', 'status'] });
  const child = requests.labels('GetObject', '200');
  assert.equal(requests.labels('GetObject', '200'), child);
  assert.notEqual(requests.labels('GetObject', '404'), child);
  // Tuples never collide through a joined key.
  requests.labels('a\u0000b', 'c').inc();
  assert.equal(requests.labels('a', 'b\u0000c').value, 0);
});

test('a counter only goes up', () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter({ name: 'test_total', help: '' });
  for (const bad of [-1, NaN, Infinity]) assert.throws(() => counter.inc(bad), RangeError);
  counter.inc(0.5);
  assert.equal(counter.labels().value, 0.5);
});

test('label sets beyond the cap are dropped and counted, so label values cannot grow memory', async () => {
  const registry = new MetricsRegistry({ maxLabelSetsPerMetric: 3, maxLabelValueLength: 16 });
  const requests = registry.counter({ name: 'test_requests_total', help: '', labelNames: ['bucket'] });
  const latency = registry.histogram({ name: 'test_latency_seconds', help: '', labelNames: ['bucket'] });
  const level = registry.gauge({ name: 'test_level', help: '', labelNames: ['bucket'] });
  for (let i = 0; i < 10_000; i++) {
    requests.labels(`attacker-${i}`).inc();
    latency.labels(`attacker-${i}`).observe(0.01);
  }
  level.labels('x'.repeat(17)).set(1);
  level.labels('x'.repeat(16)).set(2);
  // Existing label sets keep working once the cap is reached.
  requests.labels('attacker-0').inc();

  const families = parseExposition(await registry.render());
  assert.deepEqual(
    families.get('test_requests_total')?.samples.map((s) => [s.labels['bucket'], s.value]),
    [['attacker-0', 2], ['attacker-1', 1], ['attacker-2', 1]],
  );
  assert.equal(families.get('test_latency_seconds')?.samples.filter((s) => s.name === 'test_latency_seconds_count').length, 3);
  assert.deepEqual(families.get('test_level')?.samples.map((s) => s.value), [2]);
  assert.equal(sampleValue(families, OVERFLOW, OVERFLOW, { metric: 'test_requests_total' }), 9_997);
  assert.equal(sampleValue(families, OVERFLOW, OVERFLOW, { metric: 'test_latency_seconds' }), 9_997);
  assert.equal(sampleValue(families, OVERFLOW, OVERFLOW, { metric: 'test_level' }), 1);
});

test('the default cap is 2000 label sets per metric', async () => {
  const registry = new MetricsRegistry();
  const counter = registry.counter({ name: 'test_total', help: '', labelNames: ['key'] });
  for (let i = 0; i < 2500; i++) counter.labels(String(i)).inc();
  const families = parseExposition(await registry.render());
  assert.equal(families.get('test_total')?.samples.length, 2000);
  assert.equal(sampleValue(families, OVERFLOW, OVERFLOW, { metric: 'test_total' }), 500);
});

test('names are checked when a metric is declared', () => {
  const registry = new MetricsRegistry();
  assert.throws(() => registry.counter({ name: 'test_requests', help: '' }), /end in _total/);
  assert.throws(() => registry.gauge({ name: '9lives', help: '' }), /not a valid Prometheus metric name/);
  assert.throws(() => registry.gauge({ name: 'test_g', help: '', labelNames: ['__name'] }), /not a valid label name/);
  assert.throws(() => registry.gauge({ name: 'test_g', help: '', labelNames: ['a-b'] }), /not a valid label name/);
  assert.throws(() => registry.gauge({ name: 'test_g', help: '', labelNames: ['a', 'a'] }), /declared twice/);
  registry.gauge({ name: 'test_g', help: '' });
  assert.throws(() => registry.gauge({ name: 'test_g', help: '' }), /already registered/);
  assert.throws(() => registry.counter({ name: OVERFLOW, help: '' }), /already registered/);
});

test('a collect callback computes a gauge at scrape time; reset() forgets label sets that went away', async () => {
  const registry = new MetricsRegistry();
  let buckets = new Map([
    ['photos', 12],
    ['ledgers', 3],
  ]);
  registry.gauge({
    name: 'holdfast_objects_under_retention',
    help: 'Object versions under retention or legal hold.',
    labelNames: ['bucket'],
    collect: async (gauge) => {
      await new Promise((resolve) => setImmediate(resolve));
      gauge.reset();
      for (const [bucket, count] of buckets) gauge.labels(bucket).set(count);
    },
  });
  let families = parseExposition(await registry.render());
  assert.equal(sampleValue(families, 'holdfast_objects_under_retention', 'holdfast_objects_under_retention', { bucket: 'photos' }), 12);
  buckets = new Map([['ledgers', 4]]);
  families = parseExposition(await registry.render());
  assert.deepEqual(families.get('holdfast_objects_under_retention')?.samples, [
    { name: 'holdfast_objects_under_retention', labels: { bucket: 'ledgers' }, value: 4 },
  ]);
});

test('a failing collector is left out of the scrape and counted; the rest still render', async () => {
  const reported: [string, unknown][] = [];
  const registry = new MetricsRegistry({ onCollectError: (collector, error) => reported.push([collector, error]) });
  const failure = new Error('metadata store unavailable');
  registry.gauge({ name: 'test_broken', help: '', collect: () => Promise.reject(failure) });
  registry.gauge({ name: 'test_throws', help: '', collect: () => { throw failure; } });
  registry.counter({ name: 'test_fine_total', help: '' }).inc();

  const first = parseExposition(await registry.render());
  assert.equal(first.has('test_broken'), false);
  assert.equal(first.has('test_throws'), false);
  assert.equal(sampleValue(first, 'test_fine_total', 'test_fine_total'), 1);
  assert.equal(sampleValue(first, COLLECT_ERRORS, COLLECT_ERRORS, { collector: 'test_broken' }), 1);
  assert.deepEqual(reported.sort(([a], [b]) => a.localeCompare(b)), [['test_broken', failure], ['test_throws', failure]]);
  const second = parseExposition(await registry.render());
  assert.equal(sampleValue(second, COLLECT_ERRORS, COLLECT_ERRORS, { collector: 'test_throws' }), 2);
});

test('concurrent scrapes share one render, so collect callbacks never interleave', async () => {
  const registry = new MetricsRegistry();
  let calls = 0;
  registry.gauge({
    name: 'test_slow',
    help: '',
    collect: async (gauge) => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      gauge.set(calls);
    },
  });
  const [a, b] = await Promise.all([registry.render(), registry.render()]);
  assert.equal(a, b);
  assert.equal(calls, 1);
  await registry.render();
  assert.equal(calls, 2);
});

test('registry options are checked', () => {
  assert.throws(() => new MetricsRegistry({ maxLabelSetsPerMetric: 0 }), RangeError);
  assert.throws(() => new MetricsRegistry({ maxLabelValueLength: 1.5 }), RangeError);
});

test('label arity is checked by the compiler, and again at run time for untyped callers', () => {
  const registry = new MetricsRegistry();
  const requests = registry.counter({ name: 'test_total', help: '', labelNames: ['operation', 'status'] });
  requests.labels('GetObject', '200').inc();
  // @ts-expect-error one value short
  assert.throws(() => requests.labels('GetObject'), TypeError);
  // @ts-expect-error a labelled counter has no inc() of its own
  assert.throws(() => requests.inc(), TypeError);
  // @ts-expect-error label values are strings
  assert.throws(() => requests.labels('GetObject', 200), TypeError);
});
