import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiffUnitParser } from './diff-unit-parser.js';
import { emptySourceStats, type TextUnit } from './text-unit.js';

const token = ['gh', 'p_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('');
/** Two commits as `git log -p -U1 --format=%x00%H%x00%an <%ae>%x00%aI` prints them, read as Latin-1. */
const history = Buffer.from(
  [
    '\0c2\0Zoë Dev <zoe@example.org>\x002030-01-02T00:00:00+00:00',
    '',
    'diff --git "a/caf\\303\\251.env" "b/caf\\303\\251.env"',
    'index 1..2 100644',
    '--- "a/caf\\303\\251.env"',
    '+++ "b/caf\\303\\251.env"',
    '@@ -1,2 +1,3 @@',
    ' REGION=eu',
    `+GH_TOKEN=${token}`,
    ' # — end',
    'diff --git a/logo.png b/logo.png',
    'Binary files a/logo.png and b/logo.png differ',
    '\0c1\0Ana <ana@example.org>\x002030-01-01T00:00:00+00:00',
    '',
    'diff --git a/gone.txt b/gone.txt',
    '--- a/gone.txt',
    '+++ /dev/null',
    '@@ -1 +0,0 @@',
    '-old',
    'diff --git a/notes.md b/notes.md',
    '--- /dev/null',
    '+++ b/notes.md',
    '@@ -0,0 +7,2 @@',
    '+ligne é',
    '+last',
  ].join('\n'),
).toString('latin1');

function parse(pieces: readonly string[]): { units: TextUnit[]; skippedBinary: number } {
  const stats = emptySourceStats();
  const parser = new DiffUnitParser({ maxUnitBytes: 1024, decoding: 'latin1' }, stats);
  const units: TextUnit[] = [];
  for (const piece of pieces) {
    parser.write(piece);
    units.push(...parser.take());
  }
  parser.end();
  units.push(...parser.take());
  return { units, skippedBinary: stats.skippedBinary };
}

test('a diff becomes one unit per file per commit: added and context lines with their numbers, headers decoded', () => {
  const { units, skippedBinary } = parse([history]);
  assert.equal(skippedBinary, 1);
  assert.deepEqual(
    units.map((unit) => ({ path: unit.path, author: unit.commit?.author, numbers: unit.lines?.numbers, added: unit.lines?.added })),
    [
      { path: 'café.env', author: 'Zoë Dev <zoe@example.org>', numbers: [1, 2, 3], added: [false, true, false] },
      { path: 'notes.md', author: 'Ana <ana@example.org>', numbers: [7, 8], added: [true, true] },
    ],
  );
  assert.equal(units[0]!.text, `REGION=eu\nGH_TOKEN=${token}\n${Buffer.from('# — end').toString('latin1')}`);
  assert.equal(units[1]!.decoding, 'latin1');
});

test('lines cut between the pieces of the output make the same units, wherever the cuts fall', () => {
  const whole = JSON.stringify(parse([history]));
  for (let cut = 1; cut < history.length; cut += 7) {
    assert.equal(JSON.stringify(parse([history.slice(0, cut), history.slice(cut)])), whole, `cut at ${cut}`);
  }
  assert.equal(JSON.stringify(parse([...history])), whole, 'one character at a time');
});
