import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeXml } from './escape-xml.js';

test('escapeXml escapes the five XML specials, apostrophes included, and nothing else', () => {
  assert.equal(escapeXml(`a&b<c>d"e'f ü/`), 'a&amp;b&lt;c&gt;d&quot;e&apos;f ü/');
});
