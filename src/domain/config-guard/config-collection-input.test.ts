import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigCollection } from './config-collection-input.js';
import { parseExpectedChanges } from './expected-changes.js';

const item = { component: 'dns', resourceId: 'example.com./www/A', kind: 'dns_record', source: 'zone', attributes: { ttl: 300 } };
const collection = (items: unknown[], extra: object = {}) => ({ format: 'holdfast-config-items/1', collectedAt: '2031-06-01T00:00:00Z', inputs: [], items, ...extra });

test('a collection is checked before anything is stored, and the error names the JSON path', () => {
  assert.equal(parseConfigCollection(collection([item])).items.length, 1);
  assert.throws(() => parseConfigCollection(collection([item], { format: 'v2' })), /\$\.format must be "holdfast-config-items\/1"/);
  assert.throws(() => parseConfigCollection(collection([item, item])), /\$\.items\[1\] repeats dns example\.com\.\/www\/A/);
  assert.throws(() => parseConfigCollection(collection([{ ...item, component: 'networking' }])), /\$\.items\[0\]\.component must be one of container, network/);
  assert.throws(() => parseConfigCollection(collection([{ ...item, attributes: [] }])), /\$\.items\[0\]\.attributes must be a JSON object/);
  assert.throws(() => parseConfigCollection(collection([item], { collectedAt: 'yesterday' })), /collectedAt must be an ISO 8601 time/);
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = { d: deep };
  assert.throws(() => parseConfigCollection(collection([{ ...item, attributes: { deep } }])), /nests deeper than 32 levels/);
});

test('expected changes need a target (or null) for each named resource, once', () => {
  assert.deepEqual(parseExpectedChanges({ changes: [{ component: 'dns', resourceId: 'r', target: null }] }), [{ component: 'dns', resourceId: 'r', target: null }]);
  assert.throws(() => parseExpectedChanges({ changes: [] }), /at least one resource/);
  assert.throws(() => parseExpectedChanges({ changes: [{ component: 'dns', resourceId: 'r' }] }), /\$\.changes\[0\]\.target is missing/);
  assert.throws(() => parseExpectedChanges({ changes: [{ component: 'dns', resourceId: 'r', target: null }, { component: 'dns', resourceId: 'r', target: null }] }), /names dns r a second time/);
});
