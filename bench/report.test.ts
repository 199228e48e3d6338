import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchOptions } from './bench-options.js';
import { type BenchReport, type Row, renderJson, renderMarkdown, spread, targetVerdicts, throughput } from './report.js';
import type { PointResult } from './workload.js';

/** A 4 KiB point that did `opsPerSecond` over one second. */
function point(opsPerSecond: number, errors = 0): PointResult {
  return { ops: opsPerSecond, bytes: opsPerSecond * 4096, elapsedMs: 1000, errors, errorSamples: errors > 0 ? ['PUT k: HTTP 500'] : [] };
}

function smallPutRow(holdfast: number[], s3rver: number[]): Row {
  return {
    id: 'put-small-c64',
    label: 'PUT 4 KiB c=64, ops/s',
    unit: 'ops/s',
    target: { against: 's3rver', atLeast: 3 },
    cells: { holdfast: holdfast.map((v) => point(v)), s3rver: s3rver.map((v) => point(v)), raw: [point(9000)], ceiling: [point(12000)] },
  };
}

function reportOf(rows: Row[], rounds = 3): BenchReport {
  const options = parseBenchOptions(['--rounds', String(rounds)]);
  assert.notEqual(options, 'help');
  return {
    startedAt: '2026-11-27T00:00:00.000Z',
    durationMs: 1000,
    options: options as Exclude<typeof options, 'help'>,
    machine: { cpu: 'test CPU', cores: 2, memoryGiB: 4, node: '20', kernel: '6', filesystem: 'ext4' },
    rows,
    peakRssBytes: {},
    otherCpuCores: {},
    idleCpuCores: { s3rver: 0.001 },
    failures: [],
  };
}

test('a column of several rounds is summarised by its median, with the range beside it', () => {
  const row = smallPutRow([5000, 4000, 6200], [1500, 2100, 1600]);
  assert.deepEqual(spread(row, 'holdfast'), { median: 5000, min: 4000, max: 6200, rounds: [5000, 4000, 6200] });
  assert.equal(throughput(row, 's3rver'), 1600);
  assert.equal(throughput(smallPutRow([1000, 3000], [1]), 'holdfast'), 2000, 'an even count takes the mean of the middle two');
  const table = renderMarkdown(reportOf([row]));
  assert.match(table, /\| PUT 4 KiB c=64, ops\/s \| 5,000 \(4,000–6,200\) \| 1,600 \(1,500–2,100\) \| 9,000 \| 12,000 \| 3\.13× \|/);
  assert.match(table, /median of 3 rounds per column/);
});

test('the target verdict compares the medians, not one round nor the mean', () => {
  // Round by round Holdfast/s3rver is 3.33×, 1.43× (a neighbour's burst in Holdfast's second
  // round), 3.1×: the first round alone says met, the means say missed (2.6×), the medians met.
  const burst = smallPutRow([5000, 3000, 4650], [1500, 2100, 1500]);
  const [verdict] = targetVerdicts(reportOf([burst]));
  assert.equal(verdict?.met, true);
  assert.equal(verdict?.ratio, 4650 / 1500);
  // And a single lucky round does not carry a column whose medians miss.
  const lucky = smallPutRow([6000, 4000, 4100], [1500, 1500, 1500]);
  assert.equal(targetVerdicts(reportOf([lucky]))[0]?.met, false);
  assert.match(renderMarkdown(reportOf([lucky])), /≥ 3× s3rver: \*\*missed\*\*/);
});

test('errors of every round count, and a round without a successful request is left out and shown', () => {
  const row: Row = { ...smallPutRow([5000], [1500]), cells: { holdfast: [point(5000), point(0, 3), point(4800, 2)], s3rver: [point(1500)] } };
  assert.deepEqual(spread(row, 'holdfast')?.rounds, [5000, 4800]);
  const report = reportOf([row]);
  const table = renderMarkdown(report);
  assert.match(table, /4,900 \(4,800–5,000\) ⚠ 1 of 3 rounds failed ⚠ 5 errors/);
  assert.match(table, /RUN FLAGGED\*\*: 5 failed requests/);
  const json = JSON.parse(renderJson(report)) as { errors: number; rows: Array<{ spread: { holdfast: { median: number } } }> };
  assert.equal(json.errors, 5);
  assert.equal(json.rows[0]?.spread.holdfast.median, 4900);
});

test('--rounds defaults to 3 for a full run and 1 for --quick, and refuses what is not a small whole number', () => {
  const full = parseBenchOptions([]);
  const quick = parseBenchOptions(['--quick']);
  assert.ok(full !== 'help' && quick !== 'help');
  assert.equal(full.rounds, 3);
  assert.equal(quick.rounds, 1);
  const five = parseBenchOptions(['--quick', '--rounds', '5']);
  assert.ok(five !== 'help');
  assert.equal(five.rounds, 5);
  assert.ok(five.budgetMs > quick.budgetMs, 'more rounds, a longer budget');
  for (const bad of ['0', '-1', '2.5', 'three', '10']) {
    assert.throws(() => parseBenchOptions([`--rounds=${bad}`]), /--rounds: use a whole number from 1 to 9/);
  }
});
