import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { AUDIT_FIELD_LIMITS, type AuditFields, GENESIS_HASH, boundAuditFields, boundText } from './audit-entry.js';
import { auditEntryHash, auditEntryJson, canonicalAuditJson, sealAuditEntry } from './canonical-encoding.js';

const TIME = Date.UTC(2031, 4, 6, 7, 8, 9, 123);

const fields: AuditFields = {
  kind: 'config-change',
  identity: 'alice',
  accessKeyId: 'HFALICE00000000001',
  action: 'admin:SetRetentionBounds',
  resource: 'backups',
  result: 'ok',
  status: 200,
  sourceIp: '192.0.2.1',
  requestId: 'r1',
  details: { maxDays: 90, '2': 'b', a: true, '10': null, Z: 'ü' },
};

test('the canonical encoding is the documented JSON: fixed member order, nulls for absent fields, sorted details', () => {
  const entry = boundAuditFields(fields, 1, TIME, GENESIS_HASH);
  assert.equal(
    canonicalAuditJson(entry),
    '{"seq":1,"timeMs":1935817689123,"kind":"config-change","identity":"alice","accessKeyId":"HFALICE00000000001",' +
      '"action":"admin:SetRetentionBounds","resource":"backups","versionId":null,"result":"ok","status":200,"errorCode":null,' +
      '"sourceIp":"192.0.2.1","requestId":"r1","userAgent":null,"details":{"10":null,"2":"b","Z":"ü","a":true,"maxDays":90},' +
      `"prevHash":"${GENESIS_HASH}"}`,
  );
});

test('the hash is SHA-256 over the raw previous hash and the canonical bytes, computable without Holdfast', () => {
  const first = sealAuditEntry(boundAuditFields(fields, 1, TIME, GENESIS_HASH));
  const second = sealAuditEntry(boundAuditFields({ ...fields, result: 'denied' }, 2, TIME + 1, first.hash));
  for (const entry of [first, second]) {
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from(entry.prevHash, 'hex'), Buffer.from(canonicalAuditJson(entry), 'utf8')]))
      .digest('hex');
    assert.equal(entry.hash, expected);
  }
  // Pinned: a change to the encoding breaks every existing chain, so it must be deliberate.
  assert.equal(first.hash, auditEntryHash(boundAuditFields(fields, 1, TIME, GENESIS_HASH)));
  assert.match(first.hash, /^[0-9a-f]{64}$/);
  assert.notEqual(first.hash, second.hash);
});

test('an export line is the canonical encoding plus the hash, and parses as JSON', () => {
  const entry = sealAuditEntry(boundAuditFields(fields, 1, TIME, GENESIS_HASH));
  const line = auditEntryJson(entry);
  const cut = line.slice(0, line.lastIndexOf(',"hash":')) + '}';
  assert.equal(cut, canonicalAuditJson(entry));
  const parsed = JSON.parse(line) as Record<string, unknown>;
  assert.equal(parsed.hash, entry.hash);
  assert.equal(parsed.versionId, null);
  assert.deepEqual(Object.keys(parsed).slice(0, 3), ['seq', 'timeMs', 'kind']);
});

test('every field counts: changing any one changes the hash', () => {
  const base = boundAuditFields({ ...fields, versionId: 'v1', errorCode: 'X', userAgent: 'ua' }, 7, TIME, 'ab'.repeat(32));
  const hash = auditEntryHash(base);
  const variants = [
    { seq: 8 }, { timeMs: TIME + 1 }, { kind: 'request' }, { identity: 'alice2' }, { accessKeyId: 'x' }, { action: 'y' },
    { resource: 'backups/k' }, { versionId: 'v2' }, { result: 'denied' }, { status: 403 }, { errorCode: 'Y' }, { sourceIp: '192.0.2.2' },
    { requestId: 'r2' }, { userAgent: 'ub' }, { details: { maxDays: 91 } }, { prevHash: 'ac'.repeat(32) }, { versionId: undefined },
  ] as const;
  for (const change of variants) assert.notEqual(auditEntryHash({ ...base, ...change }), hash, JSON.stringify(change));
});

