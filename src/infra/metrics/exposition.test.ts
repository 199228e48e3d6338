import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExposition, sampleValue } from './exposition-parser.test-fixture.js';
import { escapeHelp, escapeLabelValue, formatSampleValue, PROMETHEUS_CONTENT_TYPE } from './exposition.js';
import { MetricsRegistry } from './metrics-registry.js';

test('label values escape backslash, double quote and line feed, and nothing else', () => {
  assert.equal(escapeLabelValue('plain'), 'plain');
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeLabelValue('tab\there ünïcode 🔒 {},='), 'tab\there ünïcode 🔒 {},=');
});

test('help text escapes backslash and line feed; a double quote stays', () => {
  assert.equal(escapeHelp('C:\\vault "quoted"\nsecond line'), 'C:\\\\vault "quoted"\\nsecond line');
});

test('sample values use the Go float spellings for special values', () => {
  assert.deepEqual([NaN, Infinity, -Infinity, 0, -0, 1.5, 0.0005, 1e21, 5e-7].map(formatSampleValue), [
    'NaN',
    '+Inf',
    '-Inf',
    '0',
    '0',
    '1.5',
    '0.0005',
    '1e+21',
    '5e-7',
  ]);
});

test('hostile label values and help text survive a round trip through a strict parser', async () => {
  const registry = new MetricsRegistry();
  const hostile = ['back\\slash', 'quo"te', 'new\nline', '\\"\n\\n', '} 1\nfake_metric 2', 'ünïcode 🔒', ''];
  const help = 'Requests, by "bucket".\nPaths like C:\\data are escaped.';
  const counter = registry.counter({ name: 'test_requests_total', help, labelNames: ['bucket'] });
  hostile.forEach((value, i) => counter.labels(value).inc(i + 1));

  const families = parseExposition(await registry.render());
  const family = families.get('test_requests_total');
  assert.equal(family?.help, help);
  assert.equal(family?.type, 'counter');
  assert.deepEqual(
    family?.samples.map((s) => [s.labels['bucket'], s.value]),
    hostile.map((value, i) => [value, i + 1]),
  );
  assert.equal(families.has('fake_metric'), false);
  assert.equal(sampleValue(families, 'test_requests_total', 'test_requests_total', { bucket: 'new\nline' }), 3);
});

test('the content type names text format 0.0.4 in UTF-8', () => {
  assert.equal(PROMETHEUS_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
});
