import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as der from './der.js';

const hex = (bytes: Buffer) => bytes.toString('hex');

test('lengths use the short form below 128 and the long form from 128 (X.690 8.1.3)', () => {
  assert.equal(hex(der.octetString(Buffer.alloc(127))).slice(0, 4), '047f');
  assert.equal(hex(der.octetString(Buffer.alloc(128))).slice(0, 6), '048180');
  assert.equal(hex(der.octetString(Buffer.alloc(255))).slice(0, 6), '0481ff');
  assert.equal(hex(der.octetString(Buffer.alloc(256))).slice(0, 8), '04820100');
  assert.equal(hex(der.octetString(Buffer.alloc(70_000))).slice(0, 10), '0483011170');
});

test('integers are minimal two’s complement and stay positive', () => {
  assert.equal(hex(der.integer(0n)), '020100');
  assert.equal(hex(der.integer(2n)), '020102');
  assert.equal(hex(der.integer(127n)), '02017f');
  assert.equal(hex(der.integer(128n)), '02020080');
  assert.equal(hex(der.integer(256n)), '02020100');
  assert.equal(hex(der.integer(Buffer.from([0, 0, 1]))), '020101');
  assert.equal(hex(der.integer(Buffer.from([0x80, 0]))), '0203008000');
  assert.equal(hex(der.integer(Buffer.from([0, 0]))), '020100');
  assert.throws(() => der.integer(-1n), RangeError);
});

test('object identifiers: 40·a + b, then base-128 arcs with continuation bits (X.690 8.19)', () => {
  assert.equal(hex(der.objectIdentifier('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
  assert.equal(hex(der.objectIdentifier('2.5.29.17')), '0603551d11');
  assert.equal(hex(der.objectIdentifier('1.3.6.1.5.5.7.3.1')), '06082b06010505070301');
  // The X.690 example {joint-iso-itu-t 999 3}: the first subidentifier 1079 takes two octets.
  assert.equal(hex(der.objectIdentifier('2.999.3')), '0603883703');
  assert.throws(() => der.objectIdentifier('1.40'), /below 40/);
  assert.throws(() => der.objectIdentifier('3.1'), /not a dotted/);
  assert.throws(() => der.objectIdentifier('1.2.'), /not a dotted/);
});

test('named bit strings drop trailing zero bits (X.690 11.2.2)', () => {
  assert.equal(hex(der.namedBits([0])), '03020780'); // digitalSignature
  assert.equal(hex(der.namedBits([0, 2])), '030205a0'); // + keyEncipherment
  assert.equal(hex(der.namedBits([0, 5])), '03020284'); // + keyCertSign
  assert.equal(hex(der.namedBits([8])), '0303070080'); // decipherOnly
  assert.equal(hex(der.namedBits([])), '030100');
  assert.equal(hex(der.bitString(Buffer.from([0xab]))), '030200ab');
});

test('booleans, null, strings and context tags', () => {
  assert.equal(hex(der.boolean(true)), '0101ff');
  assert.equal(hex(der.boolean(false)), '010100');
  assert.equal(hex(der.nullValue()), '0500');
  assert.equal(hex(der.utf8String('é')), '0c02c3a9');
  assert.equal(hex(der.ia5String('a.b')), '1603612e62');
  assert.throws(() => der.ia5String('é'), /not IA5/);
  assert.equal(hex(der.explicitTag(0, der.integer(2n))), 'a003020102');
  assert.equal(hex(der.implicitPrimitive(7, Buffer.from([127, 0, 0, 1]))), '87047f000001');
  assert.throws(() => der.implicitPrimitive(31, Buffer.alloc(0)), RangeError);
});

test('SET OF sorts its elements by encoding (X.690 11.6); SEQUENCE keeps the order', () => {
  const [a, b] = [der.integer(1n), der.integer(2n)];
  assert.equal(hex(der.set(b, a)), '3106020101020102');
  assert.equal(hex(der.sequence(b, a)), '3006020102020101');
});

test('times: whole seconds and Z; UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5)', () => {
  const ascii = (bytes: Buffer) => bytes.subarray(2).toString('ascii');
  const last2049 = new Date(Date.UTC(2049, 11, 31, 23, 59, 59, 999));
  const first2050 = new Date(Date.UTC(2050, 0, 1, 0, 0, 0));
  assert.equal(ascii(der.utcTime(last2049)), '491231235959Z');
  assert.equal(der.x509Time(last2049)[0], 0x17);
  assert.equal(ascii(der.x509Time(first2050)), '20500101000000Z');
  assert.equal(der.x509Time(first2050)[0], 0x18);
  assert.equal(ascii(der.x509Time(new Date(Date.UTC(1950, 0, 2, 3, 4, 5)))), '500102030405Z');
  assert.equal(ascii(der.x509Time(new Date(Date.UTC(1949, 11, 31)))), '19491231000000Z');
  assert.throws(() => der.utcTime(first2050), RangeError);
});