test('values are bounded: long client-supplied strings are cut, secrets in details are redacted', () => {
  const entry = boundAuditFields(
    {
      ...fields,
      userAgent: 'x'.repeat(10_000),
      resource: 'b/' + 'k'.repeat(5_000),
      details: {
        Authorization: 'AWS4-HMAC-SHA256 Credential=…, Signature=abc',
        'x-amz-security-token': 'tok',
        secretAccessKey: 'shh',
        ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v'.repeat(2_000)])),
      },
    },
    1,
    TIME,
    GENESIS_HASH,
  );
  assert.equal(entry.userAgent!.length, AUDIT_FIELD_LIMITS.userAgent);
  assert.ok(entry.userAgent!.endsWith('…'));
  assert.equal(entry.resource.length, AUDIT_FIELD_LIMITS.resource);
  const details = entry.details!;
  assert.equal(Object.keys(details).length, AUDIT_FIELD_LIMITS.detailKeys);
  assert.equal(details.Authorization, '**redacted**');
  const canonical = canonicalAuditJson(entry);
  for (const secret of ['Signature=abc', '"tok"', 'shh']) assert.ok(!canonical.includes(secret), secret);
  const few = boundAuditFields({ ...fields, details: { 'x-amz-security-token': 'tok', secretAccessKey: 'shh', Cookie: 'c', retainDays: 3 } }, 1, TIME, GENESIS_HASH);
  assert.deepEqual(few.details, { 'x-amz-security-token': '**redacted**', secretAccessKey: '**redacted**', Cookie: '**redacted**', retainDays: 3 });
  for (const value of Object.values(details)) assert.ok(typeof value !== 'string' || value.length <= AUDIT_FIELD_LIMITS.detailString);
});

test('bounding never splits a surrogate pair and replaces lone surrogates', () => {
  assert.equal(boundText('ab🔒cd', 4), 'ab…');
  assert.equal(boundText('abc🔒d', 5), 'abc…');
  assert.equal(boundText('a\ud800b', 10), 'a\ufffdb');
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.integer({ min: 2, max: 30 }), (value, max) => {
      const bounded = boundText(value, max);
      assert.ok(bounded.length <= max);
      assert.ok(bounded.isWellFormed());
      // UTF-8 round trip (what a store does) keeps it identical.
      assert.equal(Buffer.from(bounded, 'utf8').toString('utf8'), bounded);
    }),
  );
});

test('programming errors are refused, not recorded', () => {
  assert.throws(() => boundAuditFields({ ...fields, kind: 'nope' as 'request' }, 1, TIME, GENESIS_HASH), TypeError);
  assert.throws(() => boundAuditFields({ ...fields, result: 'maybe' as 'ok' }, 1, TIME, GENESIS_HASH), TypeError);
  assert.throws(() => boundAuditFields({ ...fields, status: 200.5 }, 1, TIME, GENESIS_HASH), TypeError);
  assert.throws(() => boundAuditFields(fields, 1, Number.NaN, GENESIS_HASH), TypeError);
});

test('non-finite and negative-zero numbers in details encode deterministically', () => {
  const entry = boundAuditFields({ ...fields, details: { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: -0, d: 0.1 } }, 1, TIME, GENESIS_HASH);
  assert.deepEqual(entry.details, { a: null, b: null, c: 0, d: 0.1 });
  assert.ok(canonicalAuditJson(entry).includes('"details":{"a":null,"b":null,"c":0,"d":0.1}'));
});

test('every member is encoded exactly as JSON.stringify encodes it, whatever the characters (the documented rule)', () => {
  const member = (value: unknown) => JSON.stringify(value ?? null);
  const reference = (e: ReturnType<typeof boundAuditFields>): string => {
    const keys = e.details === undefined ? [] : Object.keys(e.details).sort();
    const details = e.details === undefined ? 'null' : `{${keys.map((k) => `${JSON.stringify(k)}:${member(e.details![k])}`).join(',')}}`;
    return (
      `{"seq":${member(e.seq)},"timeMs":${member(e.timeMs)},"kind":${member(e.kind)},"identity":${member(e.identity)},` +
      `"accessKeyId":${member(e.accessKeyId)},"action":${member(e.action)},"resource":${member(e.resource)},"versionId":${member(e.versionId)},` +
      `"result":${member(e.result)},"status":${member(e.status)},"errorCode":${member(e.errorCode)},"sourceIp":${member(e.sourceIp)},` +
      `"requestId":${member(e.requestId)},"userAgent":${member(e.userAgent)},"details":${details},"prevHash":${member(e.prevHash)}}`
    );
  };
  const awkward = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', '\u2028', '\ud800', '\udfff', 'a\ud83d', '😀', 'é', '</script>'),
  );
  const detailValue = fc.oneof(awkward, fc.double(), fc.integer(), fc.boolean(), fc.constant(null));
  fc.assert(
    fc.property(awkward, awkward, fc.option(awkward, { nil: undefined }), fc.dictionary(awkward, detailValue, { maxKeys: 5 }), fc.integer({ min: 100, max: 599 }), (identity, resource, userAgent, details, status) => {
      // Not bounded: entries read back from a store are encoded as they are, lone surrogates included.
      const entry = { ...boundAuditFields({ ...fields, status }, 7, TIME, GENESIS_HASH), identity, resource, userAgent, details };
      const canonical = canonicalAuditJson(entry);
      assert.equal(canonical, reference(entry));
      assert.deepEqual(Object.keys(JSON.parse(canonical) as object).length, 16);
    }),
    { numRuns: 2000 },
  );
});
