import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrContains, parseCidr, parseIpAddress } from './ip-address.js';

function contains(cidr: string, address: string): boolean {
  const block = parseCidr(cidr);
  const ip = parseIpAddress(address);
  assert.ok(block, `block ${cidr}`);
  assert.ok(ip, `address ${address}`);
  return cidrContains(block, ip);
}

test('IPv4 blocks', () => {
  assert.equal(contains('203.0.113.0/24', '203.0.113.7'), true);
  assert.equal(contains('203.0.113.0/24', '203.0.114.7'), false);
  assert.equal(contains('10.0.0.0/8', '10.255.255.255'), true);
  assert.equal(contains('10.0.0.0/9', '10.128.0.1'), false);
  assert.equal(contains('10.0.0.0/9', '10.127.0.1'), true);
  assert.equal(contains('0.0.0.0/0', '192.0.2.1'), true);
  assert.equal(contains('192.0.2.1', '192.0.2.1'), true, 'a bare address is a block of one');
  assert.equal(contains('192.0.2.1/32', '192.0.2.2'), false);
});

test('IPv6 blocks, compressed forms and zones', () => {
  assert.equal(contains('2001:db8::/32', '2001:db8:1234::1'), true);
  assert.equal(contains('2001:db8::/32', '2001:db9::1'), false);
  assert.equal(contains('2001:db8:abcd:12::/64', '2001:DB8:ABCD:12:0:0:0:99'), true);
  assert.equal(contains('::1/128', '::1'), true);
  assert.equal(contains('fe80::/10', 'fe80::1%eth0'), true);
  assert.equal(contains('2001:db8::/33', '2001:db8:8000::1'), false);
});

test('IPv4-mapped IPv6 addresses match IPv4 blocks, and IPv4 addresses mapped IPv6 blocks', () => {
  assert.equal(contains('127.0.0.0/8', '::ffff:127.0.0.1'), true);
  assert.equal(contains('127.0.0.0/8', '::ffff:7f00:1'), true);
  assert.equal(contains('10.0.0.0/8', '::ffff:127.0.0.1'), false);
  assert.equal(contains('::ffff:10.0.0.0/104', '10.1.2.3'), true);
  assert.equal(contains('::ffff:10.0.0.0/104', '11.1.2.3'), false);
  assert.equal(contains('2001:db8::/32', '10.0.0.1'), false, 'an IPv4 client is not in an IPv6 block');
});

test('malformed addresses and blocks are refused', () => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', 'a.b.c.d', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8']) {
    assert.equal(parseIpAddress(bad), undefined, bad);
  }
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/x', 'fe80::1%eth0/64', 'nonsense/8']) {
    assert.equal(parseCidr(bad), undefined, bad);
  }
});
