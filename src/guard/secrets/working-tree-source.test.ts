import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../infra/clock.js';
import { tempDir } from '../../../test/support/file-tree.js';
import { SECRETS_NOT_IN_SOURCE } from './secret-finding.js';
import { loadSecretRules } from './secret-rules.js';
import { scanUnits } from './secret-scan.js';
import type { TextDecoding } from './latin1-text.js';
import { BINARY_SNIFF_BYTES, emptySourceStats, type TextUnit } from './text-unit.js';
import { workingTreeUnits } from './working-tree-source.js';

const token = ['gh', 'p_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('');
const options = { maxFileBytes: 1024 * 1024, excludedDirectories: [], decoding: 'latin1' } as const;

async function units(root: string, maxFileBytes = options.maxFileBytes, decoding: TextDecoding = options.decoding) {
  const stats = emptySourceStats();
  const read: TextUnit[] = [];
  for await (const unit of workingTreeUnits(root, { ...options, maxFileBytes, decoding }, stats)) read.push(unit);
  return { read, stats };
}

test('a file over 64 KiB is read whole: a secret across the end of the first read is found at its place', async (t) => {
  const root = await tempDir(t, 'holdfast-tree-');
  // The token starts 10 bytes before the end of the first read (64 KiB) and ends after it.
  const head = 'a'.repeat(64 * 1024 - 10 - 'k = '.length - 1);
  const text = `${head}\nk = ${token}\n${'filler line\n'.repeat(8000)}`;
  await writeFile(join(root, 'big.txt'), text);
  await writeFile(join(root, 'small.txt'), `k = ${token}\n`);
  const { read, stats } = await units(root);
  assert.deepEqual(read.map((unit) => unit.path), ['big.txt', 'small.txt']);
  assert.equal(read[0]!.text, text, 'every byte, in order');
  assert.equal(stats.bytes, Buffer.byteLength(text) + Buffer.byteLength(read[1]!.text));
  const findings = await scanUnits(workingTreeUnits(root, options, emptySourceStats()), { ruleSet: loadSecretRules(), clock: new ManualClock(0), policy: SECRETS_NOT_IN_SOURCE });
  assert.deepEqual(
    findings.map((finding) => [finding.location.path, finding.location.line, finding.location.column, finding.ruleId]),
    [
      ['big.txt', 2, 5, 'github-token'],
      ['small.txt', 1, 5, 'github-token'],
    ],
  );
});

test('binary files are skipped whatever their size, files over the cap and symbolic links too; text is read as Latin-1 or decoded', async (t) => {
  const root = await tempDir(t, 'holdfast-tree-');
  const binaryBig = Buffer.alloc(200 * 1024, 0x41);
  binaryBig[BINARY_SNIFF_BYTES - 1] = 0; // the last byte of the sniff
  await writeFile(join(root, 'big.bin'), binaryBig);
  await writeFile(join(root, 'small.bin'), Buffer.from([0x68, 0x00, 0x69]));
  const lateNul = Buffer.alloc(100 * 1024, 0x41);
  lateNul[BINARY_SNIFF_BYTES] = 0; // after the sniff: text, as git and grep decide
  await writeFile(join(root, 'late-nul.txt'), lateNul);
  await writeFile(join(root, 'over-cap.txt'), 'x'.repeat(2048));
  await writeFile(join(root, 'utf8.txt'), 'naïve — ключ\n');
  await mkdir(join(root, 'dir'));
  await symlink(join(root, 'utf8.txt'), join(root, 'dir', 'link.txt'));
  const { read, stats } = await units(root, 1024 * 1024);
  assert.deepEqual(read.map((unit) => unit.path), ['late-nul.txt', 'over-cap.txt', 'utf8.txt']);
  assert.equal(read[2]!.text, Buffer.from('naïve — ключ\n').toString('latin1'), 'one character per byte');
  assert.equal(read[2]!.decoding, 'latin1');
  const decoded = await units(root, 1024 * 1024, 'utf8');
  assert.equal(decoded.read[2]!.text, 'naïve — ключ\n');
  assert.equal(decoded.read[2]!.decoding, 'utf8');
  assert.equal(stats.skippedBinary, 2);
  const capped = await units(root, 1024);
  assert.deepEqual(capped.read.map((unit) => unit.path), ['utf8.txt']);
  assert.equal(capped.stats.skippedLarge, 3, 'big.bin, late-nul.txt and over-cap.txt');
  assert.equal(capped.stats.skippedBinary, 1, 'small.bin; big.bin is over the cap before it is sniffed');
});

test("screened reads go into the screen's memory: the same texts, counts and findings as reads into the reader's own buffer, across the first read's end, the memory's growth and binary files", async (t) => {
  const root = await tempDir(t, 'holdfast-tree-');
  const rules = loadSecretRules();
  const head = 'a'.repeat(64 * 1024 - 10 - 'k = '.length - 1);
  const lines = Math.floor((3 * 1024 * 1024) / 14);
  const files: Array<[string, string | Buffer]> = [
    ['a-small.txt', `k = ${token}\n`],
    ['b-across.txt', `${head}\nk = ${token}\n${'token line\n'.repeat(8000)}`],
    // 3 MiB: past the screen's first memory; a secret at its end, after every other byte was read.
    ['c-large.txt', `${'token = short\n'.repeat(lines)}k = ${token}\n`],
    ['d-binary.bin', Buffer.concat([Buffer.from(`k = ${token}\n`), Buffer.from([0]), Buffer.alloc(100 * 1024, 0x41)])],
    ['e-small-again.txt', `x\nk = ${token} é\n`],
    ['f-clean.txt', 'nothing here\n'],
  ];
  for (const [name, content] of files) await writeFile(join(root, name), content);
  const judging = { ruleSet: rules, clock: new ManualClock(0), policy: SECRETS_NOT_IN_SOURCE };
  const read = async (screen: boolean) => {
    const stats = emptySourceStats();
    const texts: string[] = [];
    const source = workingTreeUnits(root, { ...options, maxFileBytes: 5 * 1024 * 1024, ...(screen ? { screen: rules.prefilter } : {}) }, stats);
    const findings = await scanUnits(
      (async function* () {
        for await (const unit of source) {
          texts.push(unit.text);
          yield unit;
        }
      })(),
      judging,
    );
    return { texts, stats, findings: findings.map((finding) => `${finding.location.path}:${finding.location.line}:${finding.location.column} ${finding.ruleId} ${finding.fingerprint}`) };
  };
  const intoScreen = await read(true);
  const intoBuffer = await read(false);
  assert.deepEqual(intoScreen.findings, intoBuffer.findings);
  assert.deepEqual(intoScreen.findings.map((finding) => finding.split(' ')[0]), ['a-small.txt:1:5', 'b-across.txt:2:5', `c-large.txt:${lines + 1}:5`, 'e-small-again.txt:2:5']);
  assert.deepEqual(intoScreen.stats, intoBuffer.stats);
  assert.equal(intoScreen.stats.skippedBinary, 1);
  // The screened reader passes on only the texts that can hold a finding, each whole.
  assert.deepEqual(intoScreen.texts, files.filter(([name]) => !name.endsWith('.bin') && name !== 'f-clean.txt').map(([, content]) => Buffer.from(content).toString('latin1')));
});
