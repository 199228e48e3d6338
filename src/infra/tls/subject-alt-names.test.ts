import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsName, ipAddressBytes, subjectAltName } from './subject-alt-names.js';

const hexOf = (address: string) => ipAddressBytes(address)?.toString('hex');

test('IPv4 and IPv6 addresses become their 4 and 16 octets', () => {
  assert.equal(hexOf('127.0.0.1'), '7f000001');
  assert.equal(hexOf('192.0.2.255'), 'c00002ff');
  assert.equal(hexOf('::1'), '00000000000000000000000000000001');
  assert.equal(hexOf('::'), '00000000000000000000000000000000');
  assert.equal(hexOf('2001:db8::8a2e:370:7334'), '20010db80000000000008a2e03707334');
  assert.equal(hexOf('2001:DB8:0:0:1:0:0:1'), '20010db8000000000001000000000001');
  assert.equal(hexOf('fe80::'), 'fe800000000000000000000000000000');
  assert.equal(hexOf('::ffff:192.0.2.1'), '00000000000000000000ffffc0000201');
  assert.equal(hexOf('64:ff9b::198.51.100.7'), '0064ff9b0000000000000000c6336407');
});

test('what is not an address is refused, zones included', () => {
  for (const text of ['1.2.3', '256.1.1.1', '01.2.3.4', 'fe80::1%eth0', ':::', '1::2::3', 'localhost', '']) {
    assert.equal(ipAddressBytes(text), undefined, text);
  }
});

test('DNS names: LDH labels, an optional leading wildcard, stored in lower case', () => {
  assert.deepEqual(dnsName('localhost'), { kind: 'dns', name: 'localhost' });
  assert.deepEqual(dnsName('Vault.Example.COM'), { kind: 'dns', name: 'vault.example.com' });
  assert.deepEqual(dnsName('*.s3.example.com'), { kind: 'dns', name: '*.s3.example.com' });
  assert.deepEqual(dnsName('xn--mnchen-3ya.de'), { kind: 'dns', name: 'xn--mnchen-3ya.de' });
  for (const bad of ['bad_name', '-x.example', 'x-.example', 'a..b', 'münchen.de', '*.', 'a.*.b', `${'a'.repeat(64)}.com`, 'trailing.', 'with space']) {
    assert.throws(() => dnsName(bad), /is not a DNS name/, bad);
  }
});

test('a user-given name is an IP address when it parses as one, brackets allowed, else a DNS name', () => {
  assert.equal(subjectAltName('127.0.0.1').kind, 'ip');
  assert.equal(subjectAltName('[::1]').kind, 'ip');
  assert.deepEqual(subjectAltName('[::1]'), { kind: 'ip', address: '::1', bytes: ipAddressBytes('::1') });
  assert.equal(subjectAltName('vault.local').kind, 'dns');
  assert.throws(() => subjectAltName('[nope]'), /is not a DNS name/);
});
