import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseQuery } from './auth/uri-encoding.js';
import { DecodedQuery } from './query-parameters.js';

test('DecodedQuery answers get and has as URLSearchParams does for the same query text', () => {
  // Request targets are ASCII (RFC 9112 3.2): anything else arrives percent-encoded, valid UTF-8 or not.
  const piece = fc.constantFrom('versionId', 'uploadId', 'partNumber', 'acl', 'list-type', 'a', '', '=', '&', '&&', '+', '%2B', '%20', '%', '%zz', '%C3', '%C3%A9', '%E2%82%AC', '%ED%A0%80', 'x=1', 'x=2');
  const queries = fc.array(piece, { maxLength: 10 }).map((parts) => parts.join(''));
  const names = ['versionId', 'uploadId', 'partNumber', 'acl', 'list-type', 'a', 'x', '', ' ', '+', '€', 'x=1'];
  fc.assert(
    fc.property(queries, (raw) => {
      const expected = new URLSearchParams(raw);
      const decoded = new DecodedQuery(parseQuery(raw));
      const present = [...new Set([...expected.keys(), ...names])];
      for (const name of present) {
        assert.equal(decoded.get(name), expected.get(name), `get(${JSON.stringify(name)}) of ${JSON.stringify(raw)}`);
        assert.equal(decoded.has(name), expected.has(name), `has(${JSON.stringify(name)}) of ${JSON.stringify(raw)}`);
      }
    }),
    { numRuns: 3000 },
  );
});
