import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalQueryString, parseQuery, percentDecode, uriEncodeBytes } from './uri-encoding.js';

/** What a query component means, by definition: its bytes after percent-decoding, UTF-8 read, UriEncoded again. */
function byDefinition(raw: string): { decoded: string; encoded: string } {
  const bytes = percentDecode(raw, true);
  return { decoded: bytes.toString('utf8'), encoded: uriEncodeBytes(bytes) };
}

/** Query components as clients write them: unreserved text, escapes in either case (of any byte), `+`, stray `%`, non-ASCII. */
const component = fc
  .array(
    fc.oneof(
      fc.constantFrom('a', 'Z', '9', '-', '_', '.', '~', '+', '%', '/', '*', ' ', 'é', '€', '😀', '%2F', '%2f', '%41', '%7E', '%20', '%E2%82%AC', '%C3', '%ED%A0%80', '%zz'),
      fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

test('parseQuery agrees with the byte-level definition for any component, canonical or not', () => {
  fc.assert(
    fc.property(component, component, (name, value) => {
      const [parsed] = parseQuery(`${name}=${value}`);
      if (name === '' && value === '') return;
      const n = byDefinition(name);
      const v = byDefinition(value);
      assert.deepEqual(parsed, { name: n.decoded, value: v.decoded, encodedName: n.encoded, encodedValue: v.encoded });
    }),
    { numRuns: 3000 },
  );
});

test('a presigned URL query: canonical components pass through, escapes decode', () => {
  const query = parseQuery(
    'X-Amz-Credential=AKID%2F20261126%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=3600&bare&x=a%2fb+c&k=%E2%82%AC&bad=%C3%28',
  );
  assert.deepEqual(query, [
    { name: 'X-Amz-Credential', value: 'AKID/20261126/us-east-1/s3/aws4_request', encodedName: 'X-Amz-Credential', encodedValue: 'AKID%2F20261126%2Fus-east-1%2Fs3%2Faws4_request' },
    { name: 'X-Amz-Expires', value: '3600', encodedName: 'X-Amz-Expires', encodedValue: '3600' },
    { name: 'bare', value: '', encodedName: 'bare', encodedValue: '' },
    { name: 'x', value: 'a/b c', encodedName: 'x', encodedValue: 'a%2Fb%20c' },
    { name: 'k', value: '€', encodedName: 'k', encodedValue: '%E2%82%AC' },
    { name: 'bad', value: '\uFFFD(', encodedName: 'bad', encodedValue: '%C3%28' },
  ]);
});

test('canonicalQueryString sorts by encoded name, then value', () => {
  assert.equal(canonicalQueryString(parseQuery('b=2&a=2&a=1&A=3&a%20b=0')), 'A=3&a=1&a=2&a%20b=0&b=2');
  assert.equal(canonicalQueryString([]), '');
});
