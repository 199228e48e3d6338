import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigItem } from '../../guard/config/config-item.js';
import { diffItems, itemsDigest } from './config-diff.js';

const sg = (ingress: object[]): ConfigItem => ({ component: 'network', resourceId: 'aws_security_group.web', kind: 'security_group', source: 'main.tfstate', attributes: { name: 'web', ingress: ingress as never } });
const rule = (port: number, cidr: string) => ({ cidr_blocks: [cidr], from_port: port, protocol: 'tcp', to_port: port });
const dns = (value: string, source = 'zone.db'): ConfigItem => ({ component: 'dns', resourceId: 'example.com./www/A', kind: 'dns_record', source, attributes: { ttl: 300, values: [value] } });

test('changed attributes are reported at their JSON paths, with before and after', () => {
  const before = [sg([rule(443, '0.0.0.0/0')]), dns('203.0.113.7')];
  const after = [sg([rule(22, '0.0.0.0/0')]), dns('198.51.100.9')];
  const diff = diffItems(before, after);
  assert.deepEqual(
    diff.map((d) => [d.component, d.resourceId, d.difference, d.changes]),
    [
      ['dns', 'example.com./www/A', 'changed', [{ path: '$.attributes.values[0]', before: '203.0.113.7', after: '198.51.100.9' }]],
      ['network', 'aws_security_group.web', 'changed', [
        { path: '$.attributes.ingress[0].from_port', before: 443, after: 22 },
        { path: '$.attributes.ingress[0].to_port', before: 443, after: 22 },
      ]],
    ],
  );
});

test('added and removed items, a grown array reported whole, odd keys quoted, missing keys without a before', () => {
  const bucket = (attributes: object): ConfigItem => ({ component: 'storage', resourceId: 'bucket:backups', kind: 's3_bucket', source: 'live', attributes: attributes as never });
  const diff = diffItems(
    [sg([rule(443, '0.0.0.0/0')]), bucket({ versioning: 'Enabled', objectLock: { mode: 'COMPLIANCE', days: 30 } })],
    [sg([rule(443, '0.0.0.0/0'), rule(22, '0.0.0.0/0')]), bucket({ versioning: 'Enabled', 'x-amz.tag': 'a' }), dns('203.0.113.7')],
  );
  const byId = new Map(diff.map((d) => [d.resourceId, d]));
  assert.equal(byId.get('example.com./www/A')?.difference, 'added');
  assert.deepEqual(byId.get('aws_security_group.web')?.changes.map((c) => c.path), ['$.attributes.ingress']);
  assert.equal((byId.get('aws_security_group.web')?.changes[0]?.after as unknown[]).length, 2);
  assert.deepEqual(byId.get('bucket:backups')?.changes, [
    { path: '$.attributes.objectLock', before: { mode: 'COMPLIANCE', days: 30 } },
    { path: '$.attributes["x-amz.tag"]', after: 'a' },
  ]);
  assert.deepEqual(diffItems([dns('1.1.1.1')], []).map((d) => [d.difference, d.changes[0]?.path]), [['removed', '$']]);
});

test('source is not compared and key order does not matter; the digest agrees', () => {
  const a: ConfigItem = { component: 'iam', resourceId: 'p', kind: 'iam_policy', source: 'a', attributes: { x: 1, y: { b: 2, a: 1 } } };
  const b: ConfigItem = { component: 'iam', resourceId: 'p', kind: 'iam_policy', source: 'b', attributes: { y: { a: 1, b: 2 }, x: 1 } };
  assert.deepEqual(diffItems([a], [b]), []);
  assert.equal(itemsDigest([a, dns('1')]), itemsDigest([dns('1', 'other'), b]));
  assert.notEqual(itemsDigest([a]), itemsDigest([{ ...a, kind: 'other' }]));
  assert.deepEqual(diffItems([a], [{ ...a, kind: 'other' }])[0]?.changes, [{ path: '$.kind', before: 'iam_policy', after: 'other' }]);
});
