import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { text } from 'node:stream/consumers';
import { DumpRowCounter } from './dump-row-counter.js';

const DUMP = [
  '-- MariaDB dump 10.19',
  '/*!40101 SET NAMES utf8mb4 */;',
  'CREATE TABLE `orders` (',
  '  `id` int(11) NOT NULL,',
  '  PRIMARY KEY (`id`)',
  ') ENGINE=InnoDB;',
  'CREATE TABLE `empty` (',
  '  `id` int(11)',
  ');',
  '/*!50001 CREATE VIEW `big_orders` AS SELECT 1 AS `id` */;',
  'INSERT INTO `orders` VALUES (1,\'a (b) c\',NULL),(2,\'it\\\'s \\\\\',0x28),(3,\'\'\'(\'\'\',4.5);',
  'INSERT INTO `orders` VALUES (4,\'x\\n),(\',NULL);',
  'INSERT INTO `we``ird` VALUES (1),(2);',
  'INSERT INTO `new style` VALUES',
  "(1,'a;b'),",
  "(2,'c\\n(d');",
  '',
].join('\n');

test('rows per table are counted from extended inserts, strings with quotes, escapes and parentheses included', async () => {
  const counter = new DumpRowCounter();
  const out = await text(Readable.from([Buffer.from(DUMP, 'utf8')]).pipe(counter));
  assert.equal(out, DUMP, 'the stream passes through unchanged');
  assert.deepEqual(counter.counts(), { orders: 4, empty: 0, 'we`ird': 2, 'new style': 2 });
});

test('counts are the same whatever the chunk boundaries', async () => {
  const bytes = Buffer.from(DUMP, 'utf8');
  for (const size of [1, 2, 3, 7, 64]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    const counter = new DumpRowCounter();
    await text(Readable.from(chunks).pipe(counter));
    assert.deepEqual(counter.counts(), { orders: 4, empty: 0, 'we`ird': 2, 'new style': 2 }, `chunks of ${size}`);
  }
});
